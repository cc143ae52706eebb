package org.adanewton.minimizer;

import org.adanewton.backend.Backend;
import org.adanewton.backend.Batch;
import org.adanewton.backend.CurvatureOperator;
import org.adanewton.backend.CurvaturePrecision;
import org.adanewton.backend.NetworkModel;
import org.adanewton.backend.Vector;
import org.adanewton.nn.Network;

/**
 * A network's training loss as a stochastic {@link Problem}: each iteration draws a mini-batch
 * (epoch-wise permutation, seeded); the gradient, the curvature products and the trial loss of that
 * iteration all use it. Optionally the curvature uses a separate, smaller Hessian batch (the first
 * rows of the iteration's batch), and the Gauss-Newton product can replace the exact Hessian. The
 * data stay in the caller's arrays, checked once here (finite, labels or targets in range); each batch is gathered
 * from them straight into the backend's batch ({@link Batch#gather}).
 *
 * <p>Modes (networks with batch norm or dropout, {@link Network#hasModes()}; others are untouched):
 * the problem's models (the gradient model, the trial-loss model and the Hessian-batch model) are
 * in training mode, and one iteration sees one model: {@link #advance()} sets one dropout seed on
 * all of them, {@link #dropoutSeed}(seed, samples drawn before the iteration's batch), a function of
 * the problem's seed and the iteration alone (the sampler's state is saved and restored, so a
 * resumed run draws the same masks); after the iteration's gradient, {@link #gradient} folds the
 * batch's statistics into the gradient model's running statistics once
 * ({@link NetworkModel#updateRunningStatistics}) and gives them to the other models. Those running
 * statistics are the problem's ({@link #runningStatistics()}, {@link #setRunningStatistics}).
 *
 * <p>Thread safety: not thread-safe: use an instance from one thread at a time. It reads the
 * caller's data arrays, so do not change them while it is in use.
 */
public final class NetworkProblem implements Problem {

    /** Which curvature the model uses. */
    public enum Curvature {
        HESSIAN,
        GAUSS_NEWTON;

        /** The curvature named {@code hessian}, or {@code gauss-newton} / {@code gn} (any case). */
        public static Curvature parse(String name) {
            if ("hessian".equalsIgnoreCase(name)) return HESSIAN;
            if ("gauss-newton".equalsIgnoreCase(name) || "gn".equalsIgnoreCase(name)) return GAUSS_NEWTON;
            throw new IllegalArgumentException("curvature = '" + name + "'; must be hessian or gauss-newton");
        }
    }

    private final Backend backend;
    private final Network network;
    /** The data, checked once here: batches are gathered from them without checking again. */
    private final Batch.Rows data;
    private final int size, capacity, hessianBatch;
    private int batchSize;
    private final Curvature curvature;
    private final BatchSampler sampler;
    private final NetworkModel model, trialModel, hessianModel;
    private final Batch batch, hessianBatchBuffer;
    private final Vector hessianScratch;
    private final int[] indices;
    private int rows;
    private final CurvatureOperator operator;
    private final boolean modes, statistics;
    private final long seed;
    /** The gradient model first, then the trial-loss model and the Hessian-batch model (when there is one). */
    private final NetworkModel[] models;

    /**
     * @param inputs       rows x inputDim, row-major
     * @param labels       class labels (softmax cross-entropy) or null
     * @param targets      rows x outputDim targets (squared error) or null
     * @param batchSize    samples per iteration
     * @param hessianBatch samples for the curvature (0 or batchSize: the same batch)
     */
    public NetworkProblem(Backend backend, Network network, float[] inputs, int[] labels, float[] targets, int batchSize, int hessianBatch,
            Curvature curvature, long seed) {
        this(backend, network, inputs, labels, targets, batchSize, batchSize, hessianBatch, curvature, seed);
    }

