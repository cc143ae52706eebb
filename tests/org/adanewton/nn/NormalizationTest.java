package org.adanewton.nn;

import static org.adanewton.Tolerances.*;
import static org.junit.jupiter.api.Assertions.*;

import java.util.SplittableRandom;
import org.adanewton.backend.Batch;
import org.adanewton.backend.NetworkModel;
import org.adanewton.backend.Vector;
import org.adanewton.backend.java.JavaBackend;
import org.junit.jupiter.api.Test;

/**
 * Batch norm and layer norm on the Java reference: the training-mode Hessian includes the terms of
 * the batch's mean and variance (and a product that froze them would fail the check by far), the
 * evaluation mode's running statistics, the running statistics' update, layer norm's formula.
 */
class NormalizationTest {
    private static final JavaBackend BE = new JavaBackend();
    private static final int ROWS = 7;

    /** A batch norm after a dense layer (1d) or a conv layer (2d), and the prefix network whose output is the batch norm's input (same parameter layout). */
    private record Case(Network net, Network prefix, int channels, int positions) {}

    private static Case case1d(double momentum) {
        return new Case(Network.builder(5).dense(4).batchNorm(1e-5, momentum).tanh().dense(3).loss(Loss.SQUARED_ERROR_SUM).build(),
                Network.builder(5).dense(4).loss(Loss.SQUARED_ERROR_SUM).build(), 4, 1);
    }

    private static Case case2d() {
        return new Case(Network.builder(2, 4, 4).conv2d(2, 3, 3, 1, 1).batchNorm().tanh().flatten().dense(3).loss(Loss.SOFTMAX_CROSS_ENTROPY).build(),
                Network.builder(2, 4, 4).conv2d(2, 3, 3, 1, 1).flatten().loss(Loss.SQUARED_ERROR_SUM).build(), 3, 16);
    }

    /** The batch norm's input per row (from the prefix network at the same parameters and inputs). */
    private static double[][] batchNormInput(Case c, double[] w) {
        int n = c.prefix.parameterCount();
        double[] wp = java.util.Arrays.copyOf(w, n);
        try (NetworkModel m = BE.model(c.prefix, ROWS); Batch b = TestNetworks.batch(BE, c.prefix, ROWS, 3); Vector v = BE.vector(wp)) {
            double[] out = m.forward(v, b); // TestNetworks.fill draws the inputs first: the same as the network's batch
            double[][] rows = new double[ROWS][];
            int size = c.channels * c.positions;
            for (int i = 0; i < ROWS; i++) rows[i] = java.util.Arrays.copyOfRange(out, i * size, (i + 1) * size);
            return rows;
        }
    }

    /** Per channel: the mean, then the biased variance, over the rows and positions (the statistics vector's layout). */
    private static double[] statistics(Case c, double[][] x) {
        double[] s = new double[2 * c.channels];
        double m = (double) ROWS * c.positions;
        for (int ch = 0; ch < c.channels; ch++) {
            double sum = 0, sq = 0;
            for (double[] row : x) for (int p = 0; p < c.positions; p++) sum += row[ch * c.positions + p];
            double mean = sum / m;
            for (double[] row : x) for (int p = 0; p < c.positions; p++) sq += Math.pow(row[ch * c.positions + p] - mean, 2);
            s[ch] = mean;
            s[c.channels + ch] = sq / m;
        }
        return s;
    }

