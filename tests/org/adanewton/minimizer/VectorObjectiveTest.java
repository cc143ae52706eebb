package org.adanewton.minimizer;

import static org.adanewton.Tolerances.*;
import static org.junit.jupiter.api.Assertions.*;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.adanewton.api.IterationSummary;
import org.adanewton.api.MiniBatchObjective;
import org.adanewton.api.Objective;
import org.adanewton.api.Summary;
import org.adanewton.api.TerminationType;
import org.adanewton.api.VectorObjective;
import org.adanewton.backend.Backend;
import org.adanewton.backend.BackendKind;
import org.adanewton.backend.CountingBackend;
import org.adanewton.backend.Vector;
import org.adanewton.backend.cpu.CpuBackend;
import org.adanewton.backend.java.JavaBackend;
import org.adanewton.problems.ChainedRosenbrock;
import org.adanewton.problems.Quadratic;
import org.adanewton.subproblem.KrylovOptions;
import org.junit.jupiter.api.Test;

/**
 * Objectives over backend vectors (VectorObjective, MiniBatchObjective) through VectorObjectiveProblem,
 * Minimize.minimize and SecondOrderStep: derivatives against finite differences and against the
 * double[] test problems, convergence on the Java and CPU backends, in-place use of the caller's
 * vectors (no copy per call, no vector made in steady state), bad input, NaN handling and batch losses.
 */
class VectorObjectiveTest {
    /** float32 CPU runs: the gradient tolerance they can reach and the distance to the minimizer. */
    static final double FLOAT_GTOL = 1e-3, FLOAT_XTOL = 2e-3;
    /** Double runs on the Java backend. */
    static final double DOUBLE_GTOL = 1e-8, DOUBLE_XTOL = 1e-6;

    /** Element access to a vector's own storage: the double[] on the Java backend, the FloatBuffer view on the CPU backend. */
    interface Store {
        double get(int i);

        void set(int i, double value);
    }

    static Store store(Vector v) {
        if (v.backend().kind() == BackendKind.JAVA) {
            double[] a = JavaBackend.array(v);
            return new Store() {
                public double get(int i) { return a[i]; }

                public void set(int i, double value) { a[i] = value; }
            };
        }
        FloatBuffer b = CpuBackend.buffer(v);
        return new Store() {
            public double get(int i) { return b.get(i); }

            public void set(int i, double value) { b.put(i, (float) value); }
        };
    }

    /** Chained Rosenbrock written in place on the vectors' storage (the same formulas as problems.ChainedRosenbrock). */
    static final class InPlaceRosenbrock implements VectorObjective {
        final int n;

        InPlaceRosenbrock(int n) {
            this.n = n;
        }

        public int dimension() {
            return n;
        }

        public double value(Vector xv) {
            Store x = store(xv);
            double f = 0;
            for (int i = 0; i < n - 1; i++) {
                double a = x.get(i + 1) - x.get(i) * x.get(i), b = 1 - x.get(i);
                f += 100 * a * a + b * b;
            }
            return f;
        }

        public double gradient(Vector xv, Vector gv) {
            Store x = store(xv), g = store(gv);
            for (int i = 0; i < n; i++) g.set(i, 0);
            double f = 0;
            for (int i = 0; i < n - 1; i++) {
                double xi = x.get(i), a = x.get(i + 1) - xi * xi, b = 1 - xi;
                f += 100 * a * a + b * b;
                g.set(i, g.get(i) - 400 * a * xi - 2 * b);
                g.set(i + 1, g.get(i + 1) + 200 * a);
            }
            return f;
        }

        public void hessianVector(Vector xv, Vector vv, Vector hvv) {
            Store x = store(xv), v = store(vv), hv = store(hvv);
            for (int i = 0; i < n; i++) hv.set(i, 0);
            for (int i = 0; i < n - 1; i++) {
                double xi = x.get(i), hii = 1200 * xi * xi - 400 * x.get(i + 1) + 2, hij = -400 * xi, hjj = 200;
                hv.set(i, hv.get(i) + hii * v.get(i) + hij * v.get(i + 1));
                hv.set(i + 1, hv.get(i + 1) + hij * v.get(i) + hjj * v.get(i + 1));
            }
        }
    }

    /** f = 1/2 x'Dx - b'x with D = diag(d), by the backend's own operations only (runs on any backend); the minimizer is b / d. */
    static final class DiagonalQuadratic implements VectorObjective, AutoCloseable {
        final Vector d, b;
        final Backend be;

