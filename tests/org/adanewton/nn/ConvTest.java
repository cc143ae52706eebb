package org.adanewton.nn;

import static org.adanewton.Tolerances.*;
import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import java.util.SplittableRandom;
import org.adanewton.backend.Backend;
import org.adanewton.backend.Batch;
import org.adanewton.backend.NetworkModel;
import org.adanewton.backend.Vector;
import org.adanewton.backend.cpu.CpuBackend;
import org.adanewton.backend.java.JavaBackend;
import org.adanewton.train.Preset;
import org.junit.jupiter.api.Test;

/** Convolution and pooling: against a direct loop, ties, shapes and the paper's parameter counts. */
class ConvTest {

    /** out[co][y][x] = b[co] + sum W[co][ci][i][j] in[ci][y*s-p+i][x*s-p+j] (zero padding), written out. */
    private static double[] directConv(double[] in, int cin, int h, int w, double[] weights, double[] bias, int cout, int k, int s, int p) {
        int oh = (h + 2 * p - k) / s + 1, ow = (w + 2 * p - k) / s + 1;
        double[] out = new double[cout * oh * ow];
        for (int co = 0; co < cout; co++)
            for (int y = 0; y < oh; y++)
                for (int x = 0; x < ow; x++) {
                    double sum = bias[co];
                    for (int ci = 0; ci < cin; ci++)
                        for (int i = 0; i < k; i++)
                            for (int j = 0; j < k; j++) {
                                int iy = y * s - p + i, ix = x * s - p + j;
                                if (iy >= 0 && iy < h && ix >= 0 && ix < w)
                                    sum += weights[((co * cin + ci) * k + i) * k + j] * in[(ci * h + iy) * w + ix];
                            }
                    out[(co * oh + y) * ow + x] = sum;
                }
        return out;
    }

    @Test
    void convolutionWithStrideAndPaddingMatchesADirectLoop() {
        int cin = 3, h = 9, w = 7, cout = 4;
        for (int[] ksp : new int[][] {{3, 1, 0}, {3, 2, 1}, {2, 3, 2}, {5, 1, 2}}) {
            int k = ksp[0], s = ksp[1], p = ksp[2];
            Network net = Network.builder(cin, h, w).conv2d(cin, cout, k, s, p).flatten().loss(Loss.SQUARED_ERROR_SUM).build();
            double[] params = TestNetworks.point(net, 5);
            SplittableRandom r = new SplittableRandom(k * 100 + s);
            float[] x = new float[2 * cin * h * w];
            for (int i = 0; i < x.length; i++) x[i] = (float) r.nextDouble(-1, 1);
            Network.Conv2d conv = (Network.Conv2d) net.layers().get(0);
            double[] weights = java.util.Arrays.copyOfRange(params, 0, conv.weightCount());
            double[] bias = java.util.Arrays.copyOfRange(params, conv.biasOffset(), conv.biasOffset() + cout);
            for (Backend be : List.of(new JavaBackend(), new CpuBackend(2))) {
                try (NetworkModel m = be.model(net, 2); Batch b = be.batch(net, 2); Vector wv = be.vector(params)) {
                    b.set(x, new float[2 * net.outputDim()], 2);
                    double[] out = m.forward(wv, b);
                    for (int sample = 0; sample < 2; sample++) {
                        double[] in = new double[cin * h * w];
                        for (int i = 0; i < in.length; i++) in[i] = x[sample * in.length + i];
                        double[] expected = directConv(in, cin, h, w, weights, bias, cout, k, s, p);
                        double[] got = java.util.Arrays.copyOfRange(out, sample * expected.length, (sample + 1) * expected.length);
                        double tol = be instanceof JavaBackend ? DOUBLE_RTOL : FLOAT_RTOL;
                        assertClose(be.kind() + " conv k" + k + " s" + s + " p" + p, got, expected, tol, tol);
                    }
                }
            }
        }
    }

