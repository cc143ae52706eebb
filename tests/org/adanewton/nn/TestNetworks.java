package org.adanewton.nn;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.adanewton.backend.Backend;
import org.adanewton.backend.Batch;

/** Small networks and data for the numerical tests. */
public final class TestNetworks {
    private TestNetworks() {}

    /** 6 -> 8 (act) -> 5 (act) -> out, with the given loss and regularization. */
    public static Network small(Activation act, Loss loss, Regularization reg) {
        Network.Builder b = Network.builder(6).dense(8).activation(act).dense(5).activation(act);
        b.dense(loss == Loss.SOFTMAX_CROSS_ENTROPY ? 4 : 3);
        return b.loss(loss).regularization(reg).build();
    }

    /**
     * Small ConvNets covering stride, padding, max and average pooling, every activation in a conv,
     * with each loss: 2x6x6 -> conv3x3 pad1 -> maxpool2 -> conv2x2 -> flatten -> dense, and
     * 2x7x7 -> conv3x3 stride 2 pad 1 -> avgpool 2 stride 1 -> flatten -> dense.
     */
    public static List<Network> convNets() {
        List<Network> nets = new ArrayList<>();
        Activation[] acts = Activation.values();
        int i = 0;
        for (Loss l : Loss.values()) {
            Activation a1 = acts[i++ % acts.length], a2 = acts[i++ % acts.length];
            int out = l == Loss.SOFTMAX_CROSS_ENTROPY ? 4 : 3;
            nets.add(Network.builder(2, 6, 6).conv2d(2, 3, 3, 1, 1).activation(a1).maxPool2d(2).conv2d(3, 2, 2).activation(a2).flatten().dense(out)
                    .loss(l).regularization(l == Loss.SQUARED_ERROR_SUM ? Regularization.norm(0.02) : Regularization.squared(0.01)).build());
            nets.add(Network.builder(2, 7, 7).conv2d(2, 3, 3, 2, 1).activation(a2).avgPool2d(2, 1).flatten().dense(5).activation(a1).dense(out).loss(l)
                    .build());
        }
        return nets;
    }

    /** Every activation x loss x regularization combination. */
    public static List<Network> all() {
        List<Network> nets = new ArrayList<>();
        for (Activation a : Activation.values())
            for (Loss l : Loss.values())
                for (Regularization r : new Regularization[] {Regularization.NONE, Regularization.squared(0.03), Regularization.norm(0.02)})
                    nets.add(small(a, l, r));
        nets.addAll(convNets());
        return nets;
    }

    /** A batch of `rows` random samples (inputs in [-1, 1], labels or targets random), seeded. */
    public static Batch batch(Backend backend, Network net, int rows, long seed) {
        Batch b = backend.batch(net, rows);
        fill(b, rows, seed);
        return b;
    }

    public static void fill(Batch b, int rows, long seed) {
        Network net = b.network();
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[rows * net.inputDim()];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextDouble(-1, 1);
        if (net.loss().usesLabels()) {
            int[] y = new int[rows];
            for (int i = 0; i < rows; i++) y[i] = r.nextInt(net.outputDim());
            b.set(x, y, rows);
        } else {
            float[] t = new float[rows * net.outputDim()];
            boolean probabilities = net.loss() == Loss.BINARY_CROSS_ENTROPY;
            for (int i = 0; i < t.length; i++) t[i] = (float) (probabilities ? r.nextDouble() : r.nextDouble(-1, 1));
            b.set(x, t, rows);
        }
    }

    /** Parameters: the seeded initialization plus a small random perturbation (non-zero biases). */
    public static double[] point(Network net, long seed) {
        double[] w = net.initialize(seed);
        SplittableRandom r = new SplittableRandom(seed + 17);
        for (int i = 0; i < w.length; i++) w[i] += 0.3 * r.nextDouble(-1, 1);
        return w;
    }

    public static double[] direction(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = r.nextGaussian();
        return v;
    }
}
