package org.adanewton.subproblem;

import static org.adanewton.Tolerances.*;
import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.adanewton.api.SolverExit;
import org.adanewton.api.StepResult;
import org.adanewton.api.StepSolver;
import org.adanewton.backend.CurvatureOperator;
import org.adanewton.backend.Vector;
import org.adanewton.backend.java.JavaBackend;
import org.adanewton.problems.Quadratic;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Subproblem invariants on quadratics with known spectra, in Euclidean and ellipsoidal norms. */
class SubproblemTest {
    private static final JavaBackend BE = new JavaBackend();
    private static final int N = 30;
    private static final double BOUNDARY_RTOL = 1e-6;

    static CurvatureOperator operator(Quadratic q) {
        double[] hv = new double[q.dimension()];
        return (v, out) -> {
            q.hessianVector(null, v.toArray(), hv);
            out.backend().set(out, hv);
        };
    }

    static double model(Quadratic q, double[] g, double[] s) {
        double[] hs = new double[s.length];
        q.hessianVector(null, s, hs);
        double m = 0;
        for (int i = 0; i < s.length; i++) m += g[i] * s[i] + 0.5 * s[i] * hs[i];
        return m;
    }

    static double aNorm(double[] a, double[] s) {
        double t = 0;
        for (int i = 0; i < s.length; i++) t += a[i] * s[i] * s[i];
        return Math.sqrt(t);
    }

    static double[] metric(boolean ellipsoid) {
        double[] a = new double[N];
        SplittableRandom r = new SplittableRandom(3);
        for (int i = 0; i < N; i++) a[i] = ellipsoid ? Math.exp(r.nextDouble(-2, 2)) : 1.0;
        return a;
    }

