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
 * loss and regularization, on 1 and 3 threads, for a batch of 1 and a batch larger than the widths.
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

    private record Results(double[] out, double loss, double[] grad, double[] hvp, double hvpLoss, double[] hvpCached, double[] gn) {}

    private static Results run(Backend be, Network net, int rows) {
        int n = net.parameterCount();
        try (NetworkModel model = be.model(net, 40); Batch b = TestNetworks.batch(be, net, rows, 11);
                Vector w = be.vector(TestNetworks.point(net, 12)); Vector v = be.vector(TestNetworks.direction(n, 13));
                Vector u = be.vector(TestNetworks.direction(n, 14)); Vector g = be.allocate(n); Vector hv = be.allocate(n);
                Vector hc = be.allocate(n); Vector gn = be.allocate(n)) {
            double[] out = model.forward(w, b);
            double loss = model.loss(w, b);
            double hvpLoss = model.hvp(w, b, u, hv);
            model.gradient(w, b, g);
            model.hvpCached(v, hc);
            model.gaussNewtonCached(v, gn);
            return new Results(out, loss, g.toArray(), hv.toArray(), hvpLoss, hc.toArray(), gn.toArray());
        }
    }

    @ParameterizedTest(name = "{0}, threads {1}, rows {2}")
    @MethodSource("cases")
    void nativeMatchesReference(Network net, int threads, int rows) {
        Results ref = run(REFERENCE, net, rows);
        Results cpu;
        try (CpuBackend be = new CpuBackend(threads)) {
            cpu = run(be, net, rows);
        }
        assertClose("forward", cpu.out, ref.out, FLOAT_ATOL, FLOAT_RTOL);
        assertClose("loss", cpu.loss, ref.loss, FLOAT_ATOL, FLOAT_RTOL);
        assertClose("loss from hvp", cpu.hvpLoss, ref.loss, FLOAT_ATOL, FLOAT_RTOL);
        assertClose("gradient", cpu.grad, ref.grad, FLOAT_ATOL, FLOAT_RTOL);
        assertClose("hvp", cpu.hvp, ref.hvp, FLOAT_ATOL, FLOAT_RTOL);
        assertClose("cached hvp", cpu.hvpCached, ref.hvpCached, FLOAT_ATOL, FLOAT_RTOL);
        assertClose("gauss-newton", cpu.gn, ref.gn, FLOAT_ATOL, FLOAT_RTOL);
    }
}
