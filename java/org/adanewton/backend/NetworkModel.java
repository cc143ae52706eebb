package org.adanewton.backend;

import org.adanewton.nn.Network;

/**
 * A {@link Network} bound to a backend, with buffers for batches of up to {@link #maxBatch()} rows.
 * Computes the loss, the gradient, exact Hessian-vector products (Pearlmutter's R-operator) and
 * Gauss-Newton products J' H_loss J v (plus the regularizer's Hessian).
 *
 * <p>{@link #gradient} and {@link #hvp} remember their point (w, batch); {@link #hvpCached} and
 * {@link #gaussNewtonCached} reuse its forward state, the way a CG loop asks for many products at
 * one point. Changing w or the batch afterwards (any write through the backend) invalidates the
 * cache, and a cached call then throws instead of computing at a stale point.
 *
 * <p>Modes: a model starts in training mode (batch norm normalizes with the batch's statistics,
 * dropout applies the mask of the current {@link #setDropoutSeed dropout seed}); in evaluation mode
 * ({@link #setTraining}(false)) batch norm uses the running statistics ({@link #setRunningStatistics})
 * and dropout is the identity. Changing the mode, the seed or the running statistics invalidates the
 * cached point, so the gradient, every product of a solve and a trial loss at one seed see one model.
 *
 * <p>All arguments are validated before any kernel runs; a rejected call changes nothing.
 *
 * <p>Thread safety: a model serves one thread at a time (its buffers and its thread pool are its
 * own). A call from a second thread while one is running throws {@link IllegalStateException}
 * naming the model, and changes nothing; separate models run in parallel on separate threads.
 */
public abstract class NetworkModel implements AutoCloseable {
    private final Backend backend;
    private final Network network;
    private final int maxBatch;
    private boolean closed;
    // the cached point
    private Vector cachedW;
    private long cachedWVersion;
    private Batch cachedBatch;
    private long cachedBatchVersion;

    // the precision of the curvature products' GEMMs (setCurvaturePrecision)
    private CurvaturePrecision curvaturePrecision = CurvaturePrecision.FP32;

    // the mode (see the class comment)
    private boolean training = true;
    private long dropoutSeed;
    private final double[] runningStatistics;

    private final CurvatureOperator hessian, gaussNewton;
    private final ExclusiveUse use = new ExclusiveUse(() -> "the NetworkModel of " + network().shortName() + " on the " + backend().kind() + " backend");

    protected NetworkModel(Backend backend, Network network, int maxBatch) {
        this(backend, network, maxBatch, false);
    }

    /**
     * nativeSolves: the backend runs whole Krylov solves at the cached point natively (it implements
     * {@link #nativeSteihaug} and {@link #nativeLanczos}); {@link #hessian()} and
     * {@link #gaussNewton()} then offer them to the solvers.
     */
    protected NetworkModel(Backend backend, Network network, int maxBatch, boolean nativeSolves) {
        if (network == null) throw new NullPointerException("network is null");
        if (maxBatch < 1) throw new IllegalArgumentException("maxBatch = " + maxBatch + "; must be >= 1");
        this.backend = backend;
        this.network = network;
        this.maxBatch = maxBatch;
        this.runningStatistics = network.initialStatistics();
        this.hessian = nativeSolves ? new NativeCachedCurvature(0) : this::hvpCached;
        this.gaussNewton = nativeSolves ? new NativeCachedCurvature(1) : this::gaussNewtonCached;
    }

    public final Backend backend() {
        return backend;
    }

    public final Network network() {
        return network;
    }

    public final int maxBatch() {
        return maxBatch;
    }

    /** The network outputs (rows x outputDim, row-major) for the batch. */
    public final double[] forward(Vector w, Batch batch) {
        enter(batch);
        try {
            checkPoint(w, batch);
            invalidate();
            return doForward(w, batch);
        } finally {
            exit(batch);
        }
    }

    /** The loss (with regularization) at w on the batch. */
    public final double loss(Vector w, Batch batch) {
        enter(batch);
        try {
            checkPoint(w, batch);
            invalidate();
            return doLoss(w, batch);
        } finally {
            exit(batch);
        }
    }