    static double[] gradient(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] g = new double[N];
        for (int i = 0; i < N; i++) g[i] = r.nextGaussian();
        return g;
    }

    static Stream<Arguments> trustRegionSolvers() {
        KrylovOptions k = new KrylovOptions(200, 1e-10, KrylovOptions.StoppingRule.RESIDUAL);
        return Stream.of(true, false).flatMap(ell -> Stream.of(
                Arguments.of("steihaug", new SteihaugCg(BE, N, k), ell),
                Arguments.of("gltr", new LanczosTrustRegion(BE, N, k), ell),
                Arguments.of("cauchy", new CauchyPoint(BE, N, false), ell)));
    }

    private record Solved(StepResult result, double[] s) {}

    private static Solved solve(StepSolver solver, Quadratic q, double[] g, double[] a, double delta) {
        try (Vector gv = BE.vector(g); Vector av = BE.vector(a); Vector s = BE.allocate(N)) {
            StepResult r = solver.solve(gv, operator(q), av, delta, s);
            return new Solved(r, s.toArray());
        }
    }

    @ParameterizedTest(name = "{0} ellipsoid={2}")
    @MethodSource("trustRegionSolvers")
    void stepStaysInRegionAndReportsItsDecrease(String name, StepSolver solver, boolean ellipsoid) {
        double[] a = metric(ellipsoid);
        for (int neg : new int[] {0, 3}) {
            Quadratic q = new Quadratic(N, 0.1, 10, neg, 5);
            for (double delta : new double[] {0.01, 0.3, 100}) {
                double[] g = gradient(delta > 1 ? 9 : 8);
                Solved r = solve(solver, q, g, a, delta);
                assertTrue(aNorm(a, r.s) <= delta * (1 + BOUNDARY_RTOL), name + ": ||s||_A = " + aNorm(a, r.s) + " > " + delta);
                assertClose(name + " model decrease", r.result.modelDecrease(), -model(q, g, r.s), 1e-9, 1e-7);
                assertClose(name + " step norm", r.result.stepNorm(), aNorm(a, r.s), 1e-9, 1e-7);
                assertTrue(r.result.modelDecrease() > 0);
            }
        }
    }

    @ParameterizedTest(name = "{0} ellipsoid={2}")
    @MethodSource("trustRegionSolvers")
    void boundaryWhenNewtonStepIsOutsideOrCurvatureIsNegative(String name, StepSolver solver, boolean ellipsoid) {
        double[] a = metric(ellipsoid), g = gradient(4);
        Quadratic definite = new Quadratic(N, 1, 10, 0, 6);
        Solved small = solve(solver, definite, g, a, 1e-3); // Newton step is far outside
        assertClose(name + " boundary", aNorm(a, small.s), 1e-3, 0, BOUNDARY_RTOL);
        if (solver instanceof CauchyPoint) return; // it reaches the boundary only if d'Bd <= 0 along its one direction
        Quadratic indefinite = new Quadratic(N, 1, 10, 5, 6);
        Solved neg = solve(solver, indefinite, g, a, 5.0);
        assertClose(name + " negative curvature -> boundary", aNorm(a, neg.s), 5.0, 0, BOUNDARY_RTOL);
    }

    @ParameterizedTest(name = "{0} ellipsoid={2}")
    @MethodSource("trustRegionSolvers")
    void zeroGradientGivesZeroStep(String name, StepSolver solver, boolean ellipsoid) {
        Solved r = solve(solver, new Quadratic(N, 1, 10, 2, 6), new double[N], metric(ellipsoid), 1.0);
        assertEquals(SolverExit.ZERO_GRADIENT, r.result.exit());
        assertEquals(0.0, aNorm(metric(ellipsoid), r.s));
    }

    @ParameterizedTest(name = "{0} ellipsoid={2}")
    @MethodSource("trustRegionSolvers")
    void atLeastTheCauchyDecrease(String name, StepSolver solver, boolean ellipsoid) {
        double[] a = metric(ellipsoid);
        try (CauchyPoint cauchy = new CauchyPoint(BE, N, false)) {
            for (int neg : new int[] {0, 4}) {
                Quadratic q = new Quadratic(N, 0.01, 100, neg, 12);
                for (double delta : new double[] {0.05, 2, 50}) {
                    double[] g = gradient(21);
                    double mine = solve(solver, q, g, a, delta).result.modelDecrease();
                    double c = solve(cauchy, q, g, a, delta).result.modelDecrease();
                    assertTrue(mine >= c * (1 - 1e-9), name + " decrease " + mine + " < Cauchy decrease " + c);
                }
            }
        }
    }

    @Test
    void interiorSolutionIsTheNewtonStep() {
        Quadratic q = new Quadratic(N, 1, 10, 0, 2);
        double[] g = gradient(3);
        KrylovOptions tight = new KrylovOptions(200, 1e-12, KrylovOptions.StoppingRule.RESIDUAL);
        for (StepSolver solver : List.<StepSolver>of(new SteihaugCg(BE, N, tight), new LanczosTrustRegion(BE, N, tight))) {
            Solved r = solve(solver, q, g, metric(true), 1e6);
            double[] hs = new double[N];
            q.hessianVector(null, r.s, hs);
            for (int i = 0; i < N; i++) assertEquals(-g[i], hs[i], 1e-8, solver.name() + ": H s = -g");
            assertEquals(SolverExit.CONVERGED, r.result.exit());
        }
    }

    @Test
    void gltrIsAtLeastAsGoodAsSteihaug() {
        KrylovOptions k = new KrylovOptions(100, 1e-10, KrylovOptions.StoppingRule.RESIDUAL);
        try (SteihaugCg cg = new SteihaugCg(BE, N, k); LanczosTrustRegion gltr = new LanczosTrustRegion(BE, N, k)) {
            for (long seed = 1; seed <= 10; seed++) {
                Quadratic q = new Quadratic(N, 0.1, 10, (int) (seed % 4), seed);
                double[] g = gradient(seed), a = metric(seed % 2 == 0);
                double delta = 0.2 * seed;
                double mc = solve(cg, q, g, a, delta).result.modelDecrease();
                double mg = solve(gltr, q, g, a, delta).result.modelDecrease();
                assertTrue(mg >= mc * (1 - 1e-9), "GLTR " + mg + " < Steihaug " + mc + " (seed " + seed + ")");
            }
        }
    }

    /** CG in the A-norm on (g, H) equals Euclidean CG on the rescaled (A^-1/2 g, A^-1/2 H A^-1/2). */
    @Test
    void ellipsoidalCgEqualsEuclideanCgOnTheRescaledProblem() {
        double[] a = metric(true), g = gradient(13);
        Quadratic q = new Quadratic(N, 0.1, 10, 2, 14);
        KrylovOptions k = new KrylovOptions(8, 1e-10, KrylovOptions.StoppingRule.RESIDUAL);
        double delta = 1.5;
        double[] s;
        try (SteihaugCg cg = new SteihaugCg(BE, N, k)) {
            s = solve(cg, q, g, a, delta).s;
        }
        double[] gh = new double[N], ones = new double[N];
        for (int i = 0; i < N; i++) {
            gh[i] = g[i] / Math.sqrt(a[i]);
            ones[i] = 1;
        }
        double[] tmp = new double[N], hv = new double[N];
        CurvatureOperator rescaled = (v, out) -> {
            double[] vd = v.toArray();
            for (int i = 0; i < N; i++) tmp[i] = vd[i] / Math.sqrt(a[i]);
            q.hessianVector(null, tmp, hv);
            for (int i = 0; i < N; i++) hv[i] /= Math.sqrt(a[i]);
            BE.set(out, hv);
        };
        double[] sh;
        try (SteihaugCg cg = new SteihaugCg(BE, N, k); Vector gv = BE.vector(gh); Vector av = BE.vector(ones); Vector out = BE.allocate(N)) {
            cg.solve(gv, rescaled, av, delta, out);
            sh = out.toArray();
        }
        for (int i = 0; i < N; i++) assertEquals(sh[i], Math.sqrt(a[i]) * s[i], 1e-9, "A^1/2 s = rescaled step");
    }

    /** The paper's proposition: with B = 0 and Delta = eta ||g||_{A^-1}, the TR step is -eta A^-1 g. */
    @Test
    void firstOrderTrustRegionStepIsTheAdaptiveStep() {
        double eta = 0.01;
        double[] g = gradient(31), v = new double[N];
        SplittableRandom r = new SplittableRandom(32);
        for (int i = 0; i < N; i++) v[i] = r.nextDouble(0, 2); // an RMSProp/AdaGrad accumulator
        double[] a = new double[N];
        double gAinvG = 0;
        for (int i = 0; i < N; i++) {
            a[i] = Math.sqrt(v[i]) + 1e-8;
            gAinvG += g[i] * g[i] / a[i];
        }
        double delta = eta * Math.sqrt(gAinvG);
        try (CauchyPoint cp = new CauchyPoint(BE, N, false); Vector gv = BE.vector(g); Vector av = BE.vector(a); Vector s = BE.allocate(N)) {
            cp.solve(gv, (in, out) -> BE.fill(out, 0.0), av, delta, s);
            double[] step = s.toArray();
            for (int i = 0; i < N; i++) assertEquals(-eta * g[i] / a[i], step[i], 1e-14, "RMSProp/AdaGrad step");
        }
    }

    @Test
    void arcSolversGiveModelDecreaseAndOptimality() {
        double[] a = metric(true);
        KrylovOptions k = new KrylovOptions(100, 1e-12, KrylovOptions.StoppingRule.RESIDUAL);
        try (LanczosCubic arc = new LanczosCubic(BE, N, k); CauchyPoint cauchy = new CauchyPoint(BE, N, true)) {
            for (int neg : new int[] {0, 5}) {
                Quadratic q = new Quadratic(N, 0.1, 10, neg, 40);
                double[] g = gradient(41);
                for (double sigma : new double[] {0.01, 1, 100}) {
                    Solved r = solve(arc, q, g, a, sigma);
                    double norm = aNorm(a, r.s);
                    double m = model(q, g, r.s) + sigma / 3 * norm * norm * norm;
                    assertClose("ARC model decrease", r.result.modelDecrease(), -m, 1e-9, 1e-7);
                    // gradient of the cubic model vanishes: g + H s + sigma ||s||_A A s = 0
                    double[] hs = new double[N];
                    q.hessianVector(null, r.s, hs);
                    for (int i = 0; i < N; i++) assertEquals(0.0, g[i] + hs[i] + sigma * norm * a[i] * r.s[i], 1e-7, "ARC optimality");
                    double c = solve(cauchy, q, g, a, sigma).result.modelDecrease();
                    assertTrue(r.result.modelDecrease() >= c * (1 - 1e-9), "ARC below its Cauchy decrease");
                }
            }
        }
    }

    @Test
    void invalidRadiusIsRejected() {
        try (SteihaugCg cg = new SteihaugCg(BE, N, KrylovOptions.DEFAULT); Vector g = BE.allocate(N); Vector a = BE.allocate(N);
                Vector s = BE.allocate(N)) {
            assertTrue(assertThrows(IllegalArgumentException.class, () -> cg.solve(g, (x, y) -> {}, a, -1, s)).getMessage()
                    .contains("radius = -1.0"));
        }
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new KrylovOptions(0, 0.1, KrylovOptions.StoppingRule.RESIDUAL))
                .getMessage().contains("maxIterations = 0"));
    }

    @Test
    void modelDecreaseRuleStopsEarlierThanAnExactSolve() {
        Quadratic q = new Quadratic(N, 0.01, 100, 0, 50);
        double[] g = gradient(51), a = metric(false);
        try (SteihaugCg loose = new SteihaugCg(BE, N, new KrylovOptions(100, 0.1, KrylovOptions.StoppingRule.MODEL_DECREASE));
                SteihaugCg exact = new SteihaugCg(BE, N, new KrylovOptions(100, 1e-12, KrylovOptions.StoppingRule.RESIDUAL))) {
            StepResult l = solve(loose, q, g, a, 1e6).result, e = solve(exact, q, g, a, 1e6).result;
            assertEquals(SolverExit.CONVERGED, l.exit());
            assertTrue(l.iterations() < e.iterations());
            assertTrue(l.modelDecrease() >= 0.5 * e.modelDecrease());
        }
    }
}
