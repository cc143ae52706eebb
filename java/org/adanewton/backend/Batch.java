package org.adanewton.backend;

import org.adanewton.nn.Loss;
import org.adanewton.nn.Network;

/**
 * Up to {@link #capacity()} rows of inputs with their labels (softmax cross-entropy) or targets
 * (squared error), stored on a backend. Created by {@link Backend#batch(Network, int)} and reused:
 * {@link #set} validates everything first (lengths, finiteness, label range, an embedding's indices)
 * and only then copies, so a rejected call leaves the previous contents intact.
 *
 * <p>Thread safety: a batch serves one thread at a time. Writing it while another thread writes it,
 * or while a model computes on it, throws {@link IllegalStateException} and changes nothing.
 */
public abstract class Batch implements AutoCloseable {
    private final Backend backend;
    private final Network network;
    private final int capacity;
    private int rows;
    private long version;
    private boolean closed;
    /** Held while rows are written, and by a model computing on this batch. */
    final ExclusiveUse use = new ExclusiveUse(() -> "the Batch of " + network().shortName() + " on the " + backend().kind() + " backend");

    protected Batch(Backend backend, Network network, int capacity) {
        if (capacity < 1) throw new IllegalArgumentException("batch capacity = " + capacity + "; must be >= 1");
        this.backend = backend;
        this.network = network;
        this.capacity = capacity;
    }

    public final Backend backend() {
        return backend;
    }

    public final Network network() {
        return network;
    }

    public final int capacity() {
        return capacity;
    }

    /** Rows currently held (0 until the first set). */
    public final int rows() {
        return rows;
    }

    /** Incremented by every successful set. */
    public final long version() {
        return version;
    }

    public final boolean isClosed() {
        return closed;
    }

    /** Classification: inputs (rows x inputDim, row-major) and labels in [0, outputDim). */
    public final void set(float[] inputs, int[] labels, int rows) {
        setLabels(inputs, labels, rows, true);
    }

    /**
     * As {@link #set(float[], int[], int)}, from the first rows of longer, reused buffers (inputs at
     * least rows x inputDim, labels at least rows long).
     */
    public final void setFirstRows(float[] inputs, int[] labels, int rows) {
        setLabels(inputs, labels, rows, false);
    }

    /** As {@link #set(float[], float[], int)}, from the first rows of longer, reused buffers. */
    public final void setFirstRows(float[] inputs, float[] targets, int rows) {
        setTargets(inputs, targets, rows, false);
    }

    private void setLabels(float[] inputs, int[] labels, int rows, boolean exact) {
        checkCommon(inputs, rows, exact);
        if (!network.loss().usesLabels())
            throw new IllegalArgumentException("the network's loss " + network.loss() + " takes float targets, not int labels");
        if (labels == null) throw new NullPointerException("labels is null");
        if (exact ? labels.length != rows : labels.length < rows)
            throw new IllegalArgumentException("labels has length " + labels.length + " but rows = " + rows);
        checkLabels(labels, rows, network.outputDim());
        write(inputs, labels, null, rows);
    }

    /** Regression: inputs (rows x inputDim) and targets (rows x outputDim), row-major. */
    public final void set(float[] inputs, float[] targets, int rows) {
        setTargets(inputs, targets, rows, true);
    }

    private void setTargets(float[] inputs, float[] targets, int rows, boolean exact) {
        checkCommon(inputs, rows, exact);
        if (network.loss().usesLabels())
            throw new IllegalArgumentException("the network's loss " + network.loss() + " takes int labels, not float targets");
        if (targets == null) throw new NullPointerException("targets is null");
        int d = network.outputDim();
        if (exact ? targets.length != (long) rows * d : targets.length < (long) rows * d)
            throw new IllegalArgumentException("targets has length " + targets.length + " but rows * outputDim = " + rows
                    + " * " + d + " = " + (long) rows * d);
        checkTargets(network, targets, rows * d, d);
        write(inputs, null, targets, rows);
    }

