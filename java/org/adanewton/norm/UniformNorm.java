package org.adanewton.norm;

import org.adanewton.backend.Backend;
import org.adanewton.backend.Vector;

/**
 * a = 1: the Euclidean ball (the spherical trust region). The accumulator stays at 1.
 *
 * <p>Thread safety: not thread-safe: use an instance from one thread at a time.
 */
public final class UniformNorm extends DiagonalNorm {
    UniformNorm(Backend backend, int dimension, NormOptions options) {
        super(backend, dimension, options);
    }

    public UniformNorm(Backend backend, int dimension) {
        this(backend, dimension, NormOptions.of(NormKind.UNIFORM));
    }

    @Override
    protected double initialAccumulator() {
        return 1.0;
    }

    @Override
    protected void accumulate(Vector g) {}

    @Override
    protected void recompute() {
        backend.rootMetric(accumulator, 1.0, 0.0, Math.min(1.0, options.aMin()), Math.max(1.0, options.aMax()), metric());
    }
}
