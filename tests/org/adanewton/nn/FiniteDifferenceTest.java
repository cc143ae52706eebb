package org.adanewton.nn;

import static org.adanewton.Tolerances.*;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.adanewton.backend.Backend;
import org.adanewton.backend.Batch;
import org.adanewton.backend.NetworkModel;
import org.adanewton.backend.Vector;
import org.adanewton.backend.java.JavaBackend;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Gradient and HVP of the Java reference against central finite differences, in double: every
 * activation, loss and regularization on chains, each new layer alone in a small network and the
 * graph networks with every loss, in training mode (dropout at the model's seed, batch norm on the
 * batch's statistics: the loss is then a function of the whole batch) and in evaluation mode.
 */
class FiniteDifferenceTest {
    private static final JavaBackend BACKEND = new JavaBackend();

    static Stream<Network> networks() {
        List<Network> nets = new ArrayList<>(TestNetworks.all());
        for (Loss loss : Loss.values()) {
            nets.addAll(TestNetworks.layers(loss));
            nets.addAll(TestNetworks.graphs(loss));
        }
        nets.addAll(TestNetworks.graphs());
        return nets.stream();
    }

    /** The networks that behave differently in evaluation mode (batch norm, dropout). */
    static Stream<Network> networksWithModes() {
        return networks().filter(Network::hasModes);
    }

    /** Running statistics away from the initial ones (means in [-0.5, 0.5], variances in [0.5, 2]). */
    static double[] someStatistics(Network net, long seed) {
        double[] s = net.initialStatistics();
        SplittableRandom r = new SplittableRandom(seed);
        for (Network.Parameter p : net.statistics())
            for (int i = p.offset(); i < p.offset() + p.count(); i++)
                s[i] = p.kind().equals("running_var") ? r.nextDouble(0.5, 2) : r.nextDouble(-0.5, 0.5);
        return s;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("networks")
    void gradientMatchesCentralDifferences(Network net) {
        try (NetworkModel model = BACKEND.model(net, 7)) {
            assertGradientMatchesDifferences(model, 7);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("networks")
    void hessianVectorProductMatchesDifferencesOfGradients(Network net) {
        try (NetworkModel model = BACKEND.model(net, 7)) {
            model.setDropoutSeed(42);
            assertHvpMatchesDifferences(model, 7);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("networksWithModes")
    void evaluationModeDerivativesMatchDifferences(Network net) {
        try (NetworkModel model = BACKEND.model(net, 7)) {
            model.setTraining(false);
            model.setRunningStatistics(someStatistics(net, 4));
            assertGradientMatchesDifferences(model, 7);
            assertHvpMatchesDifferences(model, 7);
        }
    }

    /** The model's gradient at TestNetworks.point(net, 5) on TestNetworks.batch(.., rows, 3) against central differences of its loss. */
    static void assertGradientMatchesDifferences(NetworkModel model, int rows) {
        Network net = model.network();
        try (Batch b = TestNetworks.batch(BACKEND, net, rows, 3); Vector w = BACKEND.vector(TestNetworks.point(net, 5));
                Vector g = BACKEND.allocate(net.parameterCount()); Vector probe = BACKEND.allocate(net.parameterCount())) {
            model.gradient(w, b, g);
            double[] grad = g.toArray(), w0 = w.toArray(), fd = new double[w0.length];
            for (int i = 0; i < w0.length; i++) {
                double[] wp = w0.clone(), wm = w0.clone();
                wp[i] += FD_STEP;
                wm[i] -= FD_STEP;
                BACKEND.set(probe, wp);
                double fp = model.loss(probe, b);
                BACKEND.set(probe, wm);
                double fm = model.loss(probe, b);
                fd[i] = (fp - fm) / (2 * FD_STEP);
            }
            assertClose("gradient of " + net + (model.isTraining() ? "" : " (evaluation)"), grad, fd, FD_ATOL, FD_RTOL);
        }
    }

    /** The model's HVP (from scratch and cached) against central differences of its gradient along v = TestNetworks.direction(n, 9). */
    static void assertHvpMatchesDifferences(NetworkModel model, int rows) {
        Network net = model.network();
        try (Batch b = TestNetworks.batch(BACKEND, net, rows, 3); Vector w = BACKEND.vector(TestNetworks.point(net, 5));
                Vector v = BACKEND.vector(TestNetworks.direction(net.parameterCount(), 9)); Vector hv = BACKEND.allocate(net.parameterCount());
                Vector hvCached = BACKEND.allocate(net.parameterCount()); Vector g = BACKEND.allocate(net.parameterCount());
                Vector probe = BACKEND.allocate(net.parameterCount())) {
            model.hvp(w, b, v, hv);
            model.gradient(w, b, g);
            model.hvpCached(v, hvCached);
            double[] fd = differenceOfGradients(model, b, w.toArray(), v.toArray(), probe, g);
            String mode = model.isTraining() ? "" : " (evaluation)";
            assertClose("HVP of " + net + mode, hv.toArray(), fd, FD_ATOL * 10, FD_RTOL * 10);
            assertClose("cached HVP of " + net + mode, hvCached.toArray(), hv.toArray(), DOUBLE_ATOL, DOUBLE_RTOL);
        }
    }

    /** (g(w + h v) - g(w - h v)) / 2h with h = FD_STEP (probe and g: scratch vectors). */
    static double[] differenceOfGradients(NetworkModel model, Batch b, double[] w0, double[] vd, Vector probe, Vector g) {
        Backend be = model.backend();
        double[] wp = w0.clone(), wm = w0.clone();
        for (int i = 0; i < w0.length; i++) {
            wp[i] += FD_STEP * vd[i];
            wm[i] -= FD_STEP * vd[i];
        }
        be.set(probe, wp);
        model.gradient(probe, b, g);
        double[] gp = g.toArray();
        be.set(probe, wm);
        model.gradient(probe, b, g);
        double[] gm = g.toArray(), fd = new double[w0.length];
        for (int i = 0; i < w0.length; i++) fd[i] = (gp[i] - gm[i]) / (2 * FD_STEP);
        return fd;
    }
}
