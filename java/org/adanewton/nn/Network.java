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
 *
 * <p>Tensor names ({@link #parameters()}): those of the same model written as a PyTorch
 * {@code nn.Sequential}, "I.weight" and "I.bias" with I the layer's index among the Sequential's
 * modules (see {@link #sequentialIndex(int)}).
 *
 * <p>Thread safety: immutable: safe to share between threads (its Builder is not thread-safe).
 */
public final class Network {

    /** A layer and where its parameters sit in the flat vector (-1 when it has none). */
    public sealed interface Layer permits Dense, Conv2d, Pool2d, Flatten {
        int inputSize();

        int outputSize();

        /** The activation applied to the layer's output (IDENTITY for pooling and flatten). */
        Activation activation();

        int weightOffset();

        int biasOffset();

        /** The weight tensor's shape (PyTorch's layout), or an empty array. */
        long[] weightShape();

        int biasCount();

        default int weightCount() {
            long n = 1;
            for (long d : weightShape()) n *= d;
            return weightShape().length == 0 ? 0 : (int) n;
        }

        default boolean hasParameters() {
            return weightOffset() >= 0;
        }

        default int parameterCount() {
            return weightCount() + biasCount();
        }

        /** One line for {@link Network#describe()}. */
        String describe();
    }

    /** A dense layer a = phi(W x + b), W out x in (row-major, as PyTorch's Linear.weight). */
    public record Dense(int in, int out, Activation activation, int weightOffset, int biasOffset) implements Layer {
        public int inputSize() { return in; }

        public int outputSize() { return out; }

        public long[] weightShape() { return new long[] {out, in}; }

        public int biasCount() { return out; }

        public String describe() {
            return String.format("dense %d -> %d, %s", in, out, activation.name().toLowerCase());
        }
    }

    /**
     * A 2-D convolution on NCHW inputs, a = phi(W * x + b), W out x in x k x k (as PyTorch's
     * Conv2d.weight), with stride and zero padding.
     */
    public record Conv2d(int inChannels, int inHeight, int inWidth, int outChannels, int kernel, int stride, int padding, Activation activation,
            int weightOffset, int biasOffset) implements Layer {
        public int outHeight() { return (inHeight + 2 * padding - kernel) / stride + 1; }

        public int outWidth() { return (inWidth + 2 * padding - kernel) / stride + 1; }

        public int inputSize() { return inChannels * inHeight * inWidth; }

        public int outputSize() { return outChannels * outHeight() * outWidth(); }

        public long[] weightShape() { return new long[] {outChannels, inChannels, kernel, kernel}; }

        public int biasCount() { return outChannels; }

        public String describe() {
            return String.format("conv2d %dx%dx%d -> %dx%dx%d, kernel %d, stride %d, padding %d, %s", inChannels, inHeight, inWidth, outChannels,
                    outHeight(), outWidth(), kernel, stride, padding, activation.name().toLowerCase());
        }
    }

    /** Max or average pooling over k x k windows with a stride (no padding); max ties go to the first maximum in scan order. */
    public record Pool2d(boolean max, int channels, int inHeight, int inWidth, int kernel, int stride) implements Layer {
        public int outHeight() { return (inHeight - kernel) / stride + 1; }

        public int outWidth() { return (inWidth - kernel) / stride + 1; }

        public int inputSize() { return channels * inHeight * inWidth; }

        public int outputSize() { return channels * outHeight() * outWidth(); }

        public Activation activation() { return Activation.IDENTITY; }

        public int weightOffset() { return -1; }

        public int biasOffset() { return -1; }

        public long[] weightShape() { return new long[0]; }

        public int biasCount() { return 0; }

        public String describe() {
            return String.format("%s %dx%dx%d -> %dx%dx%d, kernel %d, stride %d", max ? "maxpool2d" : "avgpool2d", channels, inHeight, inWidth,
                    channels, outHeight(), outWidth(), kernel, stride);
        }
    }

    /** Flattens C x H x W to one vector (NCHW order, as PyTorch's flatten): free, no computation. */
    public record Flatten(int channels, int height, int width) implements Layer {
        public int inputSize() { return channels * height * width; }

        public int outputSize() { return inputSize(); }

        public Activation activation() { return Activation.IDENTITY; }

        public int weightOffset() { return -1; }

        public int biasOffset() { return -1; }

        public long[] weightShape() { return new long[0]; }

        public int biasCount() { return 0; }

        public String describe() {
            return String.format("flatten %dx%dx%d -> %d", channels, height, width, inputSize());
        }
    }

    private final int[] inputShape; // {dim} or {c, h, w}
    private final List<Layer> layers;
    private final Loss loss;
    private final Regularization regularization;
    private final int parameterCount;
    /** Each layer's index in the equivalent nn.Sequential (the one place the naming rule is computed). */
    private final int[] sequentialIndex;
    private final List<Parameter> parameters;

    private Network(int[] inputShape, List<Layer> layers, Loss loss, Regularization regularization) {
        this.inputShape = inputShape.clone();
        this.layers = List.copyOf(layers);
        this.loss = loss;
        this.regularization = regularization;
        int count = 0;
        for (Layer l : layers) count += l.parameterCount();
        this.parameterCount = count;
        this.sequentialIndex = new int[layers.size()];
        List<Parameter> named = new ArrayList<>();
        int module = 0;
        for (int l = 0; l < layers.size(); l++) {
            Layer layer = layers.get(l);
            sequentialIndex[l] = module;
            if (layer.hasParameters()) {
                named.add(new Parameter(module + ".weight", l, "weight", layer.weightShape(), layer.weightOffset()));
                named.add(new Parameter(module + ".bias", l, "bias", new long[] {layer.biasCount()}, layer.biasOffset()));
            }
            module += layer.activation() == Activation.IDENTITY ? 1 : 2;
        }
        this.parameters = List.copyOf(named);
    }

    /** A network on flat input vectors of this size. */
    public static Builder builder(int inputDim) {
        return new Builder(new int[] {inputDim});
    }

    /** A network on images of channels x height x width (NCHW per sample). */
    public static Builder builder(int channels, int height, int width) {
        return new Builder(new int[] {channels, height, width});
    }

    public int inputDim() {
        int n = 1;
        for (int d : inputShape) n *= d;
        return n;
    }

    /** {dim} or {channels, height, width}. */
    public int[] inputShape() {
        return inputShape.clone();
    }

    public int outputDim() {
        return layers.get(layers.size() - 1).outputSize();
    }

    public List<Layer> layers() {
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
        return new Network(inputShape, layers, newLoss, newRegularization);
    }

    /**
     * Deterministic initial parameters from a seed: Glorot (Xavier) uniform, U(-r, r) with
     * r = sqrt(6/(in+out)), for tanh, sigmoid, softplus and identity layers; He normal,
     * N(0, 2/in), for relu layers; biases zero. The same seed gives the same vector on every backend.
     */
    public double[] initialize(long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        double[] w = new double[parameterCount];
        for (Layer layer : layers) {
            if (!layer.hasParameters()) continue;
            long[] shape = layer.weightShape();
            int fanOut = (int) shape[0], fanIn = 1;
            for (int i = 1; i < shape.length; i++) fanIn *= (int) shape[i];
            if (layer instanceof Conv2d c) fanOut = c.outChannels() * c.kernel() * c.kernel();
            int n = layer.weightCount(), off = layer.weightOffset();
            if (layer.activation() == Activation.RELU) {
                double std = Math.sqrt(2.0 / fanIn);
                for (int i = 0; i < n; i++) w[off + i] = std * random.nextGaussian();
            } else {
                double r = Math.sqrt(6.0 / (fanIn + fanOut));
                for (int i = 0; i < n; i++) w[off + i] = random.nextDouble(-r, r);
            }
        }
        return w;
    }

    /**
     * One parameter tensor: its name as PyTorch's {@code state_dict} of the equivalent
     * {@code nn.Sequential} names it ("0.weight", "2.bias"), the network layer it belongs to, its
     * kind ("weight" or "bias"), its shape (PyTorch's layout) and where it starts in the flat vector.
     */
    public record Parameter(String name, int layer, String kind, long[] shape, int offset) {
        public Parameter {
            shape = shape.clone();
        }

        /** A copy of the shape. */
        @Override
        public long[] shape() {
            return shape.clone();
        }

        /** How many values it holds. */
        public int count() {
            long n = 1;
            for (long d : shape) n *= d;
            return (int) n;
        }
    }

    /**
     * The index of layer {@code layer} among the modules of the equivalent PyTorch
     * {@code nn.Sequential}. The rule: each layer is one module (Linear, Conv2d, MaxPool2d,
     * AvgPool2d, Flatten), and a dense or conv2d layer's activation, when it is not the identity, is
     * the module after it (Tanh, Sigmoid, ReLU, Softplus); the loss is not a module. So
     * {@code builder(784).dense(128).tanh().dense(10)} is Sequential(Linear, Tanh, Linear): layers 0
     * and 1 are modules 0 and 2; the conv net conv-relu-maxpool-conv-relu-maxpool-flatten-dense-relu-dense
     * has its parameters at modules 0, 3, 7 and 9.
     */
    public int sequentialIndex(int layer) {
        if (layer < 0 || layer >= layers.size()) throw new IndexOutOfBoundsException("layer = " + layer + "; the network has " + layers.size());
        return sequentialIndex[layer];
    }

    /** The parameter tensors in the flat vector's order: each dense or conv2d layer's weight, then its bias. */
    public List<Parameter> parameters() {
        return parameters;
    }

    /** The regularizer's value at w (double): (lambda/2) sum ||T||^2 or lambda sum ||T||. */
    public double regularizationValue(double[] w) {
        if (!regularization.isActive()) return 0;
        double total = 0;
        for (Layer layer : layers) {
            if (!layer.hasParameters()) continue;
            double sw = 0, sb = 0;
            for (int i = layer.weightOffset(); i < layer.weightOffset() + layer.weightCount(); i++) sw += w[i] * w[i];
            for (int i = layer.biasOffset(); i < layer.biasOffset() + layer.biasCount(); i++) sb += w[i] * w[i];
            total += regularization.kind() == Regularization.Kind.SQUARED ? 0.5 * (sw + sb) : Math.sqrt(sw) + Math.sqrt(sb);
        }
        return regularization.lambda() * total;
    }

    /** Matrix-product FLOPs of one layer's forward map per sample (0 without parameters). */
    private static double mapFlops(Layer layer) {
        if (layer instanceof Conv2d c) return 2.0 * c.outChannels() * c.inChannels() * c.kernel() * c.kernel() * c.outHeight() * c.outWidth();
        if (layer instanceof Dense d) return 2.0 * d.in() * d.out();
        return 0;
    }

    /** Matrix-product FLOPs of one forward pass per sample. */
    public double forwardFlopsPerSample() {
        double f = 0;
        for (Layer l : layers) f += mapFlops(l);
        return f;
    }

    /** Matrix-product FLOPs of one gradient per sample: forward, weight gradients, input gradients (not for layer 0). */
    public double gradientFlopsPerSample() {
        double f = 0;
        for (int l = 0; l < layers.size(); l++) f += mapFlops(layers.get(l)) * (l == 0 ? 2 : 3);
        return f;
    }

    /** Matrix-product FLOPs of one HVP at a cached point per sample (R-forward and R-backward). */
    public double hvpCachedFlopsPerSample() {
        double f = 0;
        for (int l = 0; l < layers.size(); l++) f += mapFlops(layers.get(l)) * (l == 0 ? 2 : 6);
        return f;
    }

    /** The spec array of the native API (adanewton.h): input size, layer count, 10 ints per layer; flatten is free and omitted. */
    public int[] nativeSpec() {
        List<int[]> rows = new ArrayList<>();
        for (Layer layer : layers) {
            int[] r = new int[10];
            r[1] = layer.activation().nativeCode;
            if (layer instanceof Dense d) {
                r[0] = 1;
                r[2] = d.out();
            } else if (layer instanceof Conv2d c) {
                r[0] = 2;
                int[] g = {c.inChannels(), c.inHeight(), c.inWidth(), c.outChannels(), c.kernel(), c.stride(), c.padding()};
                System.arraycopy(g, 0, r, 2, g.length);
            } else if (layer instanceof Pool2d p) {
                r[0] = p.max() ? 3 : 4;
                int[] g = {p.channels(), p.inHeight(), p.inWidth(), p.kernel(), p.stride()};
                System.arraycopy(g, 0, r, 2, g.length);
            } else {
                continue;
            }
            rows.add(r);
        }
        int[] spec = new int[2 + 10 * rows.size()];
        spec[0] = inputDim();
        spec[1] = rows.size();
        for (int i = 0; i < rows.size(); i++) System.arraycopy(rows.get(i), 0, spec, 2 + 10 * i, 10);
        return spec;
    }

    /** A short name like "784-128-10 tanh" or "1x28x28 conv20-pool-conv50-pool-500-10 relu". */
    public String shortName() {
        StringBuilder sb = new StringBuilder();
        Activation hidden = layers.get(0).activation();
        if (inputShape.length == 1 && layers.stream().allMatch(l -> l instanceof Dense)) {
            sb.append(inputDim());
            for (Layer l : layers) sb.append('-').append(l.outputSize());
        } else {
            sb.append(inputShape[0]).append('x').append(inputShape.length > 1 ? inputShape[1] + "x" + inputShape[2] : "1x1").append(' ');
            String sep = "";
            for (Layer l : layers) {
                if (l instanceof Flatten) continue;
                sb.append(sep);
                sep = "-";
                if (l instanceof Conv2d c) sb.append("conv").append(c.outChannels());
                else if (l instanceof Pool2d p) sb.append(p.max() ? "maxpool" : "avgpool");
                else sb.append(l.outputSize());
            }
        }
        return sb.append(' ').append(hidden.name().toLowerCase()).toString();
    }

    /** Layer-by-layer description ending with "parameters: N". */
    public String describe() {
        StringBuilder sb = new StringBuilder();
        sb.append("  input ").append(inputShape.length == 1 ? Integer.toString(inputShape[0]) : inputShape[0] + "x" + inputShape[1] + "x" + inputShape[2])
                .append(System.lineSeparator());
        for (int l = 0; l < layers.size(); l++) {
            Layer layer = layers.get(l);
            sb.append(String.format("  %2d  %s", l, layer.describe()));
            if (layer.hasParameters()) sb.append(String.format("  (%,d parameters)", layer.parameterCount()));
            sb.append(System.lineSeparator());
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

    /**
     * Builds a {@link Network}. Shapes are checked as layers are added, with messages that name the
     * layer, what it expects and what it receives.
     */
    public static final class Builder {
        private final int[] inputShape;
        private final List<Layer> layers = new ArrayList<>();
        private Loss loss = Loss.SOFTMAX_CROSS_ENTROPY;
        private Regularization regularization = Regularization.NONE;
        // the current output shape: {size} when flat, {c, h, w} when spatial
        private int[] shape;
        private long offset;

        private Builder(int[] inputShape) {
            if (inputShape.length == 1 && inputShape[0] < 1) throw new IllegalArgumentException("inputDim = " + inputShape[0] + "; must be >= 1");
            for (int d : inputShape)
                if (d < 1) throw new IllegalArgumentException("input shape " + java.util.Arrays.toString(inputShape) + "; every dimension must be >= 1");
            this.inputShape = inputShape.clone();
            this.shape = inputShape.clone();
        }

        private String where() {
            return "layer " + layers.size();
        }

        private static String show(int[] s) {
            return s.length == 1 ? "a flat vector of " + s[0] : s[0] + "x" + s[1] + "x" + s[2];
        }

        private int[] offsets(long weights, long biases) {
            long w = offset, b = offset + weights, end = b + biases;
            if (end > Integer.MAX_VALUE - 16)
                throw new IllegalArgumentException("the network has " + end + " parameters; at most " + (Integer.MAX_VALUE - 16) + " are supported");
            offset = end;
            return new int[] {(int) w, (int) b};
        }

        /** Appends a dense layer with `out` outputs (identity activation until one is set); needs a flat input. */
        public Builder dense(int out) {
            if (out < 1) throw new IllegalArgumentException(where() + ": out = " + out + "; must be >= 1");
            if (shape.length != 1)
                throw new IllegalArgumentException(where() + " (dense) needs a flat input, but the previous layer outputs " + show(shape)
                        + ": add flatten() before it");
            int in = shape[0];
            int[] o = offsets((long) in * out, out);
            layers.add(new Dense(in, out, Activation.IDENTITY, o[0], o[1]));
            shape = new int[] {out};
            return this;
        }

        /** Appends a convolution (stride 1, no padding). */
        public Builder conv2d(int inChannels, int outChannels, int kernel) {
            return conv2d(inChannels, outChannels, kernel, 1, 0);
        }

        /** Appends a convolution; needs a C x H x W input with C = inChannels. */
        public Builder conv2d(int inChannels, int outChannels, int kernel, int stride, int padding) {
            if (shape.length != 3)
                throw new IllegalArgumentException(where() + " (conv2d) needs a CxHxW input, but it receives " + show(shape)
                        + ": build the network with Network.builder(channels, height, width) to give the input's shape");
            if (inChannels != shape[0])
                throw new IllegalArgumentException(where() + " (conv2d) expects " + inChannels + " input channels but receives " + shape[0]
                        + " (input " + show(shape) + ")");
            if (outChannels < 1 || kernel < 1 || stride < 1 || padding < 0)
                throw new IllegalArgumentException(where() + " (conv2d): outChannels = " + outChannels + ", kernel = " + kernel + ", stride = "
                        + stride + ", padding = " + padding + "; need outChannels, kernel, stride >= 1 and padding >= 0");
            if (shape[1] + 2 * padding < kernel || shape[2] + 2 * padding < kernel)
                throw new IllegalArgumentException(where() + " (conv2d): kernel " + kernel + " is larger than the padded input " + show(shape));
            int[] o = offsets((long) outChannels * inChannels * kernel * kernel, outChannels);
            Conv2d c = new Conv2d(inChannels, shape[1], shape[2], outChannels, kernel, stride, padding, Activation.IDENTITY, o[0], o[1]);
            layers.add(c);
            shape = new int[] {outChannels, c.outHeight(), c.outWidth()};
            return this;
        }

        /** Max pooling over kernel x kernel windows with stride = kernel. */
        public Builder maxPool2d(int kernel) {
            return pool(true, kernel, kernel);
        }

        public Builder maxPool2d(int kernel, int stride) {
            return pool(true, kernel, stride);
        }

        public Builder avgPool2d(int kernel) {
            return pool(false, kernel, kernel);
        }

        public Builder avgPool2d(int kernel, int stride) {
            return pool(false, kernel, stride);
        }

        private Builder pool(boolean max, int kernel, int stride) {
            String name = max ? "maxpool2d" : "avgpool2d";
            if (shape.length != 3) throw new IllegalArgumentException(where() + " (" + name + ") needs a CxHxW input, but it receives " + show(shape));
            if (kernel < 1 || stride < 1 || kernel > shape[1] || kernel > shape[2])
                throw new IllegalArgumentException(where() + " (" + name + "): kernel = " + kernel + ", stride = " + stride + " on " + show(shape)
                        + "; need 1 <= kernel <= height and width, stride >= 1");
            Pool2d p = new Pool2d(max, shape[0], shape[1], shape[2], kernel, stride);
            layers.add(p);
            shape = new int[] {shape[0], p.outHeight(), p.outWidth()};
            return this;
        }

        /** Flattens C x H x W to a vector (free). */
        public Builder flatten() {
            if (shape.length != 3) throw new IllegalArgumentException(where() + " (flatten) needs a CxHxW input, but it receives " + show(shape));
            layers.add(new Flatten(shape[0], shape[1], shape[2]));
            shape = new int[] {shape[0] * shape[1] * shape[2]};
            return this;
        }

        /** Sets the activation of the last dense or conv2d layer. */
        public Builder activation(Activation activation) {
            if (layers.isEmpty()) throw new IllegalStateException("activation " + activation + " given before any layer");
            Layer last = layers.get(layers.size() - 1);
            Layer replaced;
            if (last instanceof Dense d) replaced = new Dense(d.in(), d.out(), activation, d.weightOffset(), d.biasOffset());
            else if (last instanceof Conv2d c) replaced = new Conv2d(c.inChannels(), c.inHeight(), c.inWidth(), c.outChannels(), c.kernel(), c.stride(),
                    c.padding(), activation, c.weightOffset(), c.biasOffset());
            else throw new IllegalStateException("activation " + activation + " follows a " + last.describe() + "; only dense and conv2d layers take one");
            layers.set(layers.size() - 1, replaced);
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
            if (layers.isEmpty()) throw new IllegalArgumentException("the network has no layers; add at least one dense layer");
            if (loss == null) throw new IllegalArgumentException("loss is null");
            if (regularization == null) throw new IllegalArgumentException("regularization is null");
            if (shape.length != 1)
                throw new IllegalArgumentException("the network ends with " + show(shape) + "; end with flatten() or a dense layer");
            if (layers.get(0) instanceof Flatten)
                throw new IllegalArgumentException("the network starts with flatten(); give the flat input size to Network.builder(dim) instead");
            if (loss == Loss.SOFTMAX_CROSS_ENTROPY && shape[0] < 2)
                throw new IllegalArgumentException("softmax cross-entropy needs at least 2 outputs, the last layer has " + shape[0]);
            return new Network(inputShape, layers, loss, regularization);
        }
    }
}