    @Test
    void trainingHessianDifferentiatesThroughTheBatchStatistics() {
        for (Case c : new Case[] {case1d(0.1), case2d()}) {
            Network net = c.net;
            int n = net.parameterCount();
            double[] w0 = TestNetworks.point(net, 5), vd = TestNetworks.direction(n, 9);
            Layer0 first = new Layer0(net);
            try (NetworkModel train = BE.model(net, ROWS); NetworkModel frozen = BE.model(net, ROWS); Batch b = TestNetworks.batch(BE, net, ROWS, 3);
                    Vector w = BE.vector(w0); Vector v = BE.vector(vd); Vector g = BE.allocate(n); Vector gFrozen = BE.allocate(n);
                    Vector hv = BE.allocate(n); Vector hvFrozen = BE.allocate(n); Vector probe = BE.allocate(n)) {
                double loss = train.hvp(w, b, v, hv);
                train.gradient(w, b, g);
                double[] fd = FiniteDifferenceTest.differenceOfGradients(train, b, w0, vd, probe, g);
                train.gradient(w, b, g);
                assertClose("batch norm HVP of " + net.describe(), hv.toArray(), fd, FD_ATOL * 10, FD_RTOL * 10);

                // the same function with mean and variance frozen at the batch's values (evaluation mode)
                frozen.setTraining(false);
                frozen.setRunningStatistics(statistics(c, batchNormInput(c, w0)));
                assertClose("frozen statistics give the same loss", frozen.hvp(w, b, v, hvFrozen), loss, DOUBLE_ATOL, DOUBLE_RTOL);
                frozen.gradient(w, b, gFrozen);
                double[] h = hv.toArray(), hf = hvFrozen.toArray();
                double scale = 1, diff = 0, bound = 0;
                for (double f : fd) scale = Math.max(scale, Math.abs(f));
                for (int i = 0; i < n; i++) {
                    diff = Math.max(diff, Math.abs(h[i] - hf[i]));
                    bound = Math.max(bound, FD_ATOL * 10 * scale + FD_RTOL * 10 * Math.abs(fd[i]));
                }
                assertTrue(diff > 1000 * bound, "a product with frozen statistics differs from the exact one by only " + diff
                        + " (the tolerance is " + bound + "): the check would not see the statistics' terms");

                // a shift before batch norm cancels: the bias of the layer before has zero gradient and zero curvature in training mode
                double[] grad = g.toArray(), gradFrozen = gFrozen.toArray();
                double frozenBias = 0;
                for (int i = first.biasOffset; i < first.biasOffset + first.biasCount; i++) {
                    assertEquals(0, grad[i], DOUBLE_ATOL, "gradient of the bias before batch norm [" + i + "]");
                    assertEquals(0, h[i], DOUBLE_ATOL, "HVP at the bias before batch norm [" + i + "]");
                    frozenBias = Math.max(frozenBias, Math.abs(gradFrozen[i]));
                }
                assertTrue(frozenBias > 1e-3, "with frozen statistics the bias's gradient is " + frozenBias);
            }
        }
    }

    /** The first layer's bias. */
    private record Layer0(int biasOffset, int biasCount) {
        Layer0(Network net) {
            this(net.layers().get(0).biasOffset(), net.layers().get(0).biasCount());
        }
    }

    @Test
    void evaluationModeUsesTheRunningStatistics() {
        SplittableRandom r = new SplittableRandom(8);
        for (Network net : new Network[] {Network.builder(3).batchNorm().tanh().loss(Loss.SQUARED_ERROR_SUM).build(),
                Network.builder(2, 2, 3).batchNorm(1e-3, 0.1).flatten().loss(Loss.SQUARED_ERROR_SUM).build()}) {
            Network.BatchNorm bn = (Network.BatchNorm) net.layers().get(0);
            double[] stats = FiniteDifferenceTest.someStatistics(net, 6), w0 = new double[net.parameterCount()];
            for (int i = 0; i < w0.length; i++) w0[i] = r.nextDouble(-1.5, 1.5);
            int size = net.inputDim(), rows = 4;
            float[] x = inputs(net, rows, 2);
            try (NetworkModel m = BE.model(net, rows); Batch b = BE.batch(net, rows); Batch one = BE.batch(net, 1); Vector w = BE.vector(w0)) {
                b.set(x, new float[rows * size], rows);
                one.set(java.util.Arrays.copyOf(x, size), new float[size], 1);
                double[] training = m.forward(w, b);
                m.setTraining(false);
                m.setRunningStatistics(stats);
                double[] out = m.forward(w, b), single = m.forward(w, one);
                double[] expected = new double[out.length];
                for (int i = 0; i < rows; i++)
                    for (int u = 0; u < size; u++) {
                        int c = u / bn.positions();
                        double xhat = (x[i * size + u] - stats[c]) / Math.sqrt(stats[bn.channels() + c] + bn.eps());
                        double y = w0[bn.weightOffset() + c] * xhat + w0[bn.biasOffset() + c];
                        expected[i * size + u] = bn.activation().value(y);
                    }
                assertClose("evaluation batch norm of " + net, out, expected, DOUBLE_ATOL, DOUBLE_RTOL);
                assertClose("a row alone (rows are independent in evaluation mode)", single, java.util.Arrays.copyOf(out, size), DOUBLE_ATOL, DOUBLE_RTOL);
                double apart = 0;
                for (int i = 0; i < out.length; i++) apart = Math.max(apart, Math.abs(out[i] - training[i]));
                assertTrue(apart > 1e-2, "training mode (batch statistics) gives the same output as evaluation mode: " + apart);
            }
        }
    }

