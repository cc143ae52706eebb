package org.adanewton.minimizer;

import java.nio.FloatBuffer;
import java.util.Locale;
import org.adanewton.api.Objective;
import org.adanewton.api.Summary;
import org.adanewton.api.VectorObjective;
import org.adanewton.backend.Backend;
import org.adanewton.backend.Vector;
import org.adanewton.backend.cpu.CpuBackend;
import org.adanewton.backend.java.JavaBackend;
import org.adanewton.subproblem.KrylovOptions;

/**
 * Not a test (surefire runs *Test only): the library's overhead per Hessian-vector product for a
 * user objective, (Krylov solve time - user HVP time) / HVPs, as a percentage of the user HVP,
 * on an n-dimensional banded quadratic (half-bandwidth k: k = 0 is diagonal) through
 * VectorObjectiveProblem (cpu backend, HVP in place on the FloatBuffer; java backend, in place on
 * the double[]) and through the old ObjectiveProblem (double[] Objective, copies per call).
 * Usage: VectorObjectiveBench [n] [k...]
 */
public final class VectorObjectiveBench {
    static long hvpNanos, hvps;

    /** Banded symmetric H with H_ii = 2k + 2 + i/n, H_i,i+-j = -1/j (diagonally dominant, SPD); f = 1/2 x'Hx - 1'x. */
    static double band(int j) {
        return -1.0 / j;
    }

    static double diag(int i, int n, int k) {
        return 2 * k + 2 + (double) i / n;
    }

    static void hvFloat(FloatBuffer v, FloatBuffer out, int n, int k, float[] d) {
        for (int i = 0; i < n; i++) {
            float s = d[i] * v.get(i);
            for (int j = 1; j <= k; j++) {
                float a = (float) band(j);
                if (i - j >= 0) s += a * v.get(i - j);
                if (i + j < n) s += a * v.get(i + j);
            }
            out.put(i, s);
        }
    }

    static void hvDouble(double[] v, double[] out, int n, int k, double[] d) {
        for (int i = 0; i < n; i++) {
            double s = d[i] * v[i];
            for (int j = 1; j <= k; j++) {
                double a = band(j);
                if (i - j >= 0) s += a * v[i - j];
                if (i + j < n) s += a * v[i + j];
            }
            out[i] = s;
        }
    }

    static VectorObjective vectorObjective(int n, int k) {
        float[] df = new float[n];
        double[] dd = new double[n];
        for (int i = 0; i < n; i++) {
            df[i] = (float) diag(i, n, k);
            dd[i] = diag(i, n, k);
        }
        return new VectorObjective() {
            public int dimension() { return n; }

            public double value(Vector x) {
                Backend be = x.backend();
                try (Vector hx = be.allocate(n)) { // trial values: once per iteration, not per HVP (not timed as overhead)
                    products(x, hx);
                    double s = 0;
                    if (be instanceof CpuBackend) {
                        FloatBuffer xb = CpuBackend.buffer(x), hb = CpuBackend.buffer(hx);
                        for (int i = 0; i < n; i++) s += xb.get(i) * (0.5 * hb.get(i) - 1);
                    } else {
                        double[] xa = JavaBackend.array(x), ha = JavaBackend.array(hx);
                        for (int i = 0; i < n; i++) s += xa[i] * (0.5 * ha[i] - 1);
                    }
                    return s;
                }
            }

            void products(Vector v, Vector out) {
                if (v.backend() instanceof CpuBackend) hvFloat(CpuBackend.buffer(v), CpuBackend.buffer(out), n, k, df);
                else hvDouble(JavaBackend.array(v), JavaBackend.array(out), n, k, dd);
            }

            public double gradient(Vector x, Vector g) {
                products(x, g);
                Backend be = x.backend();
                g.markWritten();
                try (Vector ones = be.allocate(n)) {
                    be.fill(ones, 1);
                    be.axpy(-1, ones, g);
                }
                return value(x);
            }

            public void hessianVector(Vector x, Vector v, Vector hv) {
                long t = System.nanoTime();
                products(v, hv);
                hvpNanos += System.nanoTime() - t;
                hvps++;
            }
        };
    }

    static Objective arrayObjective(int n, int k) {
        double[] d = new double[n];
        for (int i = 0; i < n; i++) d[i] = diag(i, n, k);
        return new Objective() {
            public int dimension() { return n; }

            public double value(double[] x) {
                double[] hx = new double[n];
                hvDouble(x, hx, n, k, d);
                double s = 0;
                for (int i = 0; i < n; i++) s += x[i] * (0.5 * hx[i] - 1);
                return s;
            }

            public double gradient(double[] x, double[] g) {
                hvDouble(x, g, n, k, d);
                for (int i = 0; i < n; i++) g[i] -= 1;
                return value(x);
            }

            public void hessianVector(double[] x, double[] v, double[] hv) {
                long t = System.nanoTime();
                hvDouble(v, hv, n, k, d);
                hvpNanos += System.nanoTime() - t;
                hvps++;
            }
        };
    }