    /**
     * Max pooling over exact ties (a constant image gives equal values in every window): the first
     * maximum in scan order is taken on both backends, so the results are reproducible and agree.
     */
    @Test
    void maxPoolTiesAreResolvedDeterministically() {
        Network net = Network.builder(1, 4, 4).conv2d(1, 2, 1).relu().maxPool2d(2).conv2d(2, 2, 1).tanh().maxPool2d(2).flatten().dense(3).build();
        float[] x = new float[3 * 16];
        java.util.Arrays.fill(x, 0.5f);
        int[] y = {0, 1, 2};
        double[][] results = new double[3][];
        int run = 0;
        for (Backend be : List.of(new JavaBackend(), new CpuBackend(2), new CpuBackend(2))) {
            int n = net.parameterCount();
            try (NetworkModel m = be.model(net, 3); Batch b = be.batch(net, 3); Vector w = be.vector(TestNetworks.point(net, 1));
                    Vector v = be.vector(TestNetworks.direction(n, 2)); Vector g = be.allocate(n); Vector hv = be.allocate(n)) {
                b.set(x, y, 3);
                m.gradient(w, b, g);
                m.hvpCached(v, hv);
                double[] both = new double[2 * n];
                System.arraycopy(g.toArray(), 0, both, 0, n);
                System.arraycopy(hv.toArray(), 0, both, n, n);
                results[run++] = both;
            }
        }
        assertArrayEquals(results[1], results[2], 0.0, "two native runs differ");
        assertClose("native vs reference under ties", results[1], results[0], FLOAT_ATOL, FLOAT_RTOL);
    }

    @Test
    void presetsHaveThePapersParameterCounts() {
        assertEquals(101_770, Preset.get("fmnist-mlp").network().parameterCount());
        assertEquals(411_146, Preset.get("cifar-mlp").network().parameterCount());
        assertEquals(431_080, Preset.get("fmnist-conv").network().parameterCount());
        assertEquals(431_080, Preset.get("mnist-conv").network().parameterCount());
        assertEquals(62_006, Preset.get("cifar-conv").network().parameterCount());
        assertEquals(2_837_314, Preset.get("fmnist-ae").network().parameterCount());
        assertTrue(Preset.get("fmnist-conv").network().describe().endsWith("parameters: 431080"));
    }

    @Test
    void shapeErrorsSayWhatToDo() {
        String flat = assertThrows(IllegalArgumentException.class, () -> Network.builder(784).conv2d(1, 20, 5)).getMessage();
        assertTrue(flat.contains("needs a CxHxW input") && flat.contains("flat vector of 784") && flat.contains("Network.builder(channels, height, width)"), flat);
        String channels = assertThrows(IllegalArgumentException.class,
                () -> Network.builder(1, 28, 28).conv2d(1, 20, 5).maxPool2d(2).conv2d(3, 50, 5)).getMessage();
        assertTrue(channels.contains("expects 3 input channels but receives 20") && channels.contains("20x12x12"), channels);
        String dense = assertThrows(IllegalArgumentException.class, () -> Network.builder(1, 28, 28).conv2d(1, 4, 3).dense(10)).getMessage();
        assertTrue(dense.contains("needs a flat input") && dense.contains("4x26x26") && dense.contains("flatten()"), dense);
        String kernel = assertThrows(IllegalArgumentException.class, () -> Network.builder(1, 4, 4).conv2d(1, 2, 5)).getMessage();
        assertTrue(kernel.contains("kernel 5 is larger"), kernel);
        String end = assertThrows(IllegalArgumentException.class, () -> Network.builder(1, 4, 4).conv2d(1, 2, 3).build()).getMessage();
        assertTrue(end.contains("end with flatten()"), end);
        // an activation after a layer that takes none is a layer of its own
        Network pooled = Network.builder(1, 4, 4).maxPool2d(2).relu().flatten().dense(2).build();
        assertTrue(pooled.layers().get(1) instanceof Network.Activate a && a.activation() == Activation.RELU, pooled.describe());
        String before = assertThrows(IllegalStateException.class, () -> Network.builder(1, 4, 4).relu()).getMessage();
        assertTrue(before.contains("before any layer"), before);
    }
}
