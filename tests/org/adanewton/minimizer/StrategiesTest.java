package org.adanewton.minimizer;

import static org.junit.jupiter.api.Assertions.*;

import org.adanewton.api.Norm;
import org.adanewton.api.SolverExit;
import org.adanewton.api.StepResult;
import org.adanewton.api.StepSolver;
import org.adanewton.api.Summary;
import org.adanewton.api.TerminationType;
import org.adanewton.backend.Backend;
import org.adanewton.backend.CurvatureOperator;
import org.adanewton.backend.Vector;
import org.adanewton.backend.cpu.CpuBackend;
import org.adanewton.nn.Network;
import org.adanewton.norm.NormKind;
import org.adanewton.problems.ChainedRosenbrock;
import org.adanewton.problems.Quadratic;
import org.adanewton.subproblem.CauchyPoint;
import org.adanewton.subproblem.LanczosCubic;
import org.adanewton.subproblem.SteihaugCg;
import org.junit.jupiter.api.Test;

/** A user's own solver, norm and policy drive the minimizer; the named methods come from the factory. */
class StrategiesTest {

    /** A user norm: the fixed metric a_i = scale (||s||_A = sqrt(scale) ||s||), counting its updates. */
    static final class ScaledNorm implements Norm {
        private final Backend backend;
        private final Vector metric;
        private long updates;

        ScaledNorm(Backend backend, int n, double scale) {
            this.backend = backend;
            this.metric = backend.allocate(n);
            backend.fill(metric, scale);
        }

        @Override
        public String name() {
            return "scaled";
        }

        @Override
        public boolean update(Vector g) {
            if (backend.countNonFinite(g) > 0) return false;
            updates++;
            return true;
        }

        @Override
        public Vector metric() {
            return metric;
        }

        @Override
        public long updates() {
            return updates;
        }

        @Override
        public NormState saveState() {
            return new NormState(name(), updates, new double[0]);
        }

        @Override
        public void restoreState(NormState state) {
            updates = state.updates();
        }

        @Override
        public void close() {
            metric.close();
        }
    }

    /**
     * A user solver: the trust-region Cauchy point along d = -A^-1 g, written here from the
     * backend's vector operations only.
     */
    static final class UserCauchy implements StepSolver {
        private final Backend backend;
        private final Vector d, bd;
        int solves;

        UserCauchy(Backend backend, int n) {
            this.backend = backend;
            d = backend.allocate(n);
            bd = backend.allocate(n);
        }

        @Override
        public StepResult solve(Vector g, CurvatureOperator b, Vector metric, double radius, Vector s) {
            solves++;
            backend.divide(g, metric, d);
            double gamma2 = backend.dot(g, d);
            backend.scale(-1, d);
            b.apply(d, bd);
            double kappa = backend.dot(d, bd), gamma = Math.sqrt(gamma2);
            double t = kappa > 0 ? Math.min(gamma2 / kappa, radius / gamma) : radius / gamma;
            backend.copy(d, s);
            backend.scale(t, s);
            double decrease = t * gamma2 - 0.5 * t * t * kappa;
            return new StepResult(decrease, t * gamma, 0, 1, SolverExit.CAUCHY, 0);
        }

        @Override
        public boolean isCubic() {
            return false;
        }

        @Override
        public String name() {
            return "user-cauchy";
        }

        @Override
        public void close() {
            d.close();
            bd.close();
        }
    }

    private static final MinimizerOptions STOP = MinimizerOptions.builder().gradientTolerance(1e-6).maxIterations(5000).build();

    @Test
    void aUserSolverAndNormMinimizeAQuadratic() {
        Quadratic q = new Quadratic(10, 1, 10, 0, 7);
        try (ObjectiveProblem p = new ObjectiveProblem(q); Vector x = p.backend().allocate(10);
                UserCauchy solver = new UserCauchy(p.backend(), 10); ScaledNorm norm = new ScaledNorm(p.backend(), 10, 4.0);
                Minimizer m = new Minimizer(p, STOP, x, new Strategies(solver, TrustRegionPolicy.DEFAULT, norm))) {
            Summary s = m.run();
            assertEquals(TerminationType.CONVERGENCE, s.termination(), s.report());
            assertEquals(s.iterations(), solver.solves, "every iteration asked the user's solver");
            assertEquals(s.iterations(), norm.updates(), "every iteration updated the user's norm");
            assertSame(norm, m.norm());
            double[] solution = q.solution(), got = x.toArray();
            for (int i = 0; i < 10; i++) assertEquals(solution[i], got[i], 1e-5, "x[" + i + "]");
            assertEquals("user-cauchy", m.saveState().method(), "a saved state names the injected solver");
        }
    }