        DiagonalQuadratic(Backend be, double[] d, double[] b) {
            this.be = be;
            this.d = be.vector(d);
            this.b = be.vector(b);
        }

        static DiagonalQuadratic create(Backend be, int n) {
            double[] d = new double[n], b = new double[n];
            for (int i = 0; i < n; i++) {
                d[i] = Math.pow(100, (double) i / Math.max(1, n - 1)); // spectrum in [1, 100]
                b[i] = 1 + (i % 5);
            }
            return new DiagonalQuadratic(be, d, b);
        }

        double[] solution() {
            double[] dd = d.toArray(), bb = b.toArray(), x = new double[dd.length];
            for (int i = 0; i < x.length; i++) x[i] = bb[i] / dd[i];
            return x;
        }

        public int dimension() {
            return d.length();
        }

        public double value(Vector x) {
            double q = be.weightedNorm(d, x);
            return 0.5 * q * q - be.dot(b, x);
        }

        public double gradient(Vector x, Vector g) {
            be.multiply(d, x, g);
            be.axpy(-1, b, g);
            return value(x);
        }

        public void hessianVector(Vector x, Vector v, Vector hv) {
            be.multiply(d, v, hv);
        }

        public void close() {
            d.close();
            b.close();
        }
    }

    static MinimizerOptions options(Method method, double gtol) {
        return MinimizerOptions.builder().method(method).gradientTolerance(gtol).maxIterations(3000)
                .krylov(new KrylovOptions(200, 0.1, KrylovOptions.StoppingRule.RESIDUAL)).build();
    }

