package org.adanewton.minimizer;

import static org.junit.jupiter.api.Assertions.*;

import org.adanewton.backend.Vector;
import org.adanewton.backend.cpu.CpuBackend;
import org.adanewton.nn.Network;
import org.adanewton.norm.NormKind;
import org.adanewton.problems.ChainedRosenbrock;
import org.junit.jupiter.api.Test;

/** A run saved after k iterations and resumed continues bit-for-bit like an uninterrupted one (the specified property). */
class ResumeTest {

    private static double[] deterministic(int total, int stopAt) {
        MinimizerOptions o = MinimizerOptions.builder().method(Method.TR_GLTR).norm(NormKind.ADAM).gradientTolerance(0).maxIterations(total).build();
        ChainedRosenbrock f = new ChainedRosenbrock(10);
        try (ObjectiveProblem p = new ObjectiveProblem(f); Vector x = p.backend().vector(f.start())) {
            if (stopAt < 0) {
                try (Minimizer m = new Minimizer(p, o, x)) {
                    m.run();
                }
                return x.toArray();
            }
            MinimizerState state;
            try (Minimizer first = new Minimizer(p, o.toBuilder().maxIterations(stopAt).build(), x)) {
                first.run();
                state = first.saveState();
            }
            try (ObjectiveProblem p2 = new ObjectiveProblem(f); Vector x2 = p2.backend().allocate(10); Minimizer second = new Minimizer(p2, o, x2)) {
                second.restoreState(state);
                second.run();
                return x2.toArray();
            }
        }
    }

    @Test
    void deterministicResumeIsExact() {
        assertArrayEquals(deterministic(25, -1), deterministic(25, 11));
    }

    private static double[] stochastic(int total, int stopAt) {
        Network net = Network.builder(5).dense(7).tanh().dense(3).build();
        float[] x = new float[100 * 5];
        int[] y = new int[100];
        for (int i = 0; i < x.length; i++) x[i] = (float) Math.cos(0.37 * i);
        for (int i = 0; i < 100; i++) y[i] = (i * 7) % 3;
        MinimizerOptions o = MinimizerOptions.builder().norm(NormKind.RMSPROP).gradientTolerance(0).maxIterations(total).build();
        try (CpuBackend be = new CpuBackend(2)) {
            if (stopAt < 0) {
                try (NetworkProblem p = new NetworkProblem(be, net, x, y, null, 32, 0, NetworkProblem.Curvature.HESSIAN, 5);
                        Vector w = be.vector(net.initialize(3)); Minimizer m = new Minimizer(p, o, w)) {
                    m.run();
                    return w.toArray();
                }
            }
            MinimizerState state;
            BatchSampler.State sampler;
            try (NetworkProblem p = new NetworkProblem(be, net, x, y, null, 32, 0, NetworkProblem.Curvature.HESSIAN, 5);
                    Vector w = be.vector(net.initialize(3)); Minimizer m = new Minimizer(p, o.toBuilder().maxIterations(stopAt).build(), w)) {
                m.run();
                state = m.saveState();
                sampler = p.sampler().state();
            }
            try (NetworkProblem p = new NetworkProblem(be, net, x, y, null, 32, 0, NetworkProblem.Curvature.HESSIAN, 999);
                    Vector w = be.allocate(net.parameterCount()); Minimizer m = new Minimizer(p, o, w)) {
                p.sampler().restore(sampler);
                m.restoreState(state);
                m.run();
                return w.toArray();
            }
        }
    }

    @Test
    void stochasticResumeIsExact() {
        assertArrayEquals(stochastic(20, -1), stochastic(20, 7));
    }

    @Test
    void foreignStateIsRefused() {
        ChainedRosenbrock f = new ChainedRosenbrock(4);
        try (ObjectiveProblem p = new ObjectiveProblem(f); Vector x = p.backend().vector(f.start());
                Minimizer tr = new Minimizer(p, MinimizerOptions.builder().build(), x);
                Minimizer arc = new Minimizer(p, MinimizerOptions.builder().method(Method.ARC).build(), x)) {
            MinimizerState s = tr.saveState();
            assertTrue(assertThrows(IllegalArgumentException.class, () -> arc.restoreState(s)).getMessage().contains("tr-steihaug"));
        }
    }
}
