package org.adanewton.nn;

import static org.adanewton.Tolerances.*;
import static org.junit.jupiter.api.Assertions.*;

import java.util.SplittableRandom;
import org.adanewton.backend.Batch;
import org.adanewton.backend.NetworkModel;
import org.adanewton.backend.Vector;
import org.adanewton.backend.java.JavaBackend;
import org.junit.jupiter.api.Test;

/** Dropout on the Java reference: one mask per seed, the mask's formula, evaluation mode ignores it. */
class DropoutTest {
    private static final JavaBackend BE = new JavaBackend();
    private static final Network NET = TestNetworks.normMlp(Loss.SOFTMAX_CROSS_ENTROPY, Regularization.NONE);
    /** NET's dropout's place: NET without it has the same parameters. */
    private static final Network WITHOUT = Network.builder(6).dense(7, false).batchNorm().gelu().dense(6).layerNorm(3, 1e-5).tanh().dense(4).build();

    private record Results(double loss, double[] grad, double[] hvp, double[] hvpCached) {}

    private static Results run(NetworkModel m, long seed) {
        int n = m.network().parameterCount();
        try (Batch b = TestNetworks.batch(BE, m.network(), 6, 1); Vector w = BE.vector(TestNetworks.point(m.network(), 2));
                Vector v = BE.vector(TestNetworks.direction(n, 3)); Vector g = BE.allocate(n); Vector hv = BE.allocate(n); Vector hc = BE.allocate(n)) {
            m.setDropoutSeed(seed);
            m.hvp(w, b, v, hv);
            double loss = m.gradient(w, b, g);
            m.hvpCached(v, hc);
            return new Results(loss, g.toArray(), hv.toArray(), hc.toArray());
        }
    }

    @Test
    void oneSeedIsOneMask() {
        try (NetworkModel m = BE.model(NET, 6)) {
            Results first = run(m, 11), other = run(m, 12), again = run(m, 11);
            assertClose("loss at the same seed", again.loss, first.loss, DOUBLE_ATOL, DOUBLE_RTOL);
            assertClose("gradient at the same seed", again.grad, first.grad, DOUBLE_ATOL, DOUBLE_RTOL);
            assertClose("HVP at the same seed", again.hvp, first.hvp, DOUBLE_ATOL, DOUBLE_RTOL);
            assertClose("cached HVP = HVP from scratch", first.hvpCached, first.hvp, DOUBLE_ATOL, DOUBLE_RTOL);
            assertFalse(close(other.loss, first.loss, 1e-6, 1e-6), "another seed gives the same loss " + other.loss);
        }
    }

    @Test
    void evaluationModeIgnoresTheMask() {
        try (NetworkModel m = BE.model(NET, 6); NetworkModel plain = BE.model(WITHOUT, 6)) {
            assertEquals(WITHOUT.parameterCount(), NET.parameterCount());
            double training = run(m, 11).loss;
            m.setTraining(false);
            plain.setTraining(false);
            Results a = run(m, 11), b = run(m, 12), reference = run(plain, 0);
            assertClose("evaluation loss, two seeds", b.loss, a.loss, DOUBLE_ATOL, DOUBLE_RTOL);
            assertClose("evaluation loss = the network without dropout", a.loss, reference.loss, DOUBLE_ATOL, DOUBLE_RTOL);
            assertClose("evaluation gradient = the network without dropout", a.grad, reference.grad, DOUBLE_ATOL, DOUBLE_RTOL);
            assertClose("evaluation HVP = the network without dropout", a.hvp, reference.hvp, DOUBLE_ATOL, DOUBLE_RTOL);
            assertFalse(close(training, a.loss, 1e-6, 1e-6), "training mode gives the evaluation loss " + training);
        }
    }

    /** a = m x / (1 - p) with m from Network.dropoutKeeps(seed, layer, row, unit, p), through an identity dense layer. */
    @Test
    void theMaskIsDropoutKeepsScaledByTheKeptFraction() {
        double p = 0.3;
        int size = 6, rows = 50;
        Network net = Network.builder(size).dense(size).dropout(p).loss(Loss.SQUARED_ERROR_SUM).build();
        double[] w0 = new double[net.parameterCount()];
        for (int j = 0; j < size; j++) w0[j * size + j] = 1; // W = I, b = 0
        float[] x = new float[rows * size];
        SplittableRandom r = new SplittableRandom(5);
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextDouble(0.5, 1.5);
        try (NetworkModel m = BE.model(net, rows); Batch b = BE.batch(net, rows); Vector w = BE.vector(w0)) {
            b.set(x, new float[rows * size], rows);
            m.setDropoutSeed(77);
            double[] out = m.forward(w, b), expected = new double[out.length];
            int dropped = 0;
            for (int i = 0; i < rows; i++)
                for (int u = 0; u < size; u++) {
                    boolean keeps = Network.dropoutKeeps(77, 1, i, u, p);
                    expected[i * size + u] = keeps ? x[i * size + u] / (1 - p) : 0;
                    if (!keeps) dropped++;
                }
            assertClose("dropout output", out, expected, DOUBLE_ATOL, DOUBLE_RTOL);
            double fraction = (double) dropped / (rows * size); // binomial: standard deviation 0.026 for 300 units
            assertEquals(p, fraction, 0.1, "fraction of dropped units");
        }
    }
}