    /** As above, with buffers for batches of up to maxBatchSize (see {@link #setBatchSize}). */
    public NetworkProblem(Backend backend, Network network, float[] inputs, int[] labels, float[] targets, int batchSize, int maxBatchSize,
            int hessianBatch, Curvature curvature, long seed) {
        this.backend = backend;
        this.network = network;
        int d = network.inputDim();
        if (inputs == null || inputs.length == 0 || inputs.length % d != 0)
            throw new IllegalArgumentException("inputs has length " + (inputs == null ? 0 : inputs.length) + "; must be a positive multiple of inputDim = " + d);
        this.size = inputs.length / d;
        if (batchSize < 1) throw new IllegalArgumentException("batchSize = " + batchSize + "; must be >= 1");
        if (hessianBatch < 0 || hessianBatch > batchSize)
            throw new IllegalArgumentException("hessianBatch = " + hessianBatch + "; must be in [0, batchSize = " + batchSize + "]");
        this.data = Batch.rows(network, inputs, network.loss().usesLabels() ? labels : null, network.loss().usesLabels() ? null : targets);
        if (maxBatchSize < batchSize)
            throw new IllegalArgumentException("maxBatchSize = " + maxBatchSize + "; must be >= batchSize = " + batchSize);
        this.batchSize = Math.min(batchSize, size);
        this.capacity = Math.min(maxBatchSize, size);
        this.hessianBatch = hessianBatch == 0 || hessianBatch >= this.batchSize ? 0 : hessianBatch;
        this.curvature = curvature;
        this.sampler = new BatchSampler(size, seed);
        this.model = backend.model(network, capacity);
        this.trialModel = backend.model(network, capacity);
        this.batch = backend.batch(network, capacity);
        this.indices = new int[capacity];
        if (this.hessianBatch > 0) {
            hessianModel = backend.model(network, this.hessianBatch);
            hessianBatchBuffer = backend.batch(network, this.hessianBatch);
            hessianScratch = backend.allocate(network.parameterCount());
        } else {
            hessianModel = null;
            hessianBatchBuffer = null;
            hessianScratch = null;
        }
        NetworkModel curvatureModel = hessianModel != null ? hessianModel : model;
        this.operator = curvature == Curvature.GAUSS_NEWTON ? curvatureModel.gaussNewton() : curvatureModel.hessian();
        this.modes = network.hasModes();
        this.statistics = network.statisticsCount() > 0;
        this.seed = seed;
        this.models = hessianModel == null ? new NetworkModel[] {model, trialModel} : new NetworkModel[] {model, trialModel, hessianModel};
    }

    /**
     * The dropout seed of the iteration whose batch starts after `drawn` samples of a problem seeded
     * with `seed`: the SplitMix64 finalizer of (the finalizer of seed) + drawn. Each iteration has
     * its own (drawn grows by the batch every iteration), the same on every backend and after a resume.
     */
    public static long dropoutSeed(long seed, long drawn) {
        return mix(mix(seed) + drawn);
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    public Network network() {
        return network;
    }

    public BatchSampler sampler() {
        return sampler;
    }

    @Override
    public Backend backend() {
        return backend;
    }

    @Override
    public int dimension() {
        return network.parameterCount();
    }

    @Override
    public boolean isStochastic() {
        return true;
    }

    @Override
    public void advance() {
        long drawn = sampler.drawn();
        rows = sampler.next(indices, batchSize);
        batch.gather(data, indices, rows);
        if (hessianBatchBuffer != null) hessianBatchBuffer.gather(data, indices, Math.min(rows, hessianBatch));
        if (modes) {
            long dropout = dropoutSeed(seed, drawn);
            for (NetworkModel m : models) {
                m.setTraining(true);
                m.setDropoutSeed(dropout);
            }
        }
    }

    /** A copy of the running statistics (Network#statistics order; empty without batch norm). */
    public double[] runningStatistics() {
        return model.runningStatistics();
    }

    /** Sets the running statistics of every model of the problem (checked as {@link NetworkModel#setRunningStatistics}). */
    public void setRunningStatistics(double[] values) {
        for (NetworkModel m : models) m.setRunningStatistics(values);
    }

    /** Samples per iteration from the next draw on (at most the capacity given at construction). */
    public void setBatchSize(int newSize) {
        if (newSize < 1 || newSize > capacity)
            throw new IllegalArgumentException("batch size = " + newSize + "; must be in [1, " + capacity + "] (the capacity)");
        batchSize = newSize;
    }

    public int batchSize() {
        return batchSize;
    }

    /** Rows of the current sample. */
    public int rows() {
        return rows;
    }

    @Override
    public double gradient(Vector x, Vector g) {
        if (rows == 0) advance();
        double f = model.gradient(x, batch, g);
        if (statistics && model.updateRunningStatistics()) {
            double[] updated = model.runningStatistics();
            trialModel.setRunningStatistics(updated);
            if (hessianModel != null) hessianModel.setRunningStatistics(updated); // before its gradient: a change drops its cached point
        }
        if (hessianModel != null) hessianModel.gradient(x, hessianBatchBuffer, hessianScratch);
        return f;
    }

    @Override
    public double value(Vector x) {
        return trialModel.loss(x, batch);
    }

    @Override
    public CurvatureOperator curvature() {
        return operator;
    }

    @Override
    public double epochs() {
        return sampler.epochs();
    }

    public Curvature curvatureKind() {
        return curvature;
    }

    /**
     * The precision of the curvature products' GEMMs from now on (the model that computes them;
     * {@link NetworkModel#setCurvaturePrecision}: refused with the backend's reason where it cannot).
     */
    public void setCurvaturePrecision(CurvaturePrecision precision) {
        (hessianModel != null ? hessianModel : model).setCurvaturePrecision(precision);
    }

    @Override
    public void close() {
        model.close();
        trialModel.close();
        batch.close();
        if (hessianModel != null) {
            hessianModel.close();
            hessianBatchBuffer.close();
            hessianScratch.close();
        }
    }
}
