package org.adanewton.data;

import java.util.Arrays;
import java.util.Objects;

/**
 * An in-memory data set: {@link #size()} samples of {@link #inputDim()} floats each, stored
 * row-major in one array ({@code inputs[i * inputDim + j]} is feature j of sample i), with
 * optional class labels in {@code [0, classes)} and optional float targets
 * ({@code size x targetDim}, row-major, e.g. the inputs themselves for an autoencoder).
 *
 * <p>Each sample has a shape {@code channels x height x width} (1x28x28 for MNIST, 3x32x32 for
 * CIFAR-10 in NCHW order, 1x1xdim for flat data) whose product is {@link #inputDim()}.
 *
 * <p>Everything is validated on construction: array lengths consistent with the shape, every
 * input and target finite, every label in range; a violation throws
 * {@link IllegalArgumentException} naming the sample index. The arrays are <em>not</em> copied
 * (a training set is hundreds of megabytes): the accessors return the arrays themselves, which
 * callers must treat as read-only. Instances are otherwise immutable; {@link #subset} copies the
 * rows it keeps.
 *
 * <p>Thread safety: shallowly immutable: its arrays are shared, not copied; do not change them
 * while other threads read it.
 */
public final class Dataset {
    private final String name;
    private final String source;
    private final float[] inputs;
    private final int[] labels;
    private final float[] targets;
    private final int size;
    private final int channels;
    private final int height;
    private final int width;
    private final int classes;
    private final int targetDim;

    /**
     * @param name     what the data is, e.g. "Fashion-MNIST train"
     * @param source   where it came from (a directory, a file, a resource), or null
     * @param inputs   size x (channels*height*width) floats, row-major, all finite
     * @param channels channels per sample (>= 1)
     * @param height   rows per channel (>= 1)
     * @param width    columns per row (>= 1)
     * @param labels   one label per sample in [0, classes), or null
     * @param classes  number of classes (>= 1 when labels are given; informational otherwise)
     * @param targets  size x targetDim floats, row-major, all finite, or null
     * @throws IllegalArgumentException if the lengths disagree, there is no sample, an input or
     *                                  target is not finite, or a label is out of range (the
     *                                  message names the sample)
     */
    public Dataset(String name, String source, float[] inputs, int channels, int height, int width, int[] labels,
            int classes, float[] targets) {
        this.name = Objects.requireNonNull(name, "name");
        this.source = source;
        this.inputs = Objects.requireNonNull(inputs, "inputs");
        if (channels < 1 || height < 1 || width < 1)
            throw new IllegalArgumentException(name + ": sample shape " + channels + "x" + height + "x" + width
                    + "; every dimension must be >= 1");
        long dim = (long) channels * height * width;
        if (dim > Integer.MAX_VALUE)
            throw new IllegalArgumentException(name + ": sample shape " + channels + "x" + height + "x" + width
                    + " has more than " + Integer.MAX_VALUE + " features");
        int inputDim = (int) dim;
        if (inputs.length == 0 || inputs.length % inputDim != 0)
            throw new IllegalArgumentException(name + ": inputs has length " + inputs.length
                    + ", which is not a positive multiple of the sample size " + inputDim + " ("
                    + channels + "x" + height + "x" + width + ")");
        this.size = inputs.length / inputDim;
        this.channels = channels;
        this.height = height;
        this.width = width;
        if (classes < 0) throw new IllegalArgumentException(name + ": classes = " + classes + "; must be >= 0");
        if (labels != null) {
            if (classes < 1)
                throw new IllegalArgumentException(name + ": labels given but classes = " + classes + "; must be >= 1");
            if (labels.length != size)
                throw new IllegalArgumentException(name + ": labels has length " + labels.length + " but there are "
                        + size + " samples");
            for (int i = 0; i < size; i++)
                if (labels[i] < 0 || labels[i] >= classes)
                    throw new IllegalArgumentException(name + ": sample " + i + " has label " + labels[i]
                            + "; expected 0.." + (classes - 1));
        }
        this.labels = labels;
        this.classes = classes;
        checkFinite(name, "input", inputs, inputDim);
        if (targets != null) {
            if (targets.length == 0 || targets.length % size != 0)
                throw new IllegalArgumentException(name + ": targets has length " + targets.length
                        + ", which is not a positive multiple of the " + size + " samples");
            this.targetDim = targets.length / size;
            if (targets != inputs) checkFinite(name, "target", targets, targetDim);
        } else {
            this.targetDim = 0;
        }
        this.targets = targets;
    }