    /**
     * A data set checked once for a network (lengths, finiteness, label or target range, an
     * embedding's indices), from which {@link #gather} copies rows without checking them again: a
     * trainer's data, drawn from every iteration. The arrays stay the caller's and are not copied:
     * do not change them while the rows are in use.
     *
     * <p>Thread safety: immutable once made (as long as the caller leaves its arrays alone).
     */
    public static final class Rows {
        final Network network;
        final float[] inputs;
        final int[] labels;
        final float[] targets;
        final int size;

        private Rows(Network network, float[] inputs, int[] labels, float[] targets, int size) {
            this.network = network;
            this.inputs = inputs;
            this.labels = labels;
            this.targets = targets;
            this.size = size;
        }

        /** Samples in the data set. */
        public int size() {
            return size;
        }
    }

    /**
     * Checks a whole data set for the network once, as {@link #set} checks a batch: inputs (size x
     * inputDim, row-major) with labels (softmax cross-entropy) or targets (squared error,
     * binary cross-entropy; the other null).
     */
    public static Rows rows(Network network, float[] inputs, int[] labels, float[] targets) {
        if (inputs == null) throw new NullPointerException("inputs is null");
        int dim = network.inputDim();
        if (inputs.length == 0 || inputs.length % dim != 0)
            throw new IllegalArgumentException("inputs has length " + inputs.length + "; must be a positive multiple of inputDim = " + dim);
        int size = inputs.length / dim;
        checkFinite("inputs", inputs, inputs.length, dim);
        checkIndices(network, inputs, size, dim);
        if (network.loss().usesLabels()) {
            if (labels == null || labels.length != size)
                throw new IllegalArgumentException("labels has length " + (labels == null ? 0 : labels.length) + "; must be " + size
                        + " (one per sample) for loss " + network.loss());
            checkLabels(labels, size, network.outputDim());
            return new Rows(network, inputs, labels, null, size);
        }
        int d = network.outputDim();
        if (targets == null || targets.length != (long) size * d)
            throw new IllegalArgumentException("targets has length " + (targets == null ? 0 : targets.length) + "; must be " + size + " * outputDim "
                    + d + " = " + (long) size * d + " for loss " + network.loss());
        checkTargets(network, targets, size * d, d);
        return new Rows(network, inputs, null, targets, size);
    }

    /**
     * Sets the batch to the rows indices[0..count) of a checked data set (in that order), copied
     * straight into the backend's storage: nothing is checked again but the indices.
     */
    public final void gather(Rows data, int[] indices, int count) {
        if (closed) throw new IllegalStateException("the batch is closed");
        if (data.network != network && (data.network.inputDim() != network.inputDim() || data.network.outputDim() != network.outputDim()
                || data.network.loss() != network.loss() || indexBound(data.network) != indexBound(network)))
            throw new IllegalArgumentException("the rows were checked for " + data.network.shortName() + " (" + data.network.loss()
                    + "), not for this batch's " + network.shortName() + " (" + network.loss() + ")");
        if (count < 1 || count > capacity)
            throw new IllegalArgumentException("count = " + count + "; must be in [1, " + capacity + "] (the batch capacity)");
        if (indices.length < count) throw new IllegalArgumentException("indices has length " + indices.length + " but count = " + count);
        for (int i = 0; i < count; i++)
            if (indices[i] < 0 || indices[i] >= data.size)
                throw new IllegalArgumentException("indices[" + i + "] = " + indices[i] + "; must be in [0, " + data.size + ") (the rows' size)");
        use.enter();
        try {
            storeGathered(data.inputs, data.labels, data.targets, indices, count);
            commit(count);
        } finally {
            use.exit();
        }
    }

    /** Scratch rows of {@link #storeGathered}'s default (made on first use). */
    private float[] gatherInputs, gatherTargets;
    private int[] gatherLabels;

    /**
     * Copies the rows indices[0..count) of checked arrays into the backend's storage (labels or
     * targets null as the loss says). The default gathers them into scratch arrays and calls
     * {@link #store}; a backend may copy them straight into its own memory.
     */
    protected void storeGathered(float[] inputs, int[] labels, float[] targets, int[] indices, int count) {
        int d = network.inputDim(), o = network.outputDim();
        if (gatherInputs == null) {
            gatherInputs = new float[capacity * d];
            if (labels != null) gatherLabels = new int[capacity];
            else gatherTargets = new float[capacity * o];
        }
        for (int i = 0; i < count; i++) System.arraycopy(inputs, indices[i] * d, gatherInputs, i * d, d);
        if (labels != null) for (int i = 0; i < count; i++) gatherLabels[i] = labels[indices[i]];
        else for (int i = 0; i < count; i++) System.arraycopy(targets, indices[i] * o, gatherTargets, i * o, o);
        store(gatherInputs, gatherLabels, gatherTargets, count);
    }

