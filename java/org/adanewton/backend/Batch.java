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
        int classes = network.outputDim();
        for (int i = 0; i < rows; i++) {
            if (labels[i] < 0 || labels[i] >= classes)
                throw new IllegalArgumentException("labels[" + i + "] = " + labels[i] + "; must be in [0, " + classes
                        + ") for a network with " + classes + " outputs");
        }
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
        checkFinite("targets", targets, rows * d, d);
        if (network.loss() == Loss.BINARY_CROSS_ENTROPY) {
            for (int i = 0; i < rows * d; i++) {
                if (!(targets[i] >= 0 && targets[i] <= 1))
                    throw new IllegalArgumentException("targets of sample " + (i / d) + " (output " + (i % d) + ") is " + targets[i]
                            + "; binary cross-entropy targets must be in [0, 1]");
            }
        }
        write(inputs, null, targets, rows);
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
        checkIndices(inputs, rows, dim);
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
    private void checkIndices(float[] inputs, int rows, int dim) {
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