    static double[] randomPoint(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] x = new double[n];
        for (int i = 0; i < n; i++) x[i] = r.nextDouble(-1.5, 1.5);
        return x;
    }

    @Test
    void inPlaceRosenbrockMatchesTheProblemsObjective() {
        int n = 9;
        ChainedRosenbrock ref = new ChainedRosenbrock(n);
        JavaBackend be = new JavaBackend();
        InPlaceRosenbrock obj = new InPlaceRosenbrock(n);
        for (long seed = 1; seed <= 5; seed++) {
            double[] x = randomPoint(n, seed), v = randomPoint(n, seed + 100), g = new double[n], hv = new double[n];
            double f = ref.gradient(x, g);
            ref.hessianVector(x, v, hv);
            try (Vector xv = be.vector(x); Vector vv = be.vector(v); Vector gv = be.allocate(n); Vector hvv = be.allocate(n)) {
                assertClose("f", obj.gradient(xv, gv), f, DOUBLE_ATOL, DOUBLE_RTOL);
                assertClose("value", obj.value(xv), ref.value(x), DOUBLE_ATOL, DOUBLE_RTOL);
                obj.hessianVector(xv, vv, hvv);
                assertClose("g", gv.toArray(), g, DOUBLE_ATOL, DOUBLE_RTOL);
                assertClose("Hv", hvv.toArray(), hv, DOUBLE_ATOL, DOUBLE_RTOL);
            }
        }
    }

    /** The adapter's gradient against central differences of its values, and its curvature against central differences of its gradients. */
    @Test
    void adapterDerivativesMatchFiniteDifferences() {
        JavaBackend be = new JavaBackend();
        int n = 7;
        try (DiagonalQuadratic quad = DiagonalQuadratic.create(be, n)) {
            for (VectorObjective obj : List.of(new InPlaceRosenbrock(n), quad)) {
                VectorObjectiveProblem p = new VectorObjectiveProblem(be, obj);
                double[] x = randomPoint(n, 3), v = randomPoint(n, 4);
                double h = FD_STEP;
                try (Vector xv = be.vector(x); Vector g = be.allocate(n); Vector gp = be.allocate(n); Vector gm = be.allocate(n);
                        Vector shifted = be.allocate(n); Vector vv = be.vector(v); Vector hv = be.allocate(n)) {
                    double[] fd = new double[n];
                    for (int i = 0; i < n; i++) {
                        double[] e = x.clone();
                        e[i] += h;
                        be.set(shifted, e);
                        double fp = p.value(shifted);
                        e[i] -= 2 * h;
                        be.set(shifted, e);
                        fd[i] = (fp - p.value(shifted)) / (2 * h);
                    }
                    be.copy(xv, shifted);
                    be.axpy(h, vv, shifted);
                    p.gradient(shifted, gp);
                    be.copy(xv, shifted);
                    be.axpy(-h, vv, shifted);
                    p.gradient(shifted, gm);
                    double f = p.gradient(xv, g);
                    assertClose(obj.name() + " f", f, p.value(xv), DOUBLE_ATOL, DOUBLE_RTOL);
                    assertClose(obj.name() + " gradient vs FD", g.toArray(), fd, FD_ATOL, FD_RTOL);
                    p.curvature().apply(vv, hv);
                    double[] a = gp.toArray(), b = gm.toArray(), hvFd = new double[n];
                    for (int i = 0; i < n; i++) hvFd[i] = (a[i] - b[i]) / (2 * h);
                    assertClose(obj.name() + " Hv vs FD", hv.toArray(), hvFd, FD_ATOL, FD_RTOL);
                }
            }
        }
    }

    @Test
    void minimizesRosenbrockAndAQuadraticOnTheJavaAndCpuBackends() {
        for (Backend be : new Backend[] {new JavaBackend(), new CpuBackend(2)}) {
            boolean dbl = be.kind() == BackendKind.JAVA;
            double gtol = dbl ? DOUBLE_GTOL : FLOAT_GTOL, xtol = dbl ? DOUBLE_XTOL : FLOAT_XTOL;
            for (Method method : new Method[] {Method.TR_STEIHAUG, Method.TR_GLTR, Method.ARC}) {
                ChainedRosenbrock ref = new ChainedRosenbrock(2);
                MinimizeResult r = Minimize.minimize(be, new InPlaceRosenbrock(2), ref.start(), options(method, gtol));
                String what = be.kind() + " " + method + " rosenbrock: " + r.summary().report();
                assertEquals(TerminationType.CONVERGENCE, r.termination(), what);
                assertClose(what, r.x(), new double[] {1, 1}, xtol, 0);
                if (dbl) {
                    // 10-D in double: the same point as the double[] problem through ObjectiveProblem (a local minimum near (-1, 1, ..., 1)
                    // or the global one, wherever the common iterates lead)
                    ChainedRosenbrock ref10 = new ChainedRosenbrock(10);
                    MinimizeResult r10 = Minimize.minimize(be, new InPlaceRosenbrock(10), ref10.start(), options(method, gtol));
                    MinimizeResult old10 = Minimize.minimize(ref10, ref10.start(), options(method, gtol));
                    assertEquals(TerminationType.CONVERGENCE, r10.termination(), r10.summary().report());
                    assertClose(method + " 10-D x", r10.x(), old10.x(), DOUBLE_XTOL, 0);
                    assertClose(method + " 10-D f", r10.f(), old10.f(), DOUBLE_ATOL, DOUBLE_XTOL);
                }

                try (DiagonalQuadratic q = DiagonalQuadratic.create(be, 50)) {
                    MinimizeResult rq = Minimize.minimize(be, q, new double[50], options(method, gtol));
                    assertEquals(TerminationType.CONVERGENCE, rq.termination(), be.kind() + " " + method + " quadratic: " + rq.summary().report());
                    assertClose(be.kind() + " " + method + " quadratic", rq.x(), q.solution(), xtol, xtol);
                }
            }
        }
    }

    /** A VectorObjective that copies through double[] around a double[] Objective: on the Java backend it must follow ObjectiveProblem's iterates exactly. */
    static VectorObjective copying(Objective o) {
        return new VectorObjective() {
            public int dimension() { return o.dimension(); }

            public double value(Vector x) { return o.value(x.toArray()); }

            public double gradient(Vector x, Vector g) {
                double[] gg = new double[o.dimension()];
                double f = o.gradient(x.toArray(), gg);
                g.backend().set(g, gg);
                return f;
            }

            public void hessianVector(Vector x, Vector v, Vector hv) {
                double[] out = new double[o.dimension()];
                o.hessianVector(x.toArray(), v.toArray(), out);
                hv.backend().set(hv, out);
            }
        };
    }

    @Test
    void followsObjectiveProblemsIteratesOnTheProblemsQuadratic() {
        Quadratic q = new Quadratic(60, 1e-2, 1e2, 0, 7);
        for (Method method : new Method[] {Method.TR_STEIHAUG, Method.ARC}) {
            MinimizeResult old = Minimize.minimize(q, new double[60], options(method, DOUBLE_GTOL));
            MinimizeResult now = Minimize.minimize(new JavaBackend(), copying(q), new double[60], options(method, DOUBLE_GTOL));
            assertEquals(TerminationType.CONVERGENCE, now.termination(), now.summary().report());
            assertEquals(old.iterations(), now.iterations());
            assertEquals(old.gradients(), now.gradients());
            assertEquals(old.products(), now.products());
            assertClose("x", now.x(), old.x(), DOUBLE_ATOL, DOUBLE_RTOL);
        }
    }

    @Test
    void minimizeResultHasThePointTheValueAndTheCounts() {
        ChainedRosenbrock rosen = new ChainedRosenbrock(2);
        double[] start = rosen.start(), copy = start.clone();
        MinimizeResult r = Minimize.minimize(rosen, start, options(Method.TR_STEIHAUG, DOUBLE_GTOL));
        assertArrayEquals(copy, start, "x0 is not modified");
        assertTrue(r.isSuccess());
        assertEquals(TerminationType.CONVERGENCE, r.termination());
        assertClose("x", r.x(), new double[] {1, 1}, DOUBLE_XTOL, 0);
        assertClose("f", r.f(), rosen.value(r.x()), DOUBLE_ATOL, DOUBLE_RTOL);
        assertTrue(r.f() < 1e-12, "f = " + r.f());
        assertTrue(r.gradientNorm() <= DOUBLE_GTOL);
        Summary s = r.summary();
        assertEquals(s.message(), r.message());
        assertEquals(s.iterations(), r.iterations());
        assertEquals(s.gradients(), r.gradients());
        assertEquals(s.functionValues(), r.functionValues());
        assertEquals(s.products(), r.products());
        assertEquals(s.finalValue(), r.f());
        assertEquals(s.finalGradientNorm(), r.gradientNorm());
        assertFalse(s.stochastic());
        assertTrue(s.report().contains("  f: "), s.report());
        assertTrue(Double.isNaN(s.history().get(0).batchLoss()));
        assertEquals(s.history().get(0).value(), s.history().get(0).objectiveValue());

        // the Vector overload minimizes in place
        JavaBackend be = new JavaBackend();
        try (Vector x = be.vector(rosen.start())) {
            MinimizeResult rv = Minimize.minimize(new InPlaceRosenbrock(2), x, options(Method.TR_STEIHAUG, DOUBLE_GTOL));
            assertArrayEquals(rv.x(), x.toArray());
            assertEquals(r.iterations(), rv.iterations(), "the same iterations as the double[] objective");
        }
    }

    @Test
    void badInputIsRefusedNamingTheParameter() {
        JavaBackend be = new JavaBackend();
        MinimizerOptions o = options(Method.TR_STEIHAUG, DOUBLE_GTOL);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Minimize.minimize(be, new InPlaceRosenbrock(3), new double[4], o));
        assertEquals("x0 has length 4; must be 3 (the objective's dimension)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Minimize.minimize(new ChainedRosenbrock(2), new double[] {0, Double.NaN}, o));
        assertEquals("x0[1] = NaN; must be finite", e.getMessage());
        try (Vector x = be.allocate(5); Vector bad = be.vector(1, Double.POSITIVE_INFINITY, 3)) {
            e = assertThrows(IllegalArgumentException.class, () -> Minimize.minimize(new InPlaceRosenbrock(3), x, o));
            assertEquals("x has length 5; must be 3 (the objective's dimension)", e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> Minimize.minimize(new InPlaceRosenbrock(3), bad, o));
            assertEquals("x has 1 NaN or infinite entries; must be finite", e.getMessage());
            try (SecondOrderStep step = new SecondOrderStep(x, o)) {
                e = assertThrows(IllegalArgumentException.class, () -> step.step(new InPlaceRosenbrock(4)));
                assertEquals("closure dimension = 4; must be 5 (the parameters' length)", e.getMessage());
            }
        }
        e = assertThrows(IllegalArgumentException.class, () -> new VectorObjectiveProblem(be, new InPlaceRosenbrock(0)));
        assertEquals("objective dimension = 0; must be >= 1", e.getMessage());
        // storage accessors name the backend they need
        try (CpuBackend cpu = new CpuBackend(1); Vector c = cpu.allocate(3); Vector j = be.allocate(3)) {
            e = assertThrows(IllegalArgumentException.class, () -> CpuBackend.buffer(j));
            assertEquals("v is a JAVA vector; CpuBackend.buffer needs a CPU vector", e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> JavaBackend.array(c));
            assertEquals("v is a CPU vector; JavaBackend.array needs a JAVA vector", e.getMessage());
        }
    }

    @Test
    void nanFromTheObjectiveIsAnInvalidStep() {
        JavaBackend be = new JavaBackend();
        InPlaceRosenbrock rosen = new InPlaceRosenbrock(2);
        VectorObjective nanProducts = new VectorObjective() {
            public int dimension() { return 2; }

            public double value(Vector x) { return rosen.value(x); }

            public double gradient(Vector x, Vector g) { return rosen.gradient(x, g); }

            public void hessianVector(Vector x, Vector v, Vector hv) { be.fill(hv, Double.NaN); }
        };
        MinimizeResult r = Minimize.minimize(be, nanProducts, new double[] {-1.2, 1}, options(Method.TR_STEIHAUG, DOUBLE_GTOL).toBuilder()
                .maxConsecutiveInvalid(6).build());
        assertEquals(TerminationType.NUMERICAL_FAILURE, r.termination(), r.summary().report());
        assertEquals(6, r.summary().invalid());
        // NaN values outside |x| <= 2: shrinking steps, then convergence as usual
        VectorObjective nanOutside = new VectorObjective() {
            public int dimension() { return 2; }

            public double value(Vector x) { return be.norm(x) > 2 ? Double.NaN : rosen.value(x); }

            public double gradient(Vector x, Vector g) { return rosen.gradient(x, g); }

            public void hessianVector(Vector x, Vector v, Vector hv) { rosen.hessianVector(x, v, hv); }
        };
        MinimizeResult ok = Minimize.minimize(be, nanOutside, new double[] {-1.2, 1}, options(Method.TR_STEIHAUG, DOUBLE_GTOL).toBuilder()
                .trustRegion(TrustRegionPolicy.DEFAULT.withInitialRadius(10)).build());
        assertEquals(TerminationType.CONVERGENCE, ok.termination(), ok.summary().report());
        assertTrue(ok.summary().invalid() > 0, ok.summary().report());
    }

    /**
     * No copy per call: the objective gets the caller's x and the minimizer's and solver's own
     * vectors (the same instances every iteration, marked written after each product), and
     * steady-state iterations make no vector at all (counted by a backend wrapper).
     */
    @Test
    void theObjectiveWorksOnTheSolversOwnVectorsAndIterationsMakeNone() {
        for (Method method : new Method[] {Method.TR_STEIHAUG, Method.TR_GLTR, Method.ARC}) {
            CountingBackend be = new CountingBackend(new JavaBackend());
            int n = 400;
            try (DiagonalQuadratic q = DiagonalQuadratic.create(be, n); Vector x = be.allocate(n)) {
                Set<Vector> points = Collections.newSetFromMap(new IdentityHashMap<>()), gradients = Collections.newSetFromMap(new IdentityHashMap<>()),
                        inputs = Collections.newSetFromMap(new IdentityHashMap<>()), outputs = Collections.newSetFromMap(new IdentityHashMap<>());
                long[] products = {0};
                VectorObjective spy = new VectorObjective() {
                    public int dimension() { return n; }

                    public double value(Vector v) { return q.value(v); }

                    public double gradient(Vector p, Vector g) {
                        points.add(p);
                        gradients.add(g);
                        return q.gradient(p, g);
                    }

                    public void hessianVector(Vector p, Vector v, Vector hv) {
                        assertSame(x, p, "the point is the caller's x itself");
                        inputs.add(v);
                        outputs.add(hv);
                        products[0]++;
                        q.hessianVector(p, v, hv);
                    }
                };
                MinimizerOptions o = MinimizerOptions.builder().method(method).gradientTolerance(0).maxIterations(100)
                        .krylov(new KrylovOptions(20, 1e-12, KrylovOptions.StoppingRule.RESIDUAL)).keepHistory(false).build();
                try (VectorObjectiveProblem p = new VectorObjectiveProblem(be, spy); Minimizer m = new Minimizer(p, o, x)) {
                    for (int i = 0; i < 3; i++) assertNull(m.next());
                    long made = be.vectorsMade();
                    int in = inputs.size(), out = outputs.size();
                    Minimizer more = m;
                    for (int i = 0; i < 30; i++) more.next();
                    assertEquals(made, be.vectorsMade(), method + ": vectors made by 30 steady-state iterations");
                    assertEquals(Set.of(x), points, "gradients are taken at the caller's x only");
                    assertEquals(1, gradients.size(), "one gradient vector, the minimizer's own");
                    assertEquals(in, inputs.size(), "the solver's product inputs are the same vectors every iteration");
                    assertEquals(out, outputs.size(), "the solver's product outputs are the same vectors every iteration");
                    // CG has one search direction; a Lanczos solver (GLTR, ARC) keeps its basis, at most the Krylov limit (20)
                    assertTrue(in <= 21 && out <= 3, in + " input and " + out + " output vectors");
                    assertTrue(products[0] > 30, "products " + products[0] + ": " + m.summary(TerminationType.USER_STOP).report());
                }
            }
        }
    }

    /**
     * On the CPU backend the whole Krylov solve is native (the problem's curvature is a
     * NativeCurvature) and calls the objective back for each product, with CPU vectors over the
     * solve's work space: the same few vectors every iteration, none made in steady state, the
     * objective's own view (CpuBackend.buffer) is the memory the solve reads; the iterates follow
     * the Java loop's (on CountingBackend over the same CPU backend, which runs the Java loop) to
     * float tolerance; an exception thrown by the product ends the step unchanged.
     */
    @Test
    void cpuSolvesAreNativeAndCallTheObjectiveOnTheirOwnVectors() {
        int n = 300;
        for (Method method : new Method[] {Method.TR_STEIHAUG, Method.TR_GLTR, Method.ARC}) {
            try (CpuBackend cpu = new CpuBackend(2)) {
                CountingBackend counting = new CountingBackend(cpu);
                double[] fNative = new double[12], fLoop = new double[12];
                for (Backend be : new Backend[] {counting, cpu}) {
                    boolean nativeRun = be == cpu;
                    try (DiagonalQuadratic q = DiagonalQuadratic.create(be, n); Vector x = be.allocate(n)) {
                        Set<Vector> inputs = Collections.newSetFromMap(new IdentityHashMap<>()), outputs = Collections.newSetFromMap(new IdentityHashMap<>());
                        VectorObjective spy = new VectorObjective() {
                            public int dimension() { return n; }

                            public double value(Vector v) { return q.value(v); }

                            public double gradient(Vector p, Vector g) { return q.gradient(p, g); }

                            public void hessianVector(Vector p, Vector v, Vector hv) {
                                inputs.add(v);
                                outputs.add(hv);
                                if (nativeRun) assertEquals(v.toArray()[n / 2], CpuBackend.buffer(v).get(n / 2), FLOAT_ATOL, "the storage view reads the vector's memory");
                                q.hessianVector(p, v, hv);
                            }
                        };
                        MinimizerOptions o = MinimizerOptions.builder().method(method).gradientTolerance(0).maxIterations(100)
                                .krylov(new KrylovOptions(20, 1e-6, KrylovOptions.StoppingRule.RESIDUAL)).keepHistory(false).build();
                        try (VectorObjectiveProblem p = new VectorObjectiveProblem(be, spy); Minimizer m = new Minimizer(p, o, x)) {
                            assertEquals(nativeRun, p.curvature() instanceof org.adanewton.backend.NativeCurvature, be.kind() + " curvature");
                            double[] f = nativeRun ? fNative : fLoop;
                            for (int i = 0; i < 3; i++) {
                                assertNull(m.next());
                                f[i] = p.value(x);
                            }
                            int in = inputs.size(), out = outputs.size();
                            for (int i = 3; i < f.length; i++) {
                                m.next();
                                f[i] = p.value(x);
                            }
                            assertEquals(in, inputs.size(), method + " on " + (nativeRun ? "the native solve" : "the Java loop") + ": the same input vectors");
                            assertEquals(out, outputs.size(), method + ": the same output vectors");
                        }
                    }
                }
                for (int i = 0; i < fNative.length; i++)
                    assertEquals(fLoop[i], fNative[i], FLOAT_RTOL * Math.max(1, Math.abs(fLoop[i])), method + ": f after iteration " + (i + 1));
                // a failing product ends the step with the objective's own exception
                try (DiagonalQuadratic q = DiagonalQuadratic.create(cpu, n); Vector x = cpu.allocate(n)) {
                    RuntimeException boom = new IllegalStateException("the user's product failed");
                    int[] calls = {0};
                    VectorObjective failing = new VectorObjective() {
                        public int dimension() { return n; }

                        public double value(Vector v) { return q.value(v); }

                        public double gradient(Vector p, Vector g) { return q.gradient(p, g); }

                        public void hessianVector(Vector p, Vector v, Vector hv) {
                            if (++calls[0] == 3) throw boom;
                            q.hessianVector(p, v, hv);
                        }
                    };
                    try (VectorObjectiveProblem p = new VectorObjectiveProblem(cpu, failing);
                            Minimizer m = new Minimizer(p, options(method, 0), x)) {
                        assertSame(boom, assertThrows(IllegalStateException.class, () -> {
                            for (int i = 0; i < 10; i++) m.next();
                        }), method + ": the objective's exception, unchanged");
                        assertEquals(3, calls[0], method + ": the solve stopped at the failing product");
                    }
                }
            }
        }
    }

    /** Many problems alive at once, each with its native solve (JavaCPP bounds the native thunks per callback class: one callback serves them all). */
    @Test
    void manyCpuProblemsSolveNativelyAtOnce() {
        int n = 50, count = 40;
        try (CpuBackend cpu = new CpuBackend(1)) {
            List<AutoCloseable> open = new ArrayList<>();
            try {
                List<Minimizer> minimizers = new ArrayList<>();
                for (int i = 0; i < count; i++) {
                    DiagonalQuadratic q = DiagonalQuadratic.create(cpu, n);
                    Vector x = cpu.allocate(n);
                    VectorObjectiveProblem p = new VectorObjectiveProblem(cpu, q);
                    Minimizer m = new Minimizer(p, options(Method.TR_GLTR, 0), x);
                    open.addAll(List.of(m, p, x, q));
                    minimizers.add(m);
                }
                for (Minimizer m : minimizers) for (int k = 0; k < 2; k++) assertNull(m.next());
            } finally {
                for (AutoCloseable c : open) {
                    try {
                        c.close();
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                }
            }
        }
    }

    @Test
    void cpuStorageViewsAreTheVectorsOwnMemory() {
        try (CpuBackend be = new CpuBackend(1)) {
            Vector v = be.vector(1, 2, 3);
            FloatBuffer b = CpuBackend.buffer(v);
            assertEquals(3, b.capacity());
            assertEquals(3, b.remaining());
            assertTrue(b.isDirect());
            assertEquals(2f, b.get(1));
            b.put(2, 7.5f);
            b.position(2);
            assertArrayEquals(new double[] {1, 2, 7.5}, v.toArray(), "a write through the view is the vector's");
            assertSame(b, CpuBackend.buffer(v), "one view per vector");
            assertEquals(0, CpuBackend.buffer(v).position(), "reset on every call");
            be.fill(v, 4);
            assertEquals(4f, b.get(0), "the view sees the kernels' writes");
            assertNotEquals(0, CpuBackend.address(v));
            v.close();
            assertThrows(IllegalStateException.class, () -> CpuBackend.buffer(v));
        }
        JavaBackend jb = new JavaBackend();
        try (Vector v = jb.vector(1, 2)) {
            double[] a = JavaBackend.array(v);
            a[0] = 5;
            assertArrayEquals(new double[] {5, 2}, v.toArray());
            assertSame(a, JavaBackend.array(v));
        }
    }

    /** Mini-batch least squares: 1/(2m) ||A_B w - y_B||^2 on batches B of a consistent system (y = A w*), so every batch's minimizer is w*. */
    static final class LeastSquares {
        static final int ROWS = 480, COLS = 12, BATCH = 48;
        final double[][] a = new double[ROWS][COLS];
        final double[] y = new double[ROWS], wStar = new double[COLS];

        LeastSquares() {
            SplittableRandom r = new SplittableRandom(5);
            for (int j = 0; j < COLS; j++) wStar[j] = r.nextGaussian();
            for (int i = 0; i < ROWS; i++) {
                for (int j = 0; j < COLS; j++) a[i][j] = r.nextGaussian() * (1 + j % 3);
                for (int j = 0; j < COLS; j++) y[i] += a[i][j] * wStar[j];
            }
        }

        /** The loss on rows [start, start + BATCH), in place on the vectors' storage. */
        VectorObjective batch(int start) {
            return new VectorObjective() {
                public int dimension() { return COLS; }

                double residual(Store w, int i) {
                    double s = -y[i];
                    for (int j = 0; j < COLS; j++) s += a[i][j] * w.get(j);
                    return s;
                }

                public double value(Vector wv) {
                    Store w = store(wv);
                    double f = 0;
                    for (int i = start; i < start + BATCH; i++) {
                        double ri = residual(w, i);
                        f += ri * ri;
                    }
                    return f / (2 * BATCH);
                }

                public double gradient(Vector wv, Vector gv) {
                    Store w = store(wv), g = store(gv);
                    double[] acc = new double[COLS];
                    double f = 0;
                    for (int i = start; i < start + BATCH; i++) {
                        double ri = residual(w, i);
                        f += ri * ri;
                        for (int j = 0; j < COLS; j++) acc[j] += a[i][j] * ri / BATCH;
                    }
                    for (int j = 0; j < COLS; j++) g.set(j, acc[j]);
                    return f / (2 * BATCH);
                }

                public void hessianVector(Vector wv, Vector vv, Vector hvv) {
                    Store v = store(vv), hv = store(hvv);
                    double[] acc = new double[COLS];
                    for (int i = start; i < start + BATCH; i++) {
                        double av = 0;
                        for (int j = 0; j < COLS; j++) av += a[i][j] * v.get(j);
                        for (int j = 0; j < COLS; j++) acc[j] += a[i][j] * av / BATCH;
                    }
                    for (int j = 0; j < COLS; j++) hv.set(j, acc[j]);
                }
            };
        }
    }

    @Test
    void theStepOptimizerConvergesOnMiniBatchLeastSquares() {
        LeastSquares ls = new LeastSquares();
        for (Backend be : new Backend[] {new JavaBackend(), new CpuBackend(2)}) {
            boolean dbl = be.kind() == BackendKind.JAVA;
            for (Method method : new Method[] {Method.TR_STEIHAUG, Method.ARC}) {
                MinimizerOptions o = MinimizerOptions.builder().method(method).gradientTolerance(0).maxIterations(Integer.MAX_VALUE)
                        .krylov(new KrylovOptions(LeastSquares.COLS, 1e-10, KrylovOptions.StoppingRule.RESIDUAL)).build();
                List<Double> losses = new ArrayList<>();
                try (Vector w = be.allocate(LeastSquares.COLS); SecondOrderStep opt = new SecondOrderStep(w, o)) {
                    for (int epoch = 0; epoch < 4; epoch++)
                        for (int start = 0; start < LeastSquares.ROWS; start += LeastSquares.BATCH) {
                            SecondOrderStep.Outcome out = opt.step(ls.batch(start));
                            assertFalse(out.stopped(), String.valueOf(out.termination()));
                            assertTrue(out.iteration().stochastic());
                            assertEquals(out.iteration().value(), out.batchLoss());
                            assertEquals(out.batchLoss(), out.iteration().batchLoss());
                            assertTrue(Double.isNaN(out.iteration().objectiveValue()));
                            losses.add(out.batchLoss());
                        }
                    String what = be.kind() + " " + method + " batch losses " + losses;
                    assertClose(what, w.toArray(), ls.wStar, dbl ? DOUBLE_XTOL : FLOAT_XTOL, dbl ? DOUBLE_XTOL : FLOAT_XTOL);
                    assertTrue(losses.get(losses.size() - 1) < 1e-6 * losses.get(0), what);
                    Summary s = opt.summary(TerminationType.USER_STOP);
                    assertTrue(s.stochastic());
                    assertEquals(40, s.iterations());
                    assertTrue(s.report().contains("batch loss: "), s.report());
                    assertEquals(s.finalValue(), s.finalBatchLoss());
                    IterationSummary last = opt.lastIteration();
                    assertEquals("batch loss", last.valueLabel());
                }
            }
        }
    }

    @Test
    void aMiniBatchObjectiveIsToldWhenEachBatchStarts() {
        LeastSquares ls = new LeastSquares();
        JavaBackend be = new JavaBackend();
        int[] batches = {0};
        int[] gradientsOnBatch = {0};
        MiniBatchObjective obj = new MiniBatchObjective() {
            VectorObjective current;

            public void nextBatch() {
                current = ls.batch((batches[0]++ % (LeastSquares.ROWS / LeastSquares.BATCH)) * LeastSquares.BATCH);
                gradientsOnBatch[0] = 0;
            }

            public double epochs() { return batches[0] * (double) LeastSquares.BATCH / LeastSquares.ROWS; }

            public int dimension() { return LeastSquares.COLS; }

            public double value(Vector x) { return current.value(x); }

            public double gradient(Vector x, Vector g) {
                assertEquals(0, gradientsOnBatch[0]++, "one gradient per batch");
                return current.gradient(x, g);
            }

            public void hessianVector(Vector x, Vector v, Vector hv) { current.hessianVector(x, v, hv); }
        };
        MinimizerOptions o = MinimizerOptions.builder().gradientTolerance(0).maxEpochs(3).build();
        MinimizeResult r = Minimize.minimize(be, obj, new double[LeastSquares.COLS], o);
        assertEquals(TerminationType.MAX_EPOCHS, r.termination(), r.summary().report());
        assertEquals(30, batches[0]);
        assertEquals(30, r.iterations());
        assertTrue(r.summary().stochastic());
        assertClose("w", r.x(), ls.wStar, DOUBLE_XTOL, DOUBLE_XTOL);
    }
}
