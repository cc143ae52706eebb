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

    private static int outputs(Loss loss) {
        return loss == Loss.SOFTMAX_CROSS_ENTROPY ? 4 : 3;
    }

    /**
     * Each new layer alone inside a small network, with the given loss: bias-free dense and conv,
     * global average pooling, dropout, embedding, add (with an activation), concat, a lone GELU,
     * batch norm 1d and 2d, layer norm over the whole sample and over groups.
     */
    public static List<Network> layers(Loss loss) {
        int out = outputs(loss);
        List<Network> nets = new ArrayList<>();
        nets.add(Network.builder(5).dense(4, false).tanh().dense(out, false).loss(loss).build());
        nets.add(Network.builder(2, 4, 4).conv2d(2, 2, 3, 1, 1, false).softplus().flatten().dense(out).loss(loss).build());
        nets.add(Network.builder(2, 4, 4).conv2d(2, 3, 3).tanh().globalAvgPool().dense(out).loss(loss).build());
        nets.add(Network.builder(5).dense(6).tanh().dropout(0.4).dense(out).loss(loss).build());
        nets.add(Network.builder(3).embedding(5, 2).dense(out).loss(loss).build());
        nets.add(Network.builder(5).dense(4).save("a").dense(4).tanh().add("a").sigmoid().dense(out).loss(loss).build());
        nets.add(Network.builder(5).save("in").dense(3).tanh().save("a").from("in").dense(2).concat("a").dense(out).loss(loss).build());
        nets.add(Network.builder(2, 4, 4).conv2d(2, 2, 3).maxPool2d(2).gelu().flatten().dense(out).loss(loss).build());
        nets.add(Network.builder(5).dense(4).batchNorm().tanh().dense(out).loss(loss).build());
        nets.add(Network.builder(2, 4, 4).conv2d(2, 3, 3, 1, 1).batchNorm().softplus().flatten().dense(out).loss(loss).build());
        nets.add(Network.builder(5).dense(6).layerNorm().gelu().dense(out).loss(loss).build());
        nets.add(Network.builder(2, 3, 3).conv2d(2, 2, 1).layerNorm(3, 1e-5).tanh().flatten().dense(out).loss(loss).build());
        return nets;
    }

    /** A residual CNN with batch norm 2d: bias-free convs, the block's input read by a conv and the add, GELU on the add, max pooling, global average pooling. */
    public static Network residualCnn(Loss loss, Regularization reg) {
        return Network.builder(2, 4, 4).conv2d(2, 2, 3, 1, 1, false).batchNorm().tanh().save("x").conv2d(2, 2, 3, 1, 1, false).batchNorm()
                .add("x").gelu().maxPool2d(2).conv2d(2, 3, 1).softplus().globalAvgPool().dense(outputs(loss)).loss(loss).regularization(reg).build();
    }

    /** An MLP with batch norm 1d after a bias-free dense, GELU, dropout and layer norm over groups of 3. */
    public static Network normMlp(Loss loss, Regularization reg) {
        return Network.builder(6).dense(7, false).batchNorm().gelu().dropout(0.25).dense(6).layerNorm(3, 1e-5).tanh().dense(outputs(loss))
                .loss(loss).regularization(reg).build();
    }

    /** A concat network: the input read by two convs, their outputs concatenated along the channels, a lone GELU, then a flat concat of two dense branches. */
    public static Network concatNet(Loss loss, Regularization reg) {
        return Network.builder(2, 4, 4).save("in").conv2d(2, 2, 3, 1, 1).tanh().save("a").from("in").conv2d(2, 3, 1, 1, 0, false).sigmoid()
                .concat("a").avgPool2d(2).gelu().flatten().save("f").dense(3).tanh().save("g").from("f").dense(2, false).concat("g")
                .dense(outputs(loss)).loss(loss).regularization(reg).build();
    }

    /** An embedding network: 4 indices into a table of 6 x 3, layer norm per token, a residual dense block with GELU. */
    public static Network embeddingNet(Loss loss, Regularization reg) {
        return Network.builder(4).embedding(6, 3).layerNorm(3, 1e-5).dense(5).gelu().save("h").dense(5).tanh().add("h").dense(outputs(loss))
                .loss(loss).regularization(reg).build();
    }

    /** The graph networks with the given loss (no regularization). */
    public static List<Network> graphs(Loss loss) {
        Regularization none = Regularization.NONE;
        return List.of(residualCnn(loss, none), normMlp(loss, none), concatNet(loss, none), embeddingNet(loss, none));
    }

    /**
     * The graph networks, each with another loss and some with regularization, kept tiny (the Java
     * reference is slow): a residual CNN with batch norm 2d, an MLP with batch norm 1d, dropout, GELU
     * and layer norm, a concat network, an embedding network.
     */
    public static List<Network> graphs() {
        return List.of(residualCnn(Loss.SOFTMAX_CROSS_ENTROPY, Regularization.squared(0.01)), normMlp(Loss.SQUARED_ERROR_MEAN, Regularization.NONE),
                concatNet(Loss.BINARY_CROSS_ENTROPY, Regularization.norm(0.02)), embeddingNet(Loss.SQUARED_ERROR_SUM, Regularization.NONE));
    }

    /** The bound of an embedding network's inputs (integer indices in [0, bound)); -1 without an embedding. */
    public static int indexBound(Network net) {
        int bound = -1;
        for (Network.Layer l : net.layers())
            if (l instanceof Network.Embedding e) bound = bound < 0 ? e.vocabulary() : Math.min(bound, e.vocabulary());
        return bound;
    }

    /** A batch of `rows` random samples (inputs in [-1, 1], or indices for an embedding; labels or targets random), seeded. */
    public static Batch batch(Backend backend, Network net, int rows, long seed) {
        Batch b = backend.batch(net, rows);
        fill(b, rows, seed);
        return b;
    }

    public static void fill(Batch b, int rows, long seed) {
        Network net = b.network();
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[rows * net.inputDim()];
        int bound = indexBound(net); // an embedding's inputs are indices
        for (int i = 0; i < x.length; i++) x[i] = bound > 0 ? r.nextInt(bound) : (float) r.nextDouble(-1, 1);
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