    /** Writes the gradient into grad, returns the loss, and caches the point (w, batch). */
    public final double gradient(Vector w, Batch batch, Vector grad) {
        enter(batch);
        try {
            checkPoint(w, batch);
            checkOutput("grad", grad, w);
            invalidate();
            double loss = doGradient(w, batch, grad);
            written(grad);
            remember(w, batch);
            return loss;
        } finally {
            exit(batch);
        }
    }

    /** Writes H v into out from scratch (forward included), returns the loss, and caches the point. */
    public final double hvp(Vector w, Batch batch, Vector v, Vector out) {
        enter(batch);
        try {
            checkPoint(w, batch);
            checkParameters("v", v);
            checkOutput("out", out, w);
            if (out == v) throw new IllegalArgumentException("out and v are the same vector; they must differ");
            invalidate();
            double loss = doHvp(w, batch, v, out);
            written(out);
            remember(w, batch);
            return loss;
        } finally {
            exit(batch);
        }
    }

    /** Writes H v into out at the cached point, without a forward pass. */
    public final void hvpCached(Vector v, Vector out) {
        cachedProduct(false, v, out);
    }

    /** Writes the Gauss-Newton product J' H_loss J v (+ regularizer Hessian v) at the cached point. */
    public final void gaussNewtonCached(Vector v, Vector out) {
        cachedProduct(true, v, out);
    }

    private void cachedProduct(boolean gaussNewton, Vector v, Vector out) {
        Batch held = enterCached();
        try {
            checkCached();
            checkParameters("v", v);
            checkOutput("out", out, cachedW);
            if (out == v) throw new IllegalArgumentException("out and v are the same vector; they must differ");
            if (gaussNewton) doGaussNewtonCached(v, out);
            else doHvpCached(v, out);
            written(out);
        } finally {
            exit(held);
        }
    }

    /**
     * The exact Hessian at the cached point as an operator (each apply is {@link #hvpCached}); on
     * backends with native solves it is a {@link NativeCurvature}.
     */
    public final CurvatureOperator hessian() {
        return hessian;
    }

    /** The Gauss-Newton matrix at the cached point as an operator (each apply is {@link #gaussNewtonCached}). */
    public final CurvatureOperator gaussNewton() {
        return gaussNewton;
    }

    /**
     * The cached point's curvature (Hessian or Gauss-Newton) for backends that run whole Krylov
     * solves natively (one call per solve, products computed natively at the cached point).
     */
    private final class NativeCachedCurvature implements NativeCurvature {
        private final int curvature;

        NativeCachedCurvature(int curvature) {
            if (curvature != 0 && curvature != 1) throw new IllegalArgumentException("curvature = " + curvature + "; must be 0 or 1");
            this.curvature = curvature;
        }

        @Override
        public void apply(Vector v, Vector out) {
            if (curvature == 0) hvpCached(v, out);
            else gaussNewtonCached(v, out);
        }

        private void checkSolve(Vector g, Vector a, Vector s) {
            if (!hasCachedPoint()) throw new IllegalStateException("no cached point (or it changed): call gradient() before a native solve");
            int n = network.parameterCount();
            backend.check("g", g, n, "the network's parameter count");
            backend.check("metric", a, n, "the network's parameter count");
            backend.check("s", s, n, "the network's parameter count");
        }

        @Override
        public double[] steihaug(Vector g, Vector a, double radius, int maxIterations, double tolerance, int rule, Vector s) {
            Batch held = enterCached();
            try {
                checkSolve(g, a, s);
                double[] r = nativeSteihaug(curvature, g, a, radius, maxIterations, tolerance, rule, s);
                s.markWritten();
                return r;
            } finally {
                exit(held);
            }
        }