    /** Random inputs in [-1, 1]. */
    private static float[] inputs(Network net, int rows, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[rows * net.inputDim()];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextDouble(-1, 1);
        return x;
    }

    @Test
    void runningStatisticsFollowTheMomentumAndUnbiasedVariance() {
        for (Case c : new Case[] {case1d(0.3), case2d()}) {
            Network net = c.net;
            double momentum = ((Network.BatchNorm) net.layers().get(1)).momentum(), m = (double) ROWS * c.positions;
            double[] w0 = TestNetworks.point(net, 5), r0 = FiniteDifferenceTest.someStatistics(net, 7);
            double[] batch = statistics(c, batchNormInput(c, w0));
            try (NetworkModel model = BE.model(net, ROWS); Batch b = TestNetworks.batch(BE, net, ROWS, 3); Vector w = BE.vector(w0);
                    Vector g = BE.allocate(net.parameterCount()); Vector v = BE.vector(TestNetworks.direction(net.parameterCount(), 1));
                    Vector hv = BE.allocate(net.parameterCount())) {
                model.setRunningStatistics(r0);
                assertThrows(IllegalStateException.class, model::updateRunningStatistics, "no cached point yet");
                model.gradient(w, b, g);
                model.updateRunningStatistics();
                double[] expected = new double[r0.length];
                for (int ch = 0; ch < c.channels; ch++) {
                    expected[ch] = (1 - momentum) * r0[ch] + momentum * batch[ch];
                    int k = c.channels + ch;
                    expected[k] = (1 - momentum) * r0[k] + momentum * batch[k] * m / (m - 1);
                }
                assertClose("running statistics of " + net, model.runningStatistics(), expected, DOUBLE_ATOL, DOUBLE_RTOL);
                assertTrue(model.hasCachedPoint(), "the update keeps the cached point (computed in training mode)");
                model.hvpCached(v, hv);
                model.setTraining(false);
                String msg = assertThrows(IllegalStateException.class, model::updateRunningStatistics).getMessage();
                assertTrue(msg.contains("evaluation mode"), msg);
            }
        }
    }

    @Test
    void layerNormNormalizesEachGroupOfASample() {
        Network net = Network.builder(6).layerNorm(3, 1e-5).loss(Loss.SQUARED_ERROR_SUM).build();
        Network.LayerNorm ln = (Network.LayerNorm) net.layers().get(0);
        double[] w0 = new double[net.parameterCount()];
        SplittableRandom r = new SplittableRandom(3);
        for (int i = 0; i < w0.length; i++) w0[i] = r.nextDouble(-1.5, 1.5);
        int rows = 3;
        float[] x = inputs(net, rows, 4);
        try (NetworkModel m = BE.model(net, rows); Batch b = BE.batch(net, rows); Vector w = BE.vector(w0)) {
            b.set(x, new float[rows * 6], rows);
            double[] out = m.forward(w, b), expected = new double[out.length];
            for (int i = 0; i < rows; i++)
                for (int g = 0; g < ln.groups(); g++) {
                    int at = i * 6 + g * 3;
                    double mean = ((double) x[at] + x[at + 1] + x[at + 2]) / 3, var = 0;
                    for (int j = 0; j < 3; j++) var += Math.pow(x[at + j] - mean, 2) / 3;
                    for (int j = 0; j < 3; j++) expected[at + j] = w0[j] * (x[at + j] - mean) / Math.sqrt(var + 1e-5) + w0[3 + j];
                }
            assertClose("layer norm", out, expected, DOUBLE_ATOL, DOUBLE_RTOL);
            m.setTraining(false);
            assertClose("layer norm in evaluation mode", m.forward(w, b), expected, DOUBLE_ATOL, DOUBLE_RTOL);
        }
    }
}