    /** Trusted copy constructor for {@link #subset} and {@link #asAutoencoder}: no re-validation. */
    private Dataset(Dataset shape, String name, float[] inputs, int[] labels, float[] targets, int targetDim) {
        this.name = name;
        this.source = shape.source;
        this.inputs = inputs;
        this.labels = labels;
        this.targets = targets;
        this.channels = shape.channels;
        this.height = shape.height;
        this.width = shape.width;
        this.classes = shape.classes;
        this.size = inputs.length / shape.inputDim();
        this.targetDim = targetDim;
    }

    /** A flat data set: each sample is a vector of {@code dim} features (shape 1x1xdim). */
    public static Dataset flat(String name, float[] inputs, int dim, int[] labels, int classes, float[] targets) {
        return new Dataset(name, null, inputs, 1, 1, dim, labels, classes, targets);
    }

    private static void checkFinite(String name, String what, float[] values, int dim) {
        for (int k = 0; k < values.length; k++)
            if (!Float.isFinite(values[k]))
                throw new IllegalArgumentException(name + ": sample " + (k / dim) + " has a non-finite " + what + " ("
                        + values[k] + " at feature " + (k % dim) + ", array index " + k + ")");
    }

    /** What the data is, e.g. "Fashion-MNIST train". */
    public String name() {
        return name;
    }

    /** Where the data came from (directory, file or resource), or null. */
    public String source() {
        return source;
    }

    /**
     * One line for logs, e.g. "Fashion-MNIST train (60000 samples, 1x28x28) from
     * /usr/share/datasets/fashion-mnist".
     */
    public String description() {
        return name + " (" + size + " samples, " + shape() + ")" + (source == null ? "" : " from " + source);
    }

    /** The inputs, size x inputDim row-major (the array itself: do not modify). */
    public float[] inputs() {
        return inputs;
    }

    /** The labels, one per sample in [0, classes), or null (the array itself: do not modify). */
    public int[] labels() {
        return labels;
    }

    /** The targets, size x targetDim row-major, or null (the array itself: do not modify). */
    public float[] targets() {
        return targets;
    }

    public boolean hasLabels() {
        return labels != null;
    }

    public boolean hasTargets() {
        return targets != null;
    }

    /** Number of samples (>= 1). */
    public int size() {
        return size;
    }

    /** Features per sample: channels * height * width. */
    public int inputDim() {
        return channels * height * width;
    }

    /** Number of classes: labels lie in [0, classes). */
    public int classes() {
        return classes;
    }

    /** Floats per target row, or 0 without targets. */
    public int targetDim() {
        return targetDim;
    }

    public int channels() {
        return channels;
    }

    public int height() {
        return height;
    }

    public int width() {
        return width;
    }

    /** The sample shape as "CxHxW", e.g. "1x28x28". */
    public String shape() {
        return channels + "x" + height + "x" + width;
    }

    /** Samples per class (length {@link #classes()}); all zeros without labels. */
    public int[] classCounts() {
        int[] counts = new int[classes];
        if (labels != null) for (int y : labels) counts[y]++;
        return counts;
    }

    /**
     * Rows {@code [from, to)} as a new data set (copied), e.g. {@code subset(0, 50000)} and
     * {@code subset(50000, 60000)} for the 50,000 / 10,000 training / validation split.
     *
     * @throws IllegalArgumentException unless {@code 0 <= from < to <= size()}
     */
    public Dataset subset(int from, int to) {
        if (from < 0 || to > size || from >= to)
            throw new IllegalArgumentException(name + ": subset [" + from + ", " + to + ") of " + size
                    + " samples; need 0 <= from < to <= " + size);
        int dim = inputDim();
        float[] in = Arrays.copyOfRange(inputs, from * dim, to * dim);
        int[] lab = labels == null ? null : Arrays.copyOfRange(labels, from, to);
        float[] tgt = targets == null ? null
                : targets == inputs ? in : Arrays.copyOfRange(targets, from * targetDim, to * targetDim);
        return new Dataset(this, name + " rows [" + from + ", " + to + ")", in, lab, tgt, targetDim);
    }

    /**
     * The same samples with targets = inputs (targetDim = inputDim), labels kept, for training an
     * autoencoder with squared error. The inputs array is shared, not copied.
     */
    public Dataset asAutoencoder() {
        if (targets == inputs) return this;
        return new Dataset(this, name + ", autoencoder targets", inputs, labels, inputs, inputDim());
    }

    @Override
    public String toString() {
        return description();
    }
}
