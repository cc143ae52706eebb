package org.adanewton.nn;

import static org.adanewton.Tolerances.*;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.adanewton.backend.Backend;
import org.adanewton.backend.Batch;
import org.adanewton.backend.GpuTest;
import org.adanewton.backend.NetworkModel;
import org.adanewton.backend.Vector;
import org.adanewton.backend.cpu.CpuBackend;
import org.adanewton.backend.cuda.CudaBackend;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The CUDA engine against the CPU engine (which NativeVsJavaTest checks against the Java
 * reference) on the graph networks and every new layer (bias-free dense and conv, global average
 * pooling, dropout with a seed, embedding, add, concat, a lone activation, batch norm 1d and 2d,
 * layer norm), in training and evaluation mode: forward, loss, gradient, HVP from scratch, cached
 * HVP, Gauss-Newton product and the running statistics updated from the batch's. Runs only where a
 * GPU (or the CPU emulation) answers (see GpuTest).
 */
@GpuTest
class CudaGraphParityGpuTest {
    private static final int ROWS = 9;

    static Stream<Arguments> cases() {
        List<Network> nets = new ArrayList<>();
        for (Loss loss : Loss.values()) nets.addAll(TestNetworks.layers(loss));
        nets.addAll(TestNetworks.graphs());
        nets.add(Network.builder(6).dense(8).gelu().save("a").dropout(0.3).dense(8, false).tanh().add("a").relu().save("b").dense(5).concat("b")
                .dense(3).loss(Loss.SQUARED_ERROR_SUM).build());
        List<Arguments> list = new ArrayList<>();
        for (Network net : nets)
            for (boolean training : net.hasModes() ? new boolean[] {true, false} : new boolean[] {true}) list.add(Arguments.of(net, training));
        return list.stream();
    }

    private static double[] run(Backend be, Network net, boolean training) {
        int n = net.parameterCount();
        try (NetworkModel m = be.model(net, ROWS); Batch b = TestNetworks.batch(be, net, ROWS, 11); Vector w = be.vector(TestNetworks.point(net, 12));
                Vector v = be.vector(TestNetworks.direction(n, 13)); Vector g = be.allocate(n); Vector hv = be.allocate(n); Vector gn = be.allocate(n);
                Vector hs = be.allocate(n)) {
            m.setTraining(training);
            m.setDropoutSeed(987);
            if (!training) m.setRunningStatistics(FiniteDifferenceTest.someStatistics(net, 7));
            double[] out = m.forward(w, b);
            double loss = m.loss(w, b);
            m.hvp(w, b, v, hs);
            double gradientLoss = m.gradient(w, b, g);
            m.hvpCached(v, hv);
            m.gaussNewtonCached(v, gn);
            if (training) m.updateRunningStatistics();
            double[] running = m.runningStatistics();
            double[] all = new double[out.length + 2 + 4 * n + running.length];
            System.arraycopy(out, 0, all, 0, out.length);
            all[out.length] = loss;
            all[out.length + 1] = gradientLoss;
            int at = out.length + 2;
            for (Vector x : new Vector[] {g, hv, gn, hs}) {
                System.arraycopy(x.toArray(), 0, all, at, n);
                at += n;
            }
            System.arraycopy(running, 0, all, at, running.length);
            return all;
        }
    }

    @ParameterizedTest(name = "{0}, training {1}")
    @MethodSource("cases")
    void graphKernelsMatchTheCpuEngine(Network net, boolean training) {
        double[] cpu;
        try (CpuBackend be = new CpuBackend(2)) {
            cpu = run(be, net, training);
        }
        try (CudaBackend gpu = new CudaBackend()) {
            assertClose("forward, loss, gradient, HVP, GN, HVP from scratch, running statistics (training " + training + ") of " + net.describe(), run(gpu, net, training), cpu,
                    FLOAT_ATOL, FLOAT_RTOL);
        }
    }
}
