package org.adanewton.norm;

import org.adanewton.api.Norm;
import org.adanewton.backend.Backend;
import org.adanewton.backend.Vector;

/**
 * The shared machinery of the diagonal norms: an accumulator v, the metric a computed from it by
 * a = clamp(sqrt(scale * v) + eps', aMin, aMax), the finiteness check and the state. Subclasses
 * give the accumulator's update and the scale (Adam's bias correction).
 *
 * <p>Thread safety: not thread-safe: use an instance from one thread at a time.
 */
public abstract class DiagonalNorm implements Norm {
    protected final Backend backend;
    protected final NormOptions options;
    protected final Vector accumulator;
    private final Vector metric;
    private long updates;

    protected DiagonalNorm(Backend backend, int dimension, NormOptions options) {
        this.backend = backend;
        this.options = options;
        this.accumulator = backend.allocate(dimension);
        this.metric = backend.allocate(dimension);
        backend.fill(accumulator, initialAccumulator());
        recompute();
    }

    /** Creates the norm of options.kind() for vectors of this backend and dimension. */
    public static DiagonalNorm create(Backend backend, int dimension, NormOptions options) {
        return switch (options.kind()) {
            case UNIFORM -> new UniformNorm(backend, dimension, options);
            case ADAGRAD -> new AdaGradNorm(backend, dimension, options);
            case RMSPROP -> new RmsPropNorm(backend, dimension, options);
            case ADAM -> new AdamNorm(backend, dimension, options);
        };
    }

    public NormOptions options() {
        return options;
    }

    @Override
    public String name() {
        return options.kind().name().toLowerCase();
    }

    @Override
    public final boolean update(Vector g) {
        backend.check("g", g, accumulator.length(), "the norm's dimension");
        if (backend.countNonFinite(g) > 0) return false;
        accumulate(g);
        updates++;
        recompute();
        return true;
    }

    @Override
    public final Vector metric() {
        return metric;
    }

    @Override
    public final long updates() {
        return updates;
    }

    /** Folds g into the accumulator (g is finite). */
    protected abstract void accumulate(Vector g);

    /** The factor inside the root (1 except for Adam's bias correction); `updates()` is already counted. */
    protected double scale() {
        return 1.0;
    }

    protected double initialAccumulator() {
        return options.epsPlacement() == EpsPlacement.INITIAL_ACCUMULATOR ? options.eps() : 0.0;
    }

    /** a = clamp(sqrt(scale v) + eps', aMin, aMax) with eps' = eps in the paper's placement, else 0. */
    protected void recompute() {
        double eps = options.epsPlacement() == EpsPlacement.AFTER_ROOT ? options.eps() : 0.0;
        backend.rootMetric(accumulator, scale(), eps, options.aMin(), options.aMax(), metric);
    }

    @Override
    public NormState saveState() {
        return new NormState(name(), updates, accumulator.toArray());
    }

    @Override
    public void restoreState(NormState state) {
        if (!name().equals(state.kind()))
            throw new IllegalArgumentException("norm state of kind '" + state.kind() + "' cannot be restored into a " + name() + " norm");
        if (state.accumulator().length != accumulator.length())
            throw new IllegalArgumentException("norm state has dimension " + state.accumulator().length + "; this norm has "
                    + accumulator.length());
        if (state.updates() < 0) throw new IllegalArgumentException("norm state updates = " + state.updates() + "; must be >= 0");
        for (int i = 0; i < state.accumulator().length; i++)
            if (!(state.accumulator()[i] >= 0 && state.accumulator()[i] < Double.POSITIVE_INFINITY))
                throw new IllegalArgumentException("norm state accumulator[" + i + "] = " + state.accumulator()[i] + "; must be finite and >= 0");
        backend.set(accumulator, state.accumulator());
        updates = state.updates();
        recompute();
    }

    @Override
    public void close() {
        accumulator.close();
        metric.close();
    }
}