        @Override
        public double[] lanczos(boolean cubic, Vector g, Vector a, double reg, int maxIterations, double tolerance, int rule, Vector s) {
            Batch held = enterCached();
            try {
                checkSolve(g, a, s);
                double[] r = nativeLanczos(curvature, cubic, g, a, reg, maxIterations, tolerance, rule, s);
                s.markWritten();
                return r;
            } finally {
                exit(held);
            }
        }
    }

    /**
     * The native Steihaug solve behind {@link #hessian()} / {@link #gaussNewton()} (curvature 0 / 1;
     * arguments validated) for models built with nativeSolves: returns the native result array
     * (see {@link NativeCurvature}).
     */
    protected double[] nativeSteihaug(int curvature, Vector g, Vector a, double radius, int maxIterations, double tolerance, int rule, Vector s) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " has no native Steihaug solve");
    }

    /** The native GLTR (cubic false) or ARC (cubic true) solve, as {@link #nativeSteihaug}. */
    protected double[] nativeLanczos(int curvature, boolean cubic, Vector g, Vector a, double reg, int maxIterations, double tolerance, int rule,
            Vector s) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " has no native Lanczos solve");
    }

    // ---- curvature precision ----

    /**
     * The precision of the GEMMs inside this model's curvature products ({@link #hvp}, {@link #hvpCached},
     * {@link #gaussNewtonCached} and every product of a native solve over {@link #hessian()} or
     * {@link #gaussNewton()}); see {@link CurvaturePrecision} for what changes and what stays
     * float32. The cached point stays (a change touches the products only). FP32 is the default.
     *
     * @throws NullPointerException     when p is null
     * @throws IllegalArgumentException when the backend does not run products at p, with its reason
     *                                  ({@link Backend#unsupported}); nothing changes
     * @throws IllegalStateException    when the model is closed
     */
    public final void setCurvaturePrecision(CurvaturePrecision p) {
        if (p == null) throw new NullPointerException("curvature precision is null");
        use.enter();
        try {
            checkOpen();
            String reason = backend.unsupported(p);
            if (reason != null)
                throw new IllegalArgumentException("curvature precision = " + p.cliName() + " is not supported on the " + backend.kind() + " backend: "
                        + reason);
            if (p != curvaturePrecision) {
                doSetCurvaturePrecision(p);
                curvaturePrecision = p;
            }
        } finally {
            use.exit();
        }
    }

    /** The precision of the curvature products' GEMMs (FP32 unless {@link #setCurvaturePrecision} changed it). */
    public final CurvaturePrecision curvaturePrecision() {
        return curvaturePrecision;
    }

    /**
     * Makes the engine run the curvature products at p, which the backend supports (checked). A
     * backend that supports only FP32 never sees a call.
     */
    protected void doSetCurvaturePrecision(CurvaturePrecision p) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " runs curvature products in fp32 only");
    }

    // ---- modes, dropout and batch norm statistics ----

    /** Training mode (true, the default) or evaluation mode; a change invalidates the cached point. */
    public final void setTraining(boolean training) {
        use.enter();
        try {
            if (this.training != training) {
                this.training = training;
                invalidate();
                modeChanged();
            }
        } finally {
            use.exit();
        }
    }

    public final boolean isTraining() {
        return training;
    }

    /**
     * The seed of dropout's masks (see {@link Network#dropoutKeeps}); the trainer sets one per
     * iteration. A change invalidates the cached point.
     */
    public final void setDropoutSeed(long seed) {
        use.enter();
        try {
            if (seed != dropoutSeed) {
                dropoutSeed = seed;
                invalidate();
                modeChanged();
            }
        } finally {
            use.exit();
        }
    }

    public final long dropoutSeed() {
        return dropoutSeed;
    }

    /** A copy of the running statistics (Network#statistics order) that evaluation mode uses. */
    public final double[] runningStatistics() {
        return runningStatistics.clone();
    }

    /**
     * The running statistics themselves, not a copy, for a subclass that pushes them to its engine
     * in {@link #modeChanged} without allocating: read them, never write them.
     */
    protected final double[] runningStatisticsView() {
        return runningStatistics;
    }

    /** Sets the running statistics (checked: length, finite, variances >= 0); invalidates the cached point. */
    public final void setRunningStatistics(double[] statistics) {
        if (statistics == null) throw new NullPointerException("statistics is null");
        if (statistics.length != runningStatistics.length)
            throw new IllegalArgumentException("statistics has " + statistics.length + " values; the network's batch norm layers keep "
                    + runningStatistics.length);
        for (Network.Parameter p : network.statistics())
            for (int i = p.offset(); i < p.offset() + p.count(); i++)
                if (!Double.isFinite(statistics[i]) || (p.kind().equals("running_var") && statistics[i] < 0))
                    throw new IllegalArgumentException(p.name() + "[" + (i - p.offset()) + "] = " + statistics[i] + "; must be finite"
                            + (p.kind().equals("running_var") ? " and >= 0" : ""));
        use.enter();
        try {
            System.arraycopy(statistics, 0, runningStatistics, 0, statistics.length);
            invalidate();
            modeChanged();
        } finally {
            use.exit();
        }
    }

    /**
     * Folds the batch statistics of the cached point (training mode) into the running statistics,
     * as PyTorch's batch norm does on each training forward: r = (1 - momentum) r + momentum s, with
     * the variance unbiased (times m / (m - 1), m the values per channel). The trainer calls it once
     * per iteration, after the iteration's gradient. Without batch norm layers it does nothing.
     * When a batch statistic is not finite (a diverging batch) the running statistics stay as they
     * were and it returns false (PyTorch would carry the NaN into evaluation; these stay finite, as
     * {@link #setRunningStatistics} and checkpoints require).
     */
    public final boolean updateRunningStatistics() {
        if (runningStatistics.length == 0) return true;
        use.enter();
        try {
            if (!training) throw new IllegalStateException("updateRunningStatistics in evaluation mode: the batch statistics are not computed");
            if (!hasCachedPoint()) throw new IllegalStateException("no cached point (or it changed): call gradient() before updateRunningStatistics()");
            double[] batch = doBatchStatistics();
            for (double v : batch) if (!Double.isFinite(v)) return false;
            int rows = cachedBatch.rows(), at = 0;
            for (int l = 0; l < network.layers().size(); l++) {
                if (!(network.layers().get(l) instanceof Network.BatchNorm bn)) continue;
                double m = (double) rows * bn.positions(), mom = bn.momentum(), unbias = m > 1 ? m / (m - 1) : 1;
                for (int c = 0; c < bn.channels(); c++) {
                    runningStatistics[at + c] = (1 - mom) * runningStatistics[at + c] + mom * batch[at + c];
                    int v = at + bn.channels() + c;
                    runningStatistics[v] = (1 - mom) * runningStatistics[v] + mom * batch[v] * unbias;
                }
                at += 2 * bn.channels();
            }
            modeChanged(); // the running statistics changed (the cached point, computed in training mode, stays valid)
            return true;
        } finally {
            use.exit();
        }
    }

    /**
     * The batch statistics at the cached point (training mode), in the running statistics' layout:
     * per batch norm layer the channels' means, then their biased variances. Backends with batch
     * norm layers override it.
     */
    protected double[] doBatchStatistics() {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " does not compute batch norm statistics");
    }

    /** Called after the mode, the dropout seed or the running statistics changed (a native model pushes them to its engine). */
    protected void modeChanged() {}

    /** True when a gradient or HVP point is cached and unchanged since. */
    public final boolean hasCachedPoint() {
        return cachedW != null && !cachedW.isClosed() && cachedW.version() == cachedWVersion && !cachedBatch.isClosed()
                && cachedBatch.version() == cachedBatchVersion;
    }

    public final boolean isClosed() {
        return closed;
    }

    @Override
    public final void close() {
        use.enter();
        try {
            if (!closed) {
                closed = true;
                invalidate();
                release();
            }
        } finally {
            use.exit();
        }
    }

    /** Takes this model, then the batch of its cached point (read once the model is held), and returns that batch. */
    private Batch enterCached() {
        use.enter();
        Batch held = cachedBatch;
        if (held == null) return null;
        try {
            held.use.enter();
        } catch (RuntimeException e) {
            use.exit();
            throw e;
        }
        return held;
    }

    /** Takes this model, and the batch it computes on (when non-null), for the calling thread. */
    private void enter(Batch batch) {
        use.enter();
        if (batch == null) return;
        try {
            batch.use.enter();
        } catch (RuntimeException e) {
            use.exit();
            throw e;
        }
    }

    private void exit(Batch batch) {
        if (batch != null) batch.use.exit();
        use.exit();
    }

    // ---- kernels (arguments validated) ----
    protected abstract double[] doForward(Vector w, Batch batch);

    protected abstract double doLoss(Vector w, Batch batch);

    protected abstract double doGradient(Vector w, Batch batch, Vector grad);

    protected abstract double doHvp(Vector w, Batch batch, Vector v, Vector out);

    /** At the point of the last doGradient/doHvp. */
    protected abstract void doHvpCached(Vector v, Vector out);

    protected abstract void doGaussNewtonCached(Vector v, Vector out);

    protected abstract void release();

    /** The cached parameter vector (valid inside doHvpCached/doGaussNewtonCached). */
    protected final Vector cachedW() {
        return cachedW;
    }

    protected final Batch cachedBatch() {
        return cachedBatch;
    }

    private static void written(Vector v) {
        v.markWritten();
    }

    private void remember(Vector w, Batch batch) {
        cachedW = w;
        cachedWVersion = w.version();
        cachedBatch = batch;
        cachedBatchVersion = batch.version();
    }

    private void invalidate() {
        cachedW = null;
        cachedBatch = null;
    }

    private void checkOpen() {
        if (closed) throw new IllegalStateException("the model is closed");
    }

    private void checkPoint(Vector w, Batch batch) {
        checkOpen();
        checkParameters("w", w);
        if (batch == null) throw new NullPointerException("batch is null");
        if (batch.isClosed()) throw new IllegalStateException("the batch is closed");
        if (batch.backend() != backend)
            throw new IllegalArgumentException("the batch belongs to the " + batch.backend().kind() + " backend, not to this "
                    + backend.kind() + " backend");
        if (batch.network() != network && !sameShape(batch.network()))
            throw new IllegalArgumentException("the batch was made for " + batch.network() + ", not for " + network);
        if (batch.rows() == 0) throw new IllegalStateException("the batch is empty: call batch.set(...) first");
        if (batch.rows() > maxBatch)
            throw new IllegalArgumentException("the batch has " + batch.rows() + " rows; this model was built for at most " + maxBatch);
    }

    /** A batch made for `other` fits: the same sizes and kind of labels, and its indices checked for this network's embeddings. */
    private boolean sameShape(Network other) {
        int bound = Batch.indexBound(network), checked = Batch.indexBound(other);
        return other.inputDim() == network.inputDim() && other.outputDim() == network.outputDim()
                && other.loss().usesLabels() == network.loss().usesLabels() && (bound < 0 || (checked >= 0 && checked <= bound));
    }

    private void checkParameters(String name, Vector v) {
        backend.check(name, v, network.parameterCount(), "the network's parameter count");
    }

    private void checkOutput(String name, Vector out, Vector w) {
        checkParameters(name, out);
        if (out == w) throw new IllegalArgumentException(name + " and w are the same vector; they must differ");
    }

    private void checkCached() {
        checkOpen();
        if (cachedW == null)
            throw new IllegalStateException("no cached point: call gradient() or hvp() before hvpCached()/gaussNewtonCached()");
        if (cachedW.isClosed()) throw new IllegalStateException("the cached parameter vector w was closed");
        if (cachedW.version() != cachedWVersion)
            throw new IllegalStateException("w changed since the cached gradient(); call gradient() again at the new point");
        if (cachedBatch.isClosed()) throw new IllegalStateException("the cached batch was closed");
        if (cachedBatch.version() != cachedBatchVersion)
            throw new IllegalStateException("the batch changed since the cached gradient(); call gradient() again");
    }
}
