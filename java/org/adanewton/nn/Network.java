package org.adanewton.nn;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A feed-forward network: dense layers (each followed by an activation) over one flat parameter
 * vector, a loss and an optional L2 regularization. Immutable; backend-independent. Build one with
 * {@link #builder(int)}: {@code Network.builder(784).dense(128).tanh().dense(10).build()}.
 *
 * <p>Parameter layout: for each dense layer its weight W (out x in, row-major, like PyTorch's
 * {@code Linear.weight}) followed by its bias b (out).
 */
public final class Network {

    /** One dense layer a = phi(x W' + b) and where its parameters sit in the flat vector. */
    public record Dense(int in, int out, Activation activation, int weightOffset, int biasOffset) {
        public int parameterCount() {
            return in * out + out;
        }
    }

    private final int inputDim;
    private final List<Dense> layers;
    private final Loss loss;
    private final Regularization regularization;
    private final int parameterCount;

    private Network(int inputDim, List<Dense> layers, Loss loss, Regularization regularization) {
        this.inputDim = inputDim;
        this.layers = List.copyOf(layers);
        this.loss = loss;
        this.regularization = regularization;
        Dense last = layers.get(layers.size() - 1);
        this.parameterCount = last.biasOffset() + last.out();
    }

    public static Builder builder(int inputDim) {
        return new Builder(inputDim);
    }

    public int inputDim() {
        return inputDim;
    }

    public int outputDim() {
        return layers.get(layers.size() - 1).out();
    }

    public List<Dense> layers() {
        return layers;
    }

    public Loss loss() {
        return loss;
    }

    public Regularization regularization() {
        return regularization;
    }

    public int parameterCount() {
        return parameterCount;
    }

    /** The same layers with another loss and regularization. */
    public Network with(Loss newLoss, Regularization newRegularization) {
        Builder b = builder(inputDim).loss(newLoss).regularization(newRegularization);
        for (Dense d : layers) b.dense(d.out()).activation(d.activation());
        return b.build();
    }

    /**
     * Deterministic initial parameters from a seed: Glorot (Xavier) uniform, U(-r, r) with
     * r = sqrt(6/(in+out)), for tanh, sigmoid, softplus and identity layers; He normal,
     * N(0, 2/in), for relu layers; biases zero. The same seed gives the same vector on every backend.
     */
    public double[] initialize(long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        double[] w = new double[parameterCount];
        for (Dense d : layers) {
            int n = d.in() * d.out();
            if (d.activation() == Activation.RELU) {
                double std = Math.sqrt(2.0 / d.in());
                for (int i = 0; i < n; i++) w[d.weightOffset() + i] = std * random.nextGaussian();
            } else {
                double r = Math.sqrt(6.0 / (d.in() + d.out()));
                for (int i = 0; i < n; i++) w[d.weightOffset() + i] = random.nextDouble(-r, r);
            }
        }
        return w;
    }

    /** The regularizer's value at w (double): (lambda/2) sum ||T||^2 or lambda sum ||T||. */
    public double regularizationValue(double[] w) {
        if (!regularization.isActive()) return 0;
        double total = 0;
        for (Dense d : layers) {
            double sw = 0, sb = 0;
            for (int i = d.weightOffset(); i < d.biasOffset(); i++) sw += w[i] * w[i];
            for (int i = d.biasOffset(); i < d.biasOffset() + d.out(); i++) sb += w[i] * w[i];
            total += regularization.kind() == Regularization.Kind.SQUARED ? 0.5 * (sw + sb) : Math.sqrt(sw) + Math.sqrt(sb);
        }
        return regularization.lambda() * total;
    }

    /** Matrix-product FLOPs of one forward pass per sample: 2 sum in*out. */
    public double forwardFlopsPerSample() {
        double f = 0;
        for (Dense d : layers) f += 2.0 * d.in() * d.out();
        return f;
    }

    /** Matrix-product FLOPs of one gradient per sample: forward, weight gradients, input gradients (not for the first layer). */
    public double gradientFlopsPerSample() {
        double f = 0;
        for (int l = 0; l < layers.size(); l++) f += 2.0 * layers.get(l).in() * layers.get(l).out() * (l == 0 ? 2 : 3);
        return f;
    }

    /** Matrix-product FLOPs of one HVP at a cached point per sample (R-forward and R-backward). */
    public double hvpCachedFlopsPerSample() {
        double f = 0;
        for (int l = 0; l < layers.size(); l++) f += 2.0 * layers.get(l).in() * layers.get(l).out() * (l == 0 ? 2 : 6);
        return f;
    }

    /** The spec array of the native API: input_dim, n_layers, then (DENSE, out, activation) each. */
    public int[] nativeSpec() {
        int[] spec = new int[2 + 3 * layers.size()];
        spec[0] = inputDim;
        spec[1] = layers.size();
        for (int l = 0; l < layers.size(); l++) {
            spec[2 + 3 * l] = 1;
            spec[3 + 3 * l] = layers.get(l).out();
            spec[4 + 3 * l] = layers.get(l).activation().nativeCode;
        }
        return spec;
    }

    /** A short name like "784-128-10 tanh". */
    public String shortName() {
        StringBuilder sb = new StringBuilder().append(inputDim);
        for (Dense d : layers) sb.append('-').append(d.out());
        Activation hidden = layers.get(0).activation();
        return sb.append(' ').append(hidden.name().toLowerCase()).toString();
    }

    /** Layer-by-layer description ending with "parameters: N". */
    public String describe() {
        StringBuilder sb = new StringBuilder();
        for (int l = 0; l < layers.size(); l++) {
            Dense d = layers.get(l);
            sb.append(String.format("  %2d  dense %d -> %d, %s  (%,d parameters)%n", l, d.in(), d.out(),
                    d.activation().name().toLowerCase(), d.parameterCount()));
        }
        sb.append("  loss: ").append(loss.name().toLowerCase());
        if (regularization.isActive())
            sb.append(", L2 ").append(regularization.kind().name().toLowerCase()).append(" lambda ").append(regularization.lambda());
        sb.append(System.lineSeparator()).append("parameters: ").append(parameterCount);
        return sb.toString();
    }

    @Override
    public String toString() {
        return "Network[" + shortName() + ", " + loss + ", " + parameterCount + " parameters]";
    }

    /** Builds a {@link Network}; validated at {@link #build()}. */
    public static final class Builder {
        private final int inputDim;
        private final List<Integer> widths = new ArrayList<>();
        private final List<Activation> activations = new ArrayList<>();
        private Loss loss = Loss.SOFTMAX_CROSS_ENTROPY;
        private Regularization regularization = Regularization.NONE;

        private Builder(int inputDim) {
            this.inputDim = inputDim;
        }

        /** Appends a dense layer with `out` outputs (identity activation until one is set). */
        public Builder dense(int out) {
            widths.add(out);
            activations.add(Activation.IDENTITY);
            return this;
        }

        /** Sets the activation of the last dense layer. */
        public Builder activation(Activation activation) {
            if (widths.isEmpty()) throw new IllegalStateException("activation " + activation + " given before any dense layer");
            activations.set(activations.size() - 1, activation);
            return this;
        }

        public Builder tanh() { return activation(Activation.TANH); }

        public Builder sigmoid() { return activation(Activation.SIGMOID); }

        public Builder relu() { return activation(Activation.RELU); }

        public Builder softplus() { return activation(Activation.SOFTPLUS); }

        public Builder loss(Loss loss) {
            this.loss = loss;
            return this;
        }

        public Builder regularization(Regularization regularization) {
            this.regularization = regularization;
            return this;
        }

        public Network build() {
            if (inputDim < 1) throw new IllegalArgumentException("inputDim = " + inputDim + "; must be >= 1");
            if (widths.isEmpty()) throw new IllegalArgumentException("the network has no layers; add at least one dense layer");
            if (loss == null) throw new IllegalArgumentException("loss is null");
            if (regularization == null) throw new IllegalArgumentException("regularization is null");
            List<Dense> layers = new ArrayList<>();
            long offset = 0;
            int in = inputDim;
            for (int l = 0; l < widths.size(); l++) {
                int out = widths.get(l);
                if (out < 1) throw new IllegalArgumentException("layer " + l + ": out = " + out + "; must be >= 1");
                long weights = (long) in * out;
                long end = offset + weights + out;
                if (end > Integer.MAX_VALUE - 16)
                    throw new IllegalArgumentException("the network has " + end + " parameters; at most " + (Integer.MAX_VALUE - 16) + " are supported");
                layers.add(new Dense(in, out, activations.get(l), (int) offset, (int) (offset + weights)));
                offset = end;
                in = out;
            }
            if (loss == Loss.SOFTMAX_CROSS_ENTROPY && in < 2)
                throw new IllegalArgumentException("softmax cross-entropy needs at least 2 outputs, the last layer has " + in);
            return new Network(inputDim, layers, loss, regularization);
        }
    }
}