    static MinimizerOptions options() {
        // a fixed amount of work: 4 outer iterations of at most 25 CG iterations each
        return MinimizerOptions.builder().method(Method.TR_STEIHAUG).gradientTolerance(0).maxIterations(4).keepHistory(false)
                .trustRegion(TrustRegionPolicy.DEFAULT.withInitialRadius(1e3))
                .krylov(new KrylovOptions(25, 1e-12, KrylovOptions.StoppingRule.RESIDUAL)).build();
    }

    static void report(String path, int n, int k, Summary s) {
        double hvpMs = hvpNanos * 1e-6 / hvps, solveMs = s.solverSeconds() * 1e3, overheadMs = (solveMs - hvpNanos * 1e-6) / hvps;
        System.out.printf(Locale.ROOT, "%-34s n=%d k=%d: %d HVPs, user HVP %.3f ms, Krylov solve %.1f ms total, overhead %.3f ms per HVP = %.1f%% of the HVP%n",
                path, n, k, hvps, hvpMs, solveMs, overheadMs, 100 * overheadMs / hvpMs);
    }

    /** The vector arithmetic of one Steihaug CG iteration alone (7 operations on n-vectors), in ms: the floor of any CG's work per HVP. */
    static double cgArithmeticMs(Backend be, int n, int iterations) {
        try (Vector r = be.allocate(n); Vector y = be.allocate(n); Vector p = be.allocate(n); Vector bp = be.allocate(n); Vector s = be.allocate(n);
                Vector a = be.allocate(n)) {
            be.fill(a, 1);
            be.fill(r, 1e-3);
            be.fill(p, 1e-3);
            be.fill(bp, 1e-3);
            long t = System.nanoTime();
            double sink = 0;
            for (int k = 0; k < iterations; k++) {
                sink += be.dot(p, bp);
                be.axpy(1e-9, p, s);
                be.axpy(1e-9, bp, r);
                be.divide(r, a, y);
                sink += be.dot(r, y);
                sink += be.norm(r);
                be.axpby(-1, y, 0.5, p);
            }
            double ms = (System.nanoTime() - t) * 1e-6 / iterations;
            return Double.isNaN(sink) ? -ms : ms;
        }
    }

    static void reset() {
        hvpNanos = 0;
        hvps = 0;
    }

    public static void main(String[] args) {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        int[] ks = args.length > 1 ? java.util.Arrays.stream(args, 1, args.length).mapToInt(Integer::parseInt).toArray() : new int[] {0, 2, 8};
        for (int rep = 0; rep < 2; rep++) { // the first round warms the JIT up
            boolean print = rep == 1;
            try (CpuBackend cpu = new CpuBackend()) {
                double c = cgArithmeticMs(cpu, n, 50), j = cgArithmeticMs(new JavaBackend(), n, 50);
                if (print) System.out.printf(Locale.ROOT, "CG vector arithmetic alone (7 ops per iteration): cpu %.3f ms, java %.3f ms per iteration%n", c, j);
            }
            for (int k : ks) {
                try (CpuBackend cpu = new CpuBackend(); VectorObjectiveProblem p = new VectorObjectiveProblem(cpu, vectorObjective(n, k));
                        Vector x = cpu.allocate(n); Minimizer m = new Minimizer(p, options(), x)) {
                    reset();
                    Summary s = m.run();
                    if (print) report("VectorObjective, cpu (" + cpu.threads() + " threads)", n, k, s);
                }
                JavaBackend jb = new JavaBackend();
                try (VectorObjectiveProblem p = new VectorObjectiveProblem(jb, vectorObjective(n, k)); Vector x = jb.allocate(n);
                        Minimizer m = new Minimizer(p, options(), x)) {
                    reset();
                    Summary s = m.run();
                    if (print) report("VectorObjective, java", n, k, s);
                }
                try (ObjectiveProblem p = new ObjectiveProblem(arrayObjective(n, k)); Vector x = p.backend().allocate(n);
                        Minimizer m = new Minimizer(p, options(), x)) {
                    reset();
                    Summary s = m.run();
                    if (print) report("Objective via ObjectiveProblem (old)", n, k, s);
                }
            }
        }
    }
}
