package org.adanewton.nn;

import static org.adanewton.Tolerances.*;

import java.util.stream.Stream;
import org.adanewton.backend.Batch;
import org.adanewton.backend.NetworkModel;
import org.adanewton.backend.Vector;
import org.adanewton.backend.java.JavaBackend;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Gradient and HVP of the Java reference against central finite differences, in double. */
class FiniteDifferenceTest {
    private final JavaBackend backend = new JavaBackend();

    static Stream<Network> networks() {
        return TestNetworks.all().stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("networks")
    void gradientMatchesCentralDifferences(Network net) {
        try (NetworkModel model = backend.model(net, 7); Batch b = TestNetworks.batch(backend, net, 7, 3);
                Vector w = backend.vector(TestNetworks.point(net, 5)); Vector g = backend.allocate(net.parameterCount());
                Vector probe = backend.allocate(net.parameterCount())) {
            model.gradient(w, b, g);
            double[] grad = g.toArray(), w0 = w.toArray(), fd = new double[w0.length];
            for (int i = 0; i < w0.length; i++) {
                double[] wp = w0.clone(), wm = w0.clone();
                wp[i] += FD_STEP;
                wm[i] -= FD_STEP;
                backend.set(probe, wp);
                double fp = model.loss(probe, b);
                backend.set(probe, wm);
                double fm = model.loss(probe, b);
                fd[i] = (fp - fm) / (2 * FD_STEP);
            }
            assertClose("gradient of " + net, grad, fd, FD_ATOL, FD_RTOL);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("networks")
    void hessianVectorProductMatchesDifferencesOfGradients(Network net) {
        try (NetworkModel model = backend.model(net, 7); Batch b = TestNetworks.batch(backend, net, 7, 3);
                Vector w = backend.vector(TestNetworks.point(net, 5)); Vector v = backend.vector(TestNetworks.direction(net.parameterCount(), 9));
                Vector hv = backend.allocate(net.parameterCount()); Vector hvCached = backend.allocate(net.parameterCount());
                Vector g = backend.allocate(net.parameterCount()); Vector probe = backend.allocate(net.parameterCount())) {
            model.hvp(w, b, v, hv);
            model.gradient(w, b, g);
            model.hvpCached(v, hvCached);
            double[] w0 = w.toArray(), vd = v.toArray(), wp = w0.clone(), wm = w0.clone();
            for (int i = 0; i < w0.length; i++) {
                wp[i] += FD_STEP * vd[i];
                wm[i] -= FD_STEP * vd[i];
            }
            backend.set(probe, wp);
            model.gradient(probe, b, g);
            double[] gp = g.toArray();
            backend.set(probe, wm);
            model.gradient(probe, b, g);
            double[] gm = g.toArray(), fd = new double[w0.length];
            for (int i = 0; i < w0.length; i++) fd[i] = (gp[i] - gm[i]) / (2 * FD_STEP);
            assertClose("HVP of " + net, hv.toArray(), fd, FD_ATOL * 10, FD_RTOL * 10);
            assertClose("cached HVP of " + net, hvCached.toArray(), hv.toArray(), DOUBLE_ATOL, DOUBLE_RTOL);
        }
    }
}