    /** The validated rows into the backend's storage, unless another thread is using the batch. */
    private void write(float[] inputs, int[] labels, float[] targets, int rows) {
        use.enter();
        try {
            store(inputs, labels, targets, rows);
            commit(rows);
        } finally {
            use.exit();
        }
    }

    @Override
    public final void close() {
        use.enter();
        try {
            if (!closed) {
                closed = true;
                release();
            }
        } finally {
            use.exit();
        }
    }

    /** Copies the first rows (validated) into the backend's storage. */
    protected abstract void store(float[] inputs, int[] labels, float[] targets, int rows);

    protected abstract void release();

    private void checkCommon(float[] inputs, int rows, boolean exact) {
        if (closed) throw new IllegalStateException("the batch is closed");
        if (rows < 1 || rows > capacity)
            throw new IllegalArgumentException("rows = " + rows + "; must be in [1, " + capacity + "] (the batch capacity)");
        if (inputs == null) throw new NullPointerException("inputs is null");
        int dim = network.inputDim();
        if (exact ? inputs.length != (long) rows * dim : inputs.length < (long) rows * dim)
            throw new IllegalArgumentException("inputs has length " + inputs.length + " but rows * inputDim = " + rows + " * "
                    + dim + " = " + (long) rows * dim);
        checkFinite("inputs", inputs, rows * dim, dim);
        checkIndices(network, inputs, rows, dim);
    }

    private static void checkLabels(int[] labels, int rows, int classes) {
        for (int i = 0; i < rows; i++) {
            if (labels[i] < 0 || labels[i] >= classes)
                throw new IllegalArgumentException("labels[" + i + "] = " + labels[i] + "; must be in [0, " + classes
                        + ") for a network with " + classes + " outputs");
        }
    }

    private static void checkTargets(Network network, float[] targets, int count, int d) {
        checkFinite("targets", targets, count, d);
        if (network.loss() == Loss.BINARY_CROSS_ENTROPY) {
            for (int i = 0; i < count; i++) {
                if (!(targets[i] >= 0 && targets[i] <= 1))
                    throw new IllegalArgumentException("targets of sample " + (i / d) + " (output " + (i % d) + ") is " + targets[i]
                            + "; binary cross-entropy targets must be in [0, 1]");
            }
        }
    }

    /**
     * The bound of the network input's values when an embedding reads them: they must be integers
     * in [0, bound), bound the smallest vocabulary of the embeddings; -1 when no embedding reads it.
     */
    static int indexBound(Network network) {
        int bound = -1;
        for (Network.Layer l : network.layers())
            if (l instanceof Network.Embedding e) bound = bound < 0 ? e.vocabulary() : Math.min(bound, e.vocabulary());
        return bound;
    }

    /** An embedding's indices: every input an integer in [0, vocabulary), checked here so that no backend's kernel sees a bad one. */
    private static void checkIndices(Network network, float[] inputs, int rows, int dim) {
        int bound = indexBound(network);
        if (bound < 0) return;
        for (int i = 0; i < rows * dim; i++) {
            float v = inputs[i];
            if (v != Math.rint(v) || v < 0 || v >= bound)
                throw new IllegalArgumentException("inputs of sample " + (i / dim) + " (index " + (i % dim) + ") is " + v
                        + "; the network's embedding takes integer indices in [0, " + bound + ")");
        }
    }

    private static void checkFinite(String name, float[] values, int count, int width) {
        for (int i = 0; i < count; i++) {
            if (!Float.isFinite(values[i]))
                throw new IllegalArgumentException(name + " of sample " + (i / width) + " (feature " + (i % width) + ") is "
                        + values[i] + "; must be finite");
        }
    }

    private void commit(int rows) {
        this.rows = rows;
        version++;
    }
}
