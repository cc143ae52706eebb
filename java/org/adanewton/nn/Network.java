package org.adanewton.nn;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * A feed-forward network over one flat parameter vector: a directed acyclic graph of layers, a loss
 * and an optional L2 regularization. Immutable; backend-independent. Build a chain with
 * {@link #builder(int)}: {@code Network.builder(784).dense(128).tanh().dense(10).build()}; the same
 * builder makes graphs: {@link Builder#save} names the current output, {@link Builder#from}
 * continues from a named one, {@link Builder#add} and {@link Builder#concat} join them (a residual
 * block: {@code save("x").conv2d(16, 16, 3, 1, 1, false).batchNorm().relu().conv2d(16, 16, 3, 1, 1, false).batchNorm().add("x").relu()}).
 *
 * <p>Layers are stored in topological order (every input of layer l comes before l; -1 is the
 * network's input), the last layer is the output, and every other layer's output is used.
 *
 * <p>Parameter layout: for each layer with parameters, in layer order, its weight (dense: out x in,
 * row-major as PyTorch's {@code Linear.weight}; conv: out x in x k x k; batch and layer norm: the
 * scale gamma; embedding: vocabulary x dim) followed by its bias when it has one.
 *
 * <p>Tensor names ({@link #parameters()}): "M.weight" and "M.bias" with M the layer's module name:
 * the name given with {@link Builder#module}, else the layer's index in the equivalent PyTorch
 * {@code nn.Sequential} (see {@link #sequentialIndex(int)}). Batch norm layers also keep running
 * statistics ({@link #statistics()}: "M.running_mean", "M.running_var"), which are state, not
 * parameters.
 *
 * <p>Modes (see {@code NetworkModel}): in training mode batch norm normalizes with the batch's own
 * statistics (and the exact curvature differentiates through them) and dropout applies its mask; in
 * evaluation mode batch norm uses the running statistics and dropout is the identity.
 *
 * <p>Thread safety: immutable: safe to share between threads (its Builder is not thread-safe).
 */
public final class Network {

    /** A layer and where its parameters sit in the flat vector (-1 when it has none). */
    public sealed interface Layer permits Dense, Conv2d, BatchNorm, LayerNorm, Embedding, Parameterless {
        /** Values per sample of its (first) input. */
        int inputSize();

        int outputSize();

        /** The activation applied to the layer's output (IDENTITY for layers that take none). */
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

    /** A layer without parameters (pooling, flatten, dropout, add, concat, a lone activation). */
    public sealed interface Parameterless extends Layer permits Pool2d, Flatten, GlobalAvgPool, Dropout, Add, Concat, Activate {
        default Activation activation() { return Activation.IDENTITY; }

        default int weightOffset() { return -1; }

        default int biasOffset() { return -1; }

        default long[] weightShape() { return new long[0]; }

        default int biasCount() { return 0; }
    }

    private static String act(Activation a) {
        return a == Activation.IDENTITY ? "" : ", " + a.name().toLowerCase();
    }

    /** A dense layer a = phi(W x + b), W out x in (row-major, as PyTorch's Linear.weight); biasOffset -1: no bias. */
    public record Dense(int in, int out, Activation activation, int weightOffset, int biasOffset) implements Layer {
        public int inputSize() { return in; }

        public int outputSize() { return out; }

        public long[] weightShape() { return new long[] {out, in}; }

        public int biasCount() { return biasOffset < 0 ? 0 : out; }

        public String describe() {
            return String.format("dense %d -> %d%s, %s", in, out, biasOffset < 0 ? " (no bias)" : "", activation.name().toLowerCase());
        }
    }

    /**
     * A 2-D convolution on NCHW inputs, a = phi(W * x + b), W out x in x k x k (as PyTorch's
     * Conv2d.weight), with stride and zero padding; biasOffset -1: no bias.
     */
    public record Conv2d(int inChannels, int inHeight, int inWidth, int outChannels, int kernel, int stride, int padding, Activation activation,
            int weightOffset, int biasOffset) implements Layer {
        public int outHeight() { return (inHeight + 2 * padding - kernel) / stride + 1; }

        public int outWidth() { return (inWidth + 2 * padding - kernel) / stride + 1; }

        public int inputSize() { return inChannels * inHeight * inWidth; }

        public int outputSize() { return outChannels * outHeight() * outWidth(); }

        public long[] weightShape() { return new long[] {outChannels, inChannels, kernel, kernel}; }

        public int biasCount() { return biasOffset < 0 ? 0 : outChannels; }

        public String describe() {
            return String.format("conv2d %dx%dx%d -> %dx%dx%d, kernel %d, stride %d, padding %d%s, %s", inChannels, inHeight, inWidth, outChannels,
                    outHeight(), outWidth(), kernel, stride, padding, biasOffset < 0 ? ", no bias" : "", activation.name().toLowerCase());
        }
    }

    /** Max or average pooling over k x k windows with a stride (no padding); max ties go to the first maximum in scan order. */
    public record Pool2d(boolean max, int channels, int inHeight, int inWidth, int kernel, int stride) implements Parameterless {
        public int outHeight() { return (inHeight - kernel) / stride + 1; }

        public int outWidth() { return (inWidth - kernel) / stride + 1; }

        public int inputSize() { return channels * inHeight * inWidth; }

        public int outputSize() { return channels * outHeight() * outWidth(); }

        public String describe() {
            return String.format("%s %dx%dx%d -> %dx%dx%d, kernel %d, stride %d", max ? "maxpool2d" : "avgpool2d", channels, inHeight, inWidth,
                    channels, outHeight(), outWidth(), kernel, stride);
        }
    }

    /** Flattens C x H x W to one vector (NCHW order, as PyTorch's flatten): free, no computation. */
    public record Flatten(int channels, int height, int width) implements Parameterless {
        public int inputSize() { return channels * height * width; }

        public int outputSize() { return inputSize(); }

        public String describe() {
            return String.format("flatten %dx%dx%d -> %d", channels, height, width, inputSize());
        }
    }

    /**
     * Batch normalization (PyTorch's BatchNorm1d on flat inputs, positions = 1, and BatchNorm2d on
     * C x H x W, positions = H W): per channel c, over the batch's rows and positions,
     * xhat = (x - mean) / sqrt(var + eps) (var biased), a = phi(gamma_c xhat + beta_c). In training mode
     * mean and var are the batch's; in evaluation mode the running statistics, which are updated
     * from the batch's as r = (1 - momentum) r + momentum s (var unbiased), as PyTorch does.
     */
    public record BatchNorm(int channels, int positions, boolean spatial, double eps, double momentum, Activation activation, int weightOffset,
            int biasOffset) implements Layer {
        public int inputSize() { return channels * positions; }

        public int outputSize() { return inputSize(); }

        public long[] weightShape() { return new long[] {channels}; }

        public int biasCount() { return channels; }

        public String describe() {
            return String.format("batchnorm%s %d channels%s, eps %s, momentum %s%s", spatial ? "2d" : "1d", channels,
                    spatial ? " x " + positions + " positions" : "", eps, momentum, act(activation));
        }
    }

    /**
     * Layer normalization over each consecutive group of `size` values of a sample (PyTorch's
     * LayerNorm(size) on the last dimension; size = the whole sample for one group):
     * xhat = (x - mean) / sqrt(var + eps) over the group, a = phi(gamma_j xhat + beta_j), j the
     * position within the group. The same in training and evaluation.
     */
    public record LayerNorm(int groups, int size, double eps, Activation activation, int weightOffset, int biasOffset) implements Layer {
        public int inputSize() { return groups * size; }

        public int outputSize() { return inputSize(); }

        public long[] weightShape() { return new long[] {size}; }

        public int biasCount() { return size; }

        public String describe() {
            return String.format("layernorm %d%s, eps %s%s", size, groups > 1 ? " (x " + groups + " groups)" : "", eps, act(activation));
        }
    }

    /** The mean of each channel over its H x W positions: C x H x W -> C (flat). */
    public record GlobalAvgPool(int channels, int height, int width) implements Parameterless {
        public int inputSize() { return channels * height * width; }

        public int outputSize() { return channels; }

        public String describe() {
            return String.format("globalavgpool %dx%dx%d -> %d", channels, height, width, channels);
        }
    }

    /**
     * Inverted dropout: in training mode a = m x / (1 - p) with m_j = 0 with probability p, the mask
     * drawn from the model's dropout seed by {@link Network#dropoutKeeps} (a pure function of the
     * seed, layer, row and unit, so every backend and every call with the same seed uses the same
     * mask); the identity in evaluation mode.
     */
    public record Dropout(int size, double p) implements Parameterless {
        public int inputSize() { return size; }

        public int outputSize() { return size; }

        public String describe() {
            return String.format("dropout p = %s", p);
        }
    }

    /**
     * A lookup table: the input (the network's, `length` values per sample) holds integer indices
     * in [0, vocabulary); the output is their rows of W (vocabulary x dim, as PyTorch's
     * Embedding.weight), length x dim values. Only as a first layer.
     */
    public record Embedding(int vocabulary, int dim, int length, int weightOffset) implements Layer {
        public int inputSize() { return length; }

        public int outputSize() { return length * dim; }

        public Activation activation() { return Activation.IDENTITY; }

        public int biasOffset() { return -1; }

        public long[] weightShape() { return new long[] {vocabulary, dim}; }

        public int biasCount() { return 0; }

        public String describe() {
            return String.format("embedding %d x %d, %d indices -> %d", vocabulary, dim, length, length * dim);
        }
    }

    /** The elementwise sum of its inputs (2 to MAX_INPUTS, all of one shape), a = phi(sum). */
    public record Add(int size, int arity, Activation activation) implements Parameterless {
        public int inputSize() { return size; }

        public int outputSize() { return size; }

        public String describe() {
            return String.format("add of %d inputs of %d%s", arity, size, act(activation));
        }
    }

    /**
     * Concatenation along the channels (C_i x H x W inputs, same H and W; positions = H W) or of flat
     * vectors (positions = 1).
     */
    public record Concat(int[] channels, int positions, boolean spatial) implements Parameterless {
        public Concat {
            channels = channels.clone();
        }

        @Override
        public int[] channels() {
            return channels.clone();
        }

        public int inputSize() { return channels[0] * positions; }

        public int outputSize() {
            int c = 0;
            for (int v : channels) c += v;
            return c * positions;
        }

        public String describe() {
            return String.format("concat of %s channels%s -> %d", Arrays.toString(channels), spatial ? " x " + positions + " positions" : "", outputSize());
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Concat c && Arrays.equals(channels, c.channels) && positions == c.positions && spatial == c.spatial;
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(channels) * 31 + positions * 2 + (spatial ? 1 : 0);
        }

        @Override
        public String toString() {
            return "Concat[channels=" + Arrays.toString(channels) + ", positions=" + positions + ", spatial=" + spatial + "]";
        }
    }

    /** An activation on its own, a = phi(x) (where it cannot join the layer before it). */
    public record Activate(int size, Activation activation) implements Parameterless {
        public int inputSize() { return size; }

        public int outputSize() { return size; }

        public String describe() {
            return activation.name().toLowerCase();
        }
    }

    /** The most inputs an add or concat layer takes. */
    public static final int MAX_INPUTS = 4;
    /** Input index meaning the network's input. */
    public static final int NETWORK_INPUT = -1;

    private final int[] inputShape; // {dim} or {c, h, w}
    private final List<Layer> layers;
    private final int[][] inputs;   // per layer: its input layers (NETWORK_INPUT for the network's input)
    private final int[][] shapes;   // per layer: its output shape, {size} or {c, h, w}
    private final String[] modules; // per layer: its module name (parameter names are "module.weight", ...)
    private final boolean chain;    // every layer reads the one before it
    private final Loss loss;
    private final Regularization regularization;
    private final int parameterCount;
    /** Each layer's index in the equivalent nn.Sequential (the one place the naming rule is computed). */
    private final int[] sequentialIndex;
    private final List<Parameter> parameters;
    private final List<Parameter> statistics;
    private final int statisticsCount;

    private Network(int[] inputShape, List<Layer> layers, int[][] inputs, int[][] shapes, String[] names, Loss loss, Regularization regularization) {
        this.inputShape = inputShape.clone();
        this.layers = List.copyOf(layers);
        this.inputs = deepCopy(inputs);
        this.shapes = deepCopy(shapes);
        this.loss = loss;
        this.regularization = regularization;
        int count = 0;
        for (Layer l : layers) count += l.parameterCount();
        this.parameterCount = count;
        boolean isChain = true;
        for (int l = 0; l < inputs.length; l++) isChain &= inputs[l].length == 1 && inputs[l][0] == l - 1;
        this.chain = isChain;
        this.sequentialIndex = new int[layers.size()];
        this.modules = new String[layers.size()];
        List<Parameter> named = new ArrayList<>(), stats = new ArrayList<>();
        int module = 0, statOffset = 0;
        for (int l = 0; l < layers.size(); l++) {
            Layer layer = layers.get(l);
            sequentialIndex[l] = module;
            modules[l] = names[l] != null ? names[l] : Integer.toString(module);
            if (layer.weightCount() > 0) named.add(new Parameter(modules[l] + ".weight", l, "weight", layer.weightShape(), layer.weightOffset()));
            if (layer.biasCount() > 0) named.add(new Parameter(modules[l] + ".bias", l, "bias", new long[] {layer.biasCount()}, layer.biasOffset()));
            if (layer instanceof BatchNorm bn) {
                stats.add(new Parameter(modules[l] + ".running_mean", l, "running_mean", new long[] {bn.channels()}, statOffset));
                stats.add(new Parameter(modules[l] + ".running_var", l, "running_var", new long[] {bn.channels()}, statOffset + bn.channels()));
                statOffset += 2 * bn.channels();
            }
            module += layer.activation() == Activation.IDENTITY || layer instanceof Activate ? 1 : 2;
        }
        this.parameters = List.copyOf(named);
        this.statistics = List.copyOf(stats);
        this.statisticsCount = statOffset;
    }

    private static int[][] deepCopy(int[][] a) {
        int[][] c = new int[a.length][];
        for (int i = 0; i < a.length; i++) c[i] = a[i].clone();
        return c;
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

    /** The layers in topological order; the last is the output. */
    public List<Layer> layers() {
        return layers;
    }

    /** The layers whose outputs layer l reads, in order ({@link #NETWORK_INPUT} for the network's input). */
    public int[] inputs(int layer) {
        return inputs[checked(layer)].clone();
    }

    /** Layer l's output shape: {size} when flat, {channels, height, width} when spatial. */
    public int[] outputShape(int layer) {
        return shapes[checked(layer)].clone();
    }

    /** Layer l's module name (its parameters are "name.weight" and "name.bias"). */
    public String module(int layer) {
        return modules[checked(layer)];
    }

    /** True when every layer reads the output of the one before it (the first: the network's input). */
    public boolean isChain() {
        return chain;
    }

    /** True when some layer behaves differently in training and evaluation mode (batch norm, dropout). */
    public boolean hasModes() {
        for (Layer l : layers) if (l instanceof BatchNorm || l instanceof Dropout) return true;
        return false;
    }

    private int checked(int layer) {
        if (layer < 0 || layer >= layers.size()) throw new IndexOutOfBoundsException("layer = " + layer + "; the network has " + layers.size());
        return layer;
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
        return new Network(inputShape, layers, inputs, shapes, explicitNames(), newLoss, newRegularization);
    }

    private String[] explicitNames() {
        String[] names = new String[layers.size()];
        for (int l = 0; l < names.length; l++) names[l] = modules[l].equals(Integer.toString(sequentialIndex[l])) ? null : modules[l];
        return names;
    }

    /**
     * Deterministic initial parameters from a seed. Weights of dense and conv layers: He normal,
     * N(0, 2/fan_in), when the layer's activation is relu or gelu or a batch norm reads it; Glorot
     * (Xavier) uniform, U(-r, r) with r = sqrt(6/(fan_in+fan_out)), otherwise. Biases and norm shifts
     * zero, norm scales one, embeddings N(0, 1) (as PyTorch). The same seed gives the same vector on
     * every backend.
     */
    public double[] initialize(long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        double[] w = new double[parameterCount];
        for (int l = 0; l < layers.size(); l++) {
            Layer layer = layers.get(l);
            if (!layer.hasParameters()) continue;
            int n = layer.weightCount(), off = layer.weightOffset();
            if (layer instanceof BatchNorm || layer instanceof LayerNorm) {
                Arrays.fill(w, off, off + n, 1.0);
                continue;
            }
            if (layer instanceof Embedding) {
                for (int i = 0; i < n; i++) w[off + i] = random.nextGaussian();
                continue;
            }
            long[] shape = layer.weightShape();
            int fanOut = (int) shape[0], fanIn = 1;
            for (int i = 1; i < shape.length; i++) fanIn *= (int) shape[i];
            if (layer instanceof Conv2d c) fanOut = c.outChannels() * c.kernel() * c.kernel();
            if (layer.activation() == Activation.RELU || layer.activation() == Activation.GELU || readByBatchNorm(l)) {
                double std = Math.sqrt(2.0 / fanIn);
                for (int i = 0; i < n; i++) w[off + i] = std * random.nextGaussian();
            } else {
                double r = Math.sqrt(6.0 / (fanIn + fanOut));
                for (int i = 0; i < n; i++) w[off + i] = random.nextDouble(-r, r);
            }
        }
        return w;
    }

    private boolean readByBatchNorm(int layer) {
        for (int l = layer + 1; l < layers.size(); l++)
            if (layers.get(l) instanceof BatchNorm && inputs[l][0] == layer) return true;
        return false;
    }

    /**
     * One named tensor: its name as PyTorch's {@code state_dict} of the equivalent model names it
     * ("0.weight", "layer1.0.bn1.running_mean"), the network layer it belongs to, its kind
     * ("weight", "bias", "running_mean" or "running_var"), its shape (PyTorch's layout) and where it
     * starts in the flat parameter vector (statistics: in the statistics vector).
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
     * AvgPool2d, Flatten, BatchNorm, ...), and a layer's activation, when it is not the identity, is
     * the module after it (Tanh, Sigmoid, ReLU, Softplus, GELU); the loss is not a module. So
     * {@code builder(784).dense(128).tanh().dense(10)} is Sequential(Linear, Tanh, Linear): layers 0
     * and 1 are modules 0 and 2; the conv net conv-relu-maxpool-conv-relu-maxpool-flatten-dense-relu-dense
     * has its parameters at modules 0, 3, 7 and 9. (For a graph the same count gives the default
     * module names; name the modules with {@link Builder#module} to match another model.)
     */
    public int sequentialIndex(int layer) {
        return sequentialIndex[checked(layer)];
    }

    /** The parameter tensors in the flat vector's order: each layer's weight, then its bias. */
    public List<Parameter> parameters() {
        return parameters;
    }

    /** The batch norm layers' running statistics, in the statistics vector's order (per layer: mean, then var). */
    public List<Parameter> statistics() {
        return statistics;
    }

    /** The length of the statistics vector (2 per batch norm channel). */
    public int statisticsCount() {
        return statisticsCount;
    }

    /** The initial running statistics: means 0, variances 1 (as PyTorch). */
    public double[] initialStatistics() {
        double[] s = new double[statisticsCount];
        for (Parameter p : statistics)
            if (p.kind().equals("running_var")) Arrays.fill(s, p.offset(), p.offset() + p.count(), 1.0);
        return s;
    }

    /** The regularizer's value at w (double): (lambda/2) sum ||T||^2 or lambda sum ||T|| over the parameter tensors. */
    public double regularizationValue(double[] w) {
        if (!regularization.isActive()) return 0;
        double total = 0;
        for (Parameter p : parameters) {
            double s = 0;
            for (int i = p.offset(); i < p.offset() + p.count(); i++) s += w[i] * w[i];
            total += regularization.kind() == Regularization.Kind.SQUARED ? 0.5 * s : Math.sqrt(s);
        }
        return regularization.lambda() * total;
    }

    /**
     * Dropout's mask: whether unit `unit` of row `row` (its index in the batch) of layer `layer`
     * (its index in {@link #layers()}) is kept under the seed, with drop probability p. A pure
     * function (SplitMix64 finalizer over seed, layer, row, unit; kept when the top 24 bits are at
     * least floor(p 2^24)), so the native engines compute the same mask (the native spec gives them
     * the layer index and that threshold).
     */
    public static boolean dropoutKeeps(long seed, int layer, int row, int unit, double p) {
        long h = mix(seed + 0x9E3779B97F4A7C15L * (layer + 1L));
        h = mix(h + row);
        h = mix(h + unit);
        return (h >>> 40) >= dropoutThreshold(p);
    }

    /** A unit is kept when the top 24 bits of its hash are at least this: floor(p 2^24). */
    private static int dropoutThreshold(double p) {
        return (int) (p * (1 << 24));
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Matrix-product FLOPs of one layer's forward map per sample (0 without parameters). */
    private static double mapFlops(Layer layer) {
        if (layer instanceof Conv2d c) return 2.0 * c.outChannels() * c.inChannels() * c.kernel() * c.kernel() * c.outHeight() * c.outWidth();
        if (layer instanceof Dense d) return 2.0 * d.in() * d.out();
        return 0;
    }

    private boolean readsInputOnly(int l) {
        for (int i : inputs[l]) if (i != NETWORK_INPUT) return false;
        return true;
    }

    /** Matrix-product FLOPs of one forward pass per sample. */
    public double forwardFlopsPerSample() {
        double f = 0;
        for (Layer l : layers) f += mapFlops(l);
        return f;
    }

    /** Matrix-product FLOPs of one gradient per sample: forward, weight gradients, input gradients (not for layers on the network input). */
    public double gradientFlopsPerSample() {
        double f = 0;
        for (int l = 0; l < layers.size(); l++) f += mapFlops(layers.get(l)) * (readsInputOnly(l) ? 2 : 3);
        return f;
    }

    /** Matrix-product FLOPs of one HVP at a cached point per sample (R-forward and R-backward). */
    public double hvpCachedFlopsPerSample() {
        double f = 0;
        for (int l = 0; l < layers.size(); l++) f += mapFlops(layers.get(l)) * (readsInputOnly(l) ? 2 : 6);
        return f;
    }

    /** Native layer kinds (adanewton.h AN_LAYER_*). */
    private static int nativeKind(Layer layer) {
        if (layer instanceof Dense) return 1;
        if (layer instanceof Conv2d) return 2;
        if (layer instanceof Pool2d p) return p.max() ? 3 : 4;
        if (layer instanceof BatchNorm) return 5;
        if (layer instanceof LayerNorm) return 6;
        if (layer instanceof GlobalAvgPool) return 7;
        if (layer instanceof Dropout) return 8;
        if (layer instanceof Embedding) return 9;
        if (layer instanceof Add) return 10;
        if (layer instanceof Concat) return 11;
        if (layer instanceof Activate) return 12;
        throw new AssertionError(layer);
    }

    /** The native parameters of layer l (see nativeSpec). */
    private static int[] nativeParameters(Layer layer, int l) {
        if (layer instanceof Dense d) return new int[] {d.out()};
        if (layer instanceof Conv2d c) return new int[] {c.inChannels(), c.inHeight(), c.inWidth(), c.outChannels(), c.kernel(), c.stride(), c.padding()};
        if (layer instanceof Pool2d q) return new int[] {q.channels(), q.inHeight(), q.inWidth(), q.kernel(), q.stride()};
        if (layer instanceof BatchNorm b) return new int[] {b.channels(), b.positions(), Float.floatToIntBits((float) b.eps())};
        if (layer instanceof LayerNorm n) return new int[] {n.groups(), n.size(), Float.floatToIntBits((float) n.eps())};
        if (layer instanceof GlobalAvgPool g) return new int[] {g.channels(), g.height() * g.width()};
        if (layer instanceof Dropout d) return new int[] {d.size(), Float.floatToIntBits((float) d.p()), l, dropoutThreshold(d.p())};
        if (layer instanceof Embedding e) return new int[] {e.vocabulary(), e.dim(), e.length()};
        if (layer instanceof Add a) return new int[] {a.size()};
        if (layer instanceof Concat c) {
            int[] q = new int[1 + c.channels().length];
            q[0] = c.positions();
            System.arraycopy(c.channels(), 0, q, 1, c.channels().length);
            return q;
        }
        if (layer instanceof Activate a) return new int[] {a.size()};
        throw new AssertionError(layer);
    }

    /** Ints per layer in {@link #nativeSpec()} (adanewton.h AN_SPEC_INTS_PER_LAYER). */
    public static final int SPEC_INTS_PER_LAYER = 16;

    /**
     * The spec array of the native API (adanewton.h): {input size, layer count, then
     * SPEC_INTS_PER_LAYER ints per layer}. Per layer: kind, activation, input count, 4 input indices
     * (in the spec's numbering, -1 the network's input, unused ones -1), has-bias (0/1), then 8
     * parameters: dense {out}; conv2d {cin, hin, win, cout, k, stride, pad}; pooling {c, hin, win,
     * k, stride}; batchnorm {channels, positions, float bits of eps}; layernorm {groups, size, float
     * bits of eps}; globalavgpool {channels, positions}; dropout {size, float bits of p, the layer's
     * index in {@link #layers()} and the threshold of its mask, the two ints {@link #dropoutKeeps}
     * takes from them};
     * embedding {vocabulary, dim, length}; add {size}; concat {positions, then the inputs' channel
     * counts}; activate {size}. Flatten is free and omitted (its readers read its input).
     */
    public int[] nativeSpec() {
        int[] index = new int[layers.size()]; // layer -> spec index (flatten: its input's)
        List<int[]> rows = new ArrayList<>();
        for (int l = 0; l < layers.size(); l++) {
            Layer layer = layers.get(l);
            if (layer instanceof Flatten) {
                index[l] = mapInput(index, inputs[l][0]);
                continue;
            }
            int[] r = new int[SPEC_INTS_PER_LAYER];
            r[0] = nativeKind(layer);
            r[1] = layer.activation().nativeCode;
            r[2] = inputs[l].length;
            Arrays.fill(r, 3, 7, -1);
            for (int i = 0; i < inputs[l].length; i++) r[3 + i] = mapInput(index, inputs[l][i]);
            r[7] = layer.biasCount() > 0 ? 1 : 0;
            int[] p = nativeParameters(layer, l);
            System.arraycopy(p, 0, r, 8, p.length);
            index[l] = rows.size();
            rows.add(r);
        }
        int[] spec = new int[2 + SPEC_INTS_PER_LAYER * rows.size()];
        spec[0] = inputDim();
        spec[1] = rows.size();
        for (int i = 0; i < rows.size(); i++) System.arraycopy(rows.get(i), 0, spec, 2 + SPEC_INTS_PER_LAYER * i, SPEC_INTS_PER_LAYER);
        return spec;
    }

    private static int mapInput(int[] index, int input) {
        return input == NETWORK_INPUT ? NETWORK_INPUT : index[input];
    }

    /** A short name like "784-128-10 tanh", "1x28x28 conv20-pool-conv50-pool-500-10 relu" or, for a graph, "3x32x32 graph of 40 layers". */
    public String shortName() {
        StringBuilder sb = new StringBuilder();
        Activation hidden = layers.get(0).activation();
        boolean classic = chain && layers.stream().allMatch(l -> l instanceof Dense || l instanceof Conv2d || l instanceof Pool2d || l instanceof Flatten);
        if (classic && inputShape.length == 1 && layers.stream().allMatch(l -> l instanceof Dense)) {
            sb.append(inputDim());
            for (Layer l : layers) sb.append('-').append(l.outputSize());
        } else {
            sb.append(inputShape[0]).append('x').append(inputShape.length > 1 ? inputShape[1] + "x" + inputShape[2] : "1x1").append(' ');
            if (!classic) return sb.append(chain ? "chain" : "graph").append(" of ").append(layers.size()).append(" layers").toString();
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

    /** Layer-by-layer description ending with "parameters: N"; a layer that does not read the one before it names its inputs. */
    public String describe() {
        StringBuilder sb = new StringBuilder();
        sb.append("  input ").append(inputShape.length == 1 ? Integer.toString(inputShape[0]) : inputShape[0] + "x" + inputShape[1] + "x" + inputShape[2])
                .append(System.lineSeparator());
        for (int l = 0; l < layers.size(); l++) {
            Layer layer = layers.get(l);
            sb.append(String.format("  %2d  %s", l, layer.describe()));
            if (!(inputs[l].length == 1 && inputs[l][0] == l - 1)) {
                List<String> from = new ArrayList<>();
                for (int i : inputs[l]) from.add(i == NETWORK_INPUT ? "input" : Integer.toString(i));
                sb.append("  <- ").append(String.join(", ", from));
            }
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
     * Builds a {@link Network}. Each call adds a layer on the current output (at first the network's
     * input) and makes its output current; shapes are checked as layers are added, with messages
     * that name the layer, what it expects and what it receives.
     */
    public static final class Builder {
        private final int[] inputShape;
        private final List<Layer> layers = new ArrayList<>();
        private final List<int[]> inputs = new ArrayList<>();
        private final List<int[]> shapes = new ArrayList<>();
        private final List<String> names = new ArrayList<>();
        private final Map<String, Integer> saved = new HashMap<>();
        private Loss loss = Loss.SOFTMAX_CROSS_ENTROPY;
        private Regularization regularization = Regularization.NONE;
        private int current = NETWORK_INPUT;
        private long offset;

        private Builder(int[] inputShape) {
            if (inputShape.length == 1 && inputShape[0] < 1) throw new IllegalArgumentException("inputDim = " + inputShape[0] + "; must be >= 1");
            for (int d : inputShape)
                if (d < 1) throw new IllegalArgumentException("input shape " + Arrays.toString(inputShape) + "; every dimension must be >= 1");
            this.inputShape = inputShape.clone();
        }

        private int[] shapeOf(int layer) {
            return layer == NETWORK_INPUT ? inputShape : shapes.get(layer);
        }

        private int[] shape() {
            return shapeOf(current);
        }

        private String where() {
            return "layer " + layers.size();
        }

        private static String show(int[] s) {
            return s.length == 1 ? "a flat vector of " + s[0] : s[0] + "x" + s[1] + "x" + s[2];
        }

        private static int size(int[] s) {
            int n = 1;
            for (int d : s) n *= d;
            return n;
        }

        private int[] offsets(long weights, long biases) {
            long w = offset, b = offset + weights, end = b + biases;
            if (end > Integer.MAX_VALUE - 16)
                throw new IllegalArgumentException("the network has " + end + " parameters; at most " + (Integer.MAX_VALUE - 16) + " are supported");
            offset = end;
            return new int[] {(int) w, biases == 0 ? -1 : (int) b};
        }

        private Builder push(Layer layer, int[] shape, int... from) {
            layers.add(layer);
            inputs.add(from);
            shapes.add(shape);
            names.add(null);
            current = layers.size() - 1;
            return this;
        }

        /** Appends a dense layer with `out` outputs and a bias (identity activation until one is set); needs a flat input. */
        public Builder dense(int out) {
            return dense(out, true);
        }

        /** Appends a dense layer, with or without a bias. */
        public Builder dense(int out, boolean bias) {
            if (out < 1) throw new IllegalArgumentException(where() + ": out = " + out + "; must be >= 1");
            if (shape().length != 1)
                throw new IllegalArgumentException(where() + " (dense) needs a flat input, but the previous layer outputs " + show(shape())
                        + ": add flatten() before it");
            int in = shape()[0];
            int[] o = offsets((long) in * out, bias ? out : 0);
            return push(new Dense(in, out, Activation.IDENTITY, o[0], o[1]), new int[] {out}, current);
        }

        /** Appends a convolution (stride 1, no padding, with a bias). */
        public Builder conv2d(int inChannels, int outChannels, int kernel) {
            return conv2d(inChannels, outChannels, kernel, 1, 0);
        }

        /** Appends a convolution with a bias; needs a C x H x W input with C = inChannels. */
        public Builder conv2d(int inChannels, int outChannels, int kernel, int stride, int padding) {
            return conv2d(inChannels, outChannels, kernel, stride, padding, true);
        }

        /** Appends a convolution, with or without a bias (none is usual before a batch norm). */
        public Builder conv2d(int inChannels, int outChannels, int kernel, int stride, int padding, boolean bias) {
            int[] shape = shape();
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
            int[] o = offsets((long) outChannels * inChannels * kernel * kernel, bias ? outChannels : 0);
            Conv2d c = new Conv2d(inChannels, shape[1], shape[2], outChannels, kernel, stride, padding, Activation.IDENTITY, o[0], o[1]);
            return push(c, new int[] {outChannels, c.outHeight(), c.outWidth()}, current);
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
            int[] shape = shape();
            if (shape.length != 3) throw new IllegalArgumentException(where() + " (" + name + ") needs a CxHxW input, but it receives " + show(shape));
            if (kernel < 1 || stride < 1 || kernel > shape[1] || kernel > shape[2])
                throw new IllegalArgumentException(where() + " (" + name + "): kernel = " + kernel + ", stride = " + stride + " on " + show(shape)
                        + "; need 1 <= kernel <= height and width, stride >= 1");
            Pool2d p = new Pool2d(max, shape[0], shape[1], shape[2], kernel, stride);
            return push(p, new int[] {shape[0], p.outHeight(), p.outWidth()}, current);
        }

        /** The mean of each channel over its positions: C x H x W -> C. */
        public Builder globalAvgPool() {
            int[] shape = shape();
            if (shape.length != 3) throw new IllegalArgumentException(where() + " (globalavgpool) needs a CxHxW input, but it receives " + show(shape));
            return push(new GlobalAvgPool(shape[0], shape[1], shape[2]), new int[] {shape[0]}, current);
        }

        /** Flattens C x H x W to a vector (free). */
        public Builder flatten() {
            int[] shape = shape();
            if (shape.length != 3) throw new IllegalArgumentException(where() + " (flatten) needs a CxHxW input, but it receives " + show(shape));
            return push(new Flatten(shape[0], shape[1], shape[2]), new int[] {size(shape)}, current);
        }

        /** Batch normalization with PyTorch's defaults (eps 1e-5, momentum 0.1): BatchNorm2d on C x H x W, BatchNorm1d on a flat input. */
        public Builder batchNorm() {
            return batchNorm(1e-5, 0.1);
        }

        public Builder batchNorm(double eps, double momentum) {
            if (!(eps > 0) || !(momentum >= 0 && momentum <= 1))
                throw new IllegalArgumentException(where() + " (batchnorm): eps = " + eps + ", momentum = " + momentum + "; need eps > 0 and momentum in [0, 1]");
            int[] shape = shape();
            boolean spatial = shape.length == 3;
            int channels = shape[0], positions = spatial ? shape[1] * shape[2] : 1;
            int[] o = offsets(channels, channels);
            return push(new BatchNorm(channels, positions, spatial, eps, momentum, Activation.IDENTITY, o[0], o[1]), shape.clone(), current);
        }

        /** Layer normalization over each whole sample (eps 1e-5). */
        public Builder layerNorm() {
            return layerNorm(size(shape()), 1e-5);
        }

        /**
         * Layer normalization over each consecutive group of `size` values of a sample (PyTorch's
         * LayerNorm(size) on the last dimension): size must divide the sample's length (for a C x H x W
         * input: W, H W or C H W).
         */
        public Builder layerNorm(int size, double eps) {
            int[] shape = shape();
            int n = size(shape);
            boolean ok = size >= 1 && n % size == 0 && (shape.length == 1 || size == shape[2] || size == shape[1] * shape[2] || size == n);
            if (!ok)
                throw new IllegalArgumentException(where() + " (layernorm): size = " + size + " on " + show(shape)
                        + "; must be a trailing block of the sample (flat: a divisor of its length; CxHxW: W, HxW or CxHxW)");
            if (!(eps > 0)) throw new IllegalArgumentException(where() + " (layernorm): eps = " + eps + "; must be > 0");
            int[] o = offsets(size, size);
            return push(new LayerNorm(n / size, size, eps, Activation.IDENTITY, o[0], o[1]), shape.clone(), current);
        }

        /** Inverted dropout with drop probability p (training mode only). */
        public Builder dropout(double p) {
            if (!(p >= 0 && p < 1)) throw new IllegalArgumentException(where() + " (dropout): p = " + p + "; must be in [0, 1)");
            return push(new Dropout(size(shape()), p), shape().clone(), current);
        }

        /** An embedding of the network's input (flat, integer indices in [0, vocabulary)) into dim values each; only as the first layer. */
        public Builder embedding(int vocabulary, int dim) {
            if (current != NETWORK_INPUT || inputShape.length != 1)
                throw new IllegalArgumentException(where() + " (embedding) must read the network's flat input of indices (make it the first layer)");
            if (vocabulary < 1 || dim < 1)
                throw new IllegalArgumentException(where() + " (embedding): vocabulary = " + vocabulary + ", dim = " + dim + "; both must be >= 1");
            int[] o = offsets((long) vocabulary * dim, 0);
            int length = inputShape[0];
            return push(new Embedding(vocabulary, dim, length, o[0]), new int[] {length * dim}, current);
        }

        /** Names the current output (the network's input before any layer) so that {@link #from}, {@link #add} and {@link #concat} can read it. */
        public Builder save(String tag) {
            if (tag == null || tag.isBlank()) throw new IllegalArgumentException("save: the tag is empty");
            if (saved.containsKey(tag)) throw new IllegalArgumentException("save(\"" + tag + "\"): the tag names another output already");
            saved.put(tag, current);
            return this;
        }

        private int saved(String tag, String what) {
            Integer layer = saved.get(tag);
            if (layer == null) throw new IllegalArgumentException(where() + " (" + what + "): no output is saved as \"" + tag + "\"; saved: " + saved.keySet());
            return layer;
        }

        /** Makes the output saved as `tag` current: the next layer reads it. */
        public Builder from(String tag) {
            current = saved(tag, "from");
            return this;
        }

        /** Adds the current output and the outputs saved under the tags (all of one shape): a residual connection. */
        public Builder add(String... tags) {
            int[] from = joined("add", tags);
            int[] shape = shape();
            for (int i : from)
                if (!Arrays.equals(shapeOf(i), shape))
                    throw new IllegalArgumentException(where() + " (add): the inputs' shapes differ: " + show(shape) + " and " + show(shapeOf(i)));
            return push(new Add(size(shape), from.length, Activation.IDENTITY), shape.clone(), from);
        }

        /** Concatenates the current output and the outputs saved under the tags along the channels (same height and width), or flat vectors. */
        public Builder concat(String... tags) {
            int[] from = joined("concat", tags);
            int[] shape = shape();
            int[] channels = new int[from.length];
            int total = 0;
            for (int i = 0; i < from.length; i++) {
                int[] s = shapeOf(from[i]);
                if (s.length != shape.length || (s.length == 3 && (s[1] != shape[1] || s[2] != shape[2])))
                    throw new IllegalArgumentException(where() + " (concat): " + show(s) + " cannot join " + show(shape)
                            + "; need all flat, or all CxHxW with the same height and width");
                channels[i] = s[0];
                total += s[0];
            }
            boolean spatial = shape.length == 3;
            int[] out = spatial ? new int[] {total, shape[1], shape[2]} : new int[] {total};
            return push(new Concat(channels, spatial ? shape[1] * shape[2] : 1, spatial), out, from);
        }

        private int[] joined(String what, String[] tags) {
            if (tags.length < 1 || tags.length > MAX_INPUTS - 1)
                throw new IllegalArgumentException(where() + " (" + what + "): " + tags.length + " saved outputs; give 1 to " + (MAX_INPUTS - 1)
                        + " (with the current output at most " + MAX_INPUTS + " inputs)");
            int[] from = new int[tags.length + 1];
            from[0] = current;
            for (int i = 0; i < tags.length; i++) from[i + 1] = saved(tags[i], what);
            return from;
        }

        /** Names the last layer's module: its parameters become "name.weight", "name.bias" (and a batch norm's "name.running_mean", ...). */
        public Builder module(String name) {
            if (layers.isEmpty()) throw new IllegalStateException("module(\"" + name + "\") given before any layer");
            if (name == null || name.isEmpty() || name.startsWith(".") || name.endsWith("."))
                throw new IllegalArgumentException("module name '" + name + "'; must be non-empty and not start or end with '.'");
            names.set(layers.size() - 1, name);
            return this;
        }

        /**
         * Sets the activation of the current output: it joins the layer that made it when that is a
         * dense, conv2d, batch norm, layer norm or add layer without one; otherwise it is a layer of
         * its own.
         */
        public Builder activation(Activation activation) {
            if (current == NETWORK_INPUT && layers.isEmpty()) throw new IllegalStateException("activation " + activation + " given before any layer");
            if (current == layers.size() - 1 && layers.get(current).activation() == Activation.IDENTITY) {
                Layer last = layers.get(current), replaced = null;
                if (last instanceof Dense d) replaced = new Dense(d.in(), d.out(), activation, d.weightOffset(), d.biasOffset());
                else if (last instanceof Conv2d c) replaced = new Conv2d(c.inChannels(), c.inHeight(), c.inWidth(), c.outChannels(), c.kernel(),
                        c.stride(), c.padding(), activation, c.weightOffset(), c.biasOffset());
                else if (last instanceof BatchNorm b) replaced = new BatchNorm(b.channels(), b.positions(), b.spatial(), b.eps(), b.momentum(), activation,
                        b.weightOffset(), b.biasOffset());
                else if (last instanceof LayerNorm n) replaced = new LayerNorm(n.groups(), n.size(), n.eps(), activation, n.weightOffset(), n.biasOffset());
                else if (last instanceof Add a) replaced = new Add(a.size(), a.arity(), activation);
                if (replaced != null) {
                    layers.set(current, replaced);
                    return this;
                }
            }
            if (activation == Activation.IDENTITY) return this;
            return push(new Activate(size(shape()), activation), shape().clone(), current);
        }

        /**
         * An activation as a layer of its own (a = phi(x)) on the current output, even where it
         * could join the layer that made it: for a graph in which that output is also read without
         * the activation (an imported model's, say).
         */
        public Builder activationLayer(Activation activation) {
            if (activation == null) throw new NullPointerException("activation is null");
            if (activation == Activation.IDENTITY)
                throw new IllegalArgumentException(where() + " (activation layer): IDENTITY computes nothing; leave the layer out");
            return push(new Activate(size(shape()), activation), shape().clone(), current);
        }

        public Builder tanh() { return activation(Activation.TANH); }

        public Builder sigmoid() { return activation(Activation.SIGMOID); }

        public Builder relu() { return activation(Activation.RELU); }

        public Builder softplus() { return activation(Activation.SOFTPLUS); }

        public Builder gelu() { return activation(Activation.GELU); }

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
            int last = layers.size() - 1;
            if (current != last)
                throw new IllegalArgumentException("the network's output must be its last layer (" + last + "), but the current output is "
                        + (current == NETWORK_INPUT ? "the input" : "layer " + current) + " (after from())");
            int[] shape = shape();
            if (shape.length != 1)
                throw new IllegalArgumentException("the network ends with " + show(shape) + "; end with flatten(), globalAvgPool() or a dense layer");
            if (layers.get(0) instanceof Flatten)
                throw new IllegalArgumentException("the network starts with flatten(); give the flat input size to Network.builder(dim) instead");
            if (loss == Loss.SOFTMAX_CROSS_ENTROPY && shape[0] < 2)
                throw new IllegalArgumentException("softmax cross-entropy needs at least 2 outputs, the last layer has " + shape[0]);
            boolean[] used = new boolean[layers.size()];
            for (int[] in : inputs) for (int i : in) if (i != NETWORK_INPUT) used[i] = true;
            for (int l = 0; l < last; l++)
                if (!used[l]) throw new IllegalArgumentException("layer " + l + " (" + layers.get(l).describe() + ")'s output is never used");
            Set<String> seen = new HashSet<>();
            for (String n : names)
                if (n != null && !seen.add(n)) throw new IllegalArgumentException("module name '" + n + "' is given to two layers");
            return new Network(inputShape, layers, inputs.toArray(new int[0][]), shapes.toArray(new int[0][]), names.toArray(new String[0]), loss,
                    regularization);
        }
    }
}