    @Test
    void aUserNormWithABuiltInSolverMinimizesRosenbrock() {
        ChainedRosenbrock f = new ChainedRosenbrock(2); // Rosenbrock's function, from (-1.2, 1)
        try (ObjectiveProblem p = new ObjectiveProblem(f); Vector x = p.backend().vector(f.start());
                SteihaugCg solver = new SteihaugCg(p.backend(), 2, MinimizerOptions.builder().build().krylov());
                ScaledNorm norm = new ScaledNorm(p.backend(), 2, 1.0);
                Minimizer m = new Minimizer(p, STOP, x, new Strategies(solver, TrustRegionPolicy.DEFAULT, norm))) {
            Summary s = m.run();
            assertEquals(TerminationType.CONVERGENCE, s.termination(), s.report());
            for (double xi : x.toArray()) assertEquals(1.0, xi, 1e-4);
        }
        // the strategies stay the caller's: the minimizer did not close them
    }

    @Test
    void aUserRegionPolicyIsUsed() {
        Quadratic q = new Quadratic(5, 1, 3, 0, 3);
        int[] updates = {0};
        TrustRegionPolicy base = TrustRegionPolicy.DEFAULT;
        org.adanewton.api.RegionPolicy counting = new org.adanewton.api.RegionPolicy() {
            public double initial() { return 0.5; }
            public boolean accept(double rho) { return base.accept(rho); }
            public double update(double current, double rho) { updates[0]++; return base.update(current, rho); }
            public double shrink(double current) { return base.shrink(current); }
            public boolean collapsed(double current) { return base.collapsed(current); }
            public boolean isCubic() { return false; }
        };
        try (ObjectiveProblem p = new ObjectiveProblem(q); Vector x = p.backend().allocate(5); UserCauchy solver = new UserCauchy(p.backend(), 5);
                ScaledNorm norm = new ScaledNorm(p.backend(), 5, 1.0); Minimizer m = new Minimizer(p, STOP, x, new Strategies(solver, counting, norm))) {
            Summary s = m.run();
            assertEquals(TerminationType.CONVERGENCE, s.termination(), s.report());
            assertEquals(0.5, s.history().get(0).regularization(), "the policy's initial radius");
            assertEquals(s.iterations(), updates[0]);
        }
    }

    @Test
    void aSolverAndAPolicyMustAgreeOnCubic() {
        try (ObjectiveProblem p = new ObjectiveProblem(new Quadratic(4, 1, 2, 0, 1)); CauchyPoint arc = new CauchyPoint(p.backend(), 4, true);
                ScaledNorm norm = new ScaledNorm(p.backend(), 4, 1.0)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Strategies(arc, TrustRegionPolicy.DEFAULT, norm));
            assertTrue(e.getMessage().contains("arc-cauchy") && e.getMessage().contains("cubic"), e.getMessage());
        }
    }

    @Test
    void aNormOfTheWrongDimensionIsRefused() {
        try (ObjectiveProblem p = new ObjectiveProblem(new Quadratic(4, 1, 2, 0, 1)); Vector x = p.backend().allocate(4);
                UserCauchy solver = new UserCauchy(p.backend(), 4); ScaledNorm norm = new ScaledNorm(p.backend(), 3, 1.0)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new Minimizer(p, STOP, x, new Strategies(solver, TrustRegionPolicy.DEFAULT, norm)));
            assertTrue(e.getMessage().contains("norm"), e.getMessage());
        }
    }

    @Test
    void theFactoryGivesTheNamedMethodsAndNativeSolvesForNativeCurvature() {
        MinimizerOptions arc = MinimizerOptions.builder().method(Method.ARC).norm(NormKind.RMSPROP).build();
        try (ObjectiveProblem p = new ObjectiveProblem(new Quadratic(4, 1, 2, 0, 1)); Strategies s = Strategies.of(arc, p);
                LanczosCubic loop = new LanczosCubic(p.backend(), 4, arc.krylov()); Vector x = p.backend().vector(new double[] {1, -2, 3, 0.5});
                Vector g = p.backend().allocate(4); Vector metric = p.backend().allocate(4); Vector s1 = p.backend().allocate(4);
                Vector s2 = p.backend().allocate(4)) {
            assertEquals("arc-lanczos", s.solver().name());
            assertSame(arc.cubic(), s.policy());
            assertEquals("rmsprop", s.norm().name());
            p.gradient(x, g);
            p.backend().fill(metric, 1.0);
            // a Java objective's curvature is solved by the Java loop: the same result as LanczosCubic's own
            assertEquals(loop.solve(g, p.curvature(), metric, 1.0, s2), s.solver().solve(g, p.curvature(), metric, 1.0, s1));
            assertArrayEquals(s2.toArray(), s1.toArray());
        }
        Network net = Network.builder(3).dense(2).build();
        try (CpuBackend cpu = new CpuBackend(1);
                NetworkProblem p = new NetworkProblem(cpu, net, new float[] {0, 1, 2, 3, 4, 5}, new int[] {0, 1}, null, 2, 0,
                        NetworkProblem.Curvature.GAUSS_NEWTON, 1)) {
            Strategies s = Strategies.of(MinimizerOptions.builder().build(), p);
            assertEquals("steihaug", s.solver().name());
            assertFalse(s.solver().isCubic());
            s.close();
        }
    }
}
