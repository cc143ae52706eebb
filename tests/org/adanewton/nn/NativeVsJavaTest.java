package org.adanewton.nn;

import static org.adanewton.Tolerances.*;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.adanewton.backend.Backend;
import org.adanewton.backend.Batch;
import org.adanewton.backend.NetworkModel;
import org.adanewton.backend.Vector;
import org.adanewton.backend.cpu.CpuBackend;
import org.adanewton.backend.java.JavaBackend;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every network kernel of the CPU backend (float32) against the Java reference (double): forward,
 * loss, gradient, HVP from scratch, cached HVP and Gauss-Newton product; for every activation,
 * loss and regularization, on 1 and 3 threads, for a batch of 1 and a batch larger than the widths;
 * and for the graph networks and every new layer alone (bias-free dense and conv, global average
 * pooling, dropout, embedding, add, concat, a lone activation, batch norm 1d and 2d, layer norm),
 * also the batch statistics that update the running ones, in training mode (with a dropout seed)
 * and in evaluation mode (with set running statistics), on 1 and 2 threads (batch norm's
 * cross-block reductions included).
 */
class NativeVsJavaTest {
    private static final JavaBackend REFERENCE = new JavaBackend();

    static Stream<Arguments> cases() {
        List<Arguments> list = new ArrayList<>();
        for (int threads : new int[] {1, 3})
            for (int rows : new int[] {1, 37})
                for (Network net : TestNetworks.all()) list.add(Arguments.of(net, threads, rows));
        return list.stream();
    }

    static Stream<Arguments> graphCases() {
        List<Network> nets = new ArrayList<>(TestNetworks.graphs());
        for (Loss loss : Loss.values()) nets.addAll(TestNetworks.layers(loss));
        nets.addAll(TestNetworks.graphs(Loss.SOFTMAX_CROSS_ENTROPY));
        List<Arguments> list = new ArrayList<>();
        for (Network net : nets)
            for (boolean training : net.hasModes() ? new boolean[] {true, false} : new boolean[] {true})
                for (int threads : new int[] {1, 2}) list.add(Arguments.of(net, training, threads));
        return list.stream();
    }

    private record Results(double[] out, double loss, double[] grad, double[] hvp, double hvpLoss, double[] hvpCached, double[] gn, double[] running) {}

    private static Results run(Backend be, Network net, int rows, boolean training) {
        int n = net.parameterCount();
        try (NetworkModel model = be.model(net, 40); Batch b = TestNetworks.batch(be, net, rows, 11);
                Vector w = be.vector(TestNetworks.point(net, 12)); Vector v = be.vector(TestNetworks.direction(n, 13));
                Vector u = be.vector(TestNetworks.direction(n, 14)); Vector g = be.allocate(n); Vector hv = be.allocate(n);
                Vector hc = be.allocate(n); Vector gn = be.allocate(n)) {
            model.setTraining(training);
            model.setDropoutSeed(-424242);
            if (!training) model.setRunningStatistics(FiniteDifferenceTest.someStatistics(net, 5));
            double[] out = model.forward(w, b);
            double loss = model.loss(w, b);
            double hvpLoss = model.hvp(w, b, u, hv);
            model.gradient(w, b, g);
            model.hvpCached(v, hc);
            model.gaussNewtonCached(v, gn);
            if (training) model.updateRunningStatistics();
            return new Results(out, loss, g.toArray(), hv.toArray(), hvpLoss, hc.toArray(), gn.toArray(), model.runningStatistics());
        }
    }

    private static void compare(Network net, int threads, int rows, boolean training) {
        Results ref = run(REFERENCE, net, rows, training);
        Results cpu;
        try (CpuBackend be = new CpuBackend(threads)) {
            cpu = run(be, net, rows, training);
        }
        String where = " (" + (training ? "training" : "evaluation") + ", " + threads + " threads, " + rows + " rows) of" + System.lineSeparator()
                + net.describe();
        assertClose("forward" + where, cpu.out, ref.out, FLOAT_ATOL, FLOAT_RTOL);
        assertClose("loss" + where, cpu.loss, ref.loss, FLOAT_ATOL, FLOAT_RTOL);
        assertClose("loss from hvp" + where, cpu.hvpLoss, ref.loss, FLOAT_ATOL, FLOAT_RTOL);
        assertClose("gradient" + where, cpu.grad, ref.grad, FLOAT_ATOL, FLOAT_RTOL);
        assertClose("hvp" + where, cpu.hvp, ref.hvp, FLOAT_ATOL, FLOAT_RTOL);
        assertClose("cached hvp" + where, cpu.hvpCached, ref.hvpCached, FLOAT_ATOL, FLOAT_RTOL);
        assertClose("gauss-newton" + where, cpu.gn, ref.gn, FLOAT_ATOL, FLOAT_RTOL);
        assertClose("running statistics" + where, cpu.running, ref.running, FLOAT_ATOL, FLOAT_RTOL);
    }

    @ParameterizedTest(name = "{0}, threads {1}, rows {2}")
    @MethodSource("cases")
    void nativeMatchesReference(Network net, int threads, int rows) {
        compare(net, threads, rows, true);
    }

    @ParameterizedTest(name = "{0}, training {1}, threads {2}")
    @MethodSource("graphCases")
    void graphsAndNewLayersMatchReference(Network net, boolean training, int threads) {
        compare(net, threads, 9, training);
    }
}
