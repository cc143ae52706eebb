package org.adanewton.minimizer;

import static org.junit.jupiter.api.Assertions.*;

import java.util.EnumSet;
import java.util.Set;
import org.adanewton.api.Objective;
import org.adanewton.api.Summary;
import org.adanewton.api.TerminationType;
import org.adanewton.backend.Vector;
import org.adanewton.backend.cpu.CpuBackend;
import org.adanewton.nn.Network;
import org.adanewton.norm.NormKind;
import org.adanewton.problems.ChainedRosenbrock;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** Every TerminationType is reached, and numerical trouble is an outcome, not an exception. */
class TerminationTest {
    private static final Set<TerminationType> REACHED = EnumSet.noneOf(TerminationType.class);

    /** Rosenbrock whose trial values are altered: +1000 (every step fails) or NaN outside a box. */
    private static Objective altered(String how) {
        ChainedRosenbrock r = new ChainedRosenbrock(2);
        return new Objective() {
            public int dimension() { return 2; }
            public double value(double[] x) {
                double f = r.value(x);
                return switch (how) {
                    case "worse" -> f + 1000;
                    case "nan" -> Double.NaN;
                    case "nan-outside" -> Math.abs(x[0]) > 1.25 || Math.abs(x[1]) > 1.6 ? Double.NaN : f;
                    default -> f;
                };
            }
            public double gradient(double[] x, double[] g) { return r.gradient(x, g); }
            public void hessianVector(double[] x, double[] v, double[] hv) { r.hessianVector(x, v, hv); }
        };
    }

    private static Summary run(Objective f, MinimizerOptions o, org.adanewton.api.IterationListener... listeners) {
        try (ObjectiveProblem p = new ObjectiveProblem(f); Vector x = p.backend().vector(-1.2, 1); Minimizer m = new Minimizer(p, o, x)) {
            Summary s = m.run(listeners);
            REACHED.add(s.termination());
            return s;
        }
    }

    @Test
    void convergenceAndBudgets() {
        MinimizerOptions base = MinimizerOptions.builder().gradientTolerance(1e-8).build();
        assertEquals(TerminationType.CONVERGENCE, run(altered("none"), base).termination());
        Summary it = run(altered("none"), base.toBuilder().maxIterations(3).build());
        assertEquals(TerminationType.MAX_ITERATIONS, it.termination());
        assertEquals(3, it.iterations());
        assertTrue(it.message().contains("maxIterations = 3"), it.message());
        assertEquals(TerminationType.TIME_LIMIT, run(altered("none"), base.toBuilder().maxSeconds(1e-9).build()).termination());
        Summary stop = run(altered("none"), base, i -> i.iteration() < 2);
        assertEquals(TerminationType.USER_STOP, stop.termination());
        assertEquals(3, stop.iterations());
    }

    @Test
    void regionCollapsesWhenEveryStepFails() {
        for (Method m : new Method[] {Method.TR_STEIHAUG, Method.ARC}) {
            Summary s = run(altered("worse"), MinimizerOptions.builder().method(m).maxIterations(500).build());
            assertEquals(TerminationType.REGION_COLLAPSED, s.termination(), s.report());
            assertEquals(0, s.accepted());
            assertTrue(s.message().contains(m.cubic ? "sigma" : "radius"), s.message());
        }
    }

    @Test
    void nonFiniteValuesAreInvalidStepsNotExceptions() {
        Summary s = run(altered("nan"), MinimizerOptions.builder().maxConsecutiveInvalid(7).build());
        assertEquals(TerminationType.NUMERICAL_FAILURE, s.termination());
        assertEquals(7, s.invalid());
        assertTrue(s.message().contains("7 consecutive invalid steps"), s.message());
        // NaN outside a box: the region shrinks past it and the run still converges
        Summary recovered = run(altered("nan-outside"), MinimizerOptions.builder().trustRegion(TrustRegionPolicy.DEFAULT.withInitialRadius(10))
                .gradientTolerance(1e-8).build());
        assertEquals(TerminationType.CONVERGENCE, recovered.termination(), recovered.report());
        assertTrue(recovered.invalid() > 0, "expected invalid steps: " + recovered.report());
    }

    @Test
    void epochLimitOfAStochasticRun() {
        Network net = Network.builder(4).dense(8).tanh().dense(3).build();
        float[] x = new float[64 * 4];
        int[] y = new int[64];
        for (int i = 0; i < x.length; i++) x[i] = (float) Math.sin(i);
        for (int i = 0; i < 64; i++) y[i] = i % 3;
        try (CpuBackend be = new CpuBackend(1);
                NetworkProblem p = new NetworkProblem(be, net, x, y, null, 16, 0, NetworkProblem.Curvature.HESSIAN, 1);
                Vector w = be.vector(net.initialize(1));
                Minimizer m = new Minimizer(p, MinimizerOptions.builder().norm(NormKind.RMSPROP).maxEpochs(2).gradientTolerance(0).build(), w)) {
            Summary s = m.run();
            REACHED.add(s.termination());
            assertEquals(TerminationType.MAX_EPOCHS, s.termination());
            assertEquals(8, s.iterations());
        }
    }

    @AfterAll
    static void everyTerminationTypeWasReached() {
        assertEquals(EnumSet.allOf(TerminationType.class), REACHED);
    }
}
