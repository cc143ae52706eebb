package org.adanewton.norm;

import org.adanewton.backend.Backend;
import org.adanewton.backend.Vector;

/**
 * AdaGrad: v += g*g, a = sqrt(v) + eps. Not uniformly equivalent in general (v grows) unless clamped.
 *
 * <p>Thread safety: not thread-safe: use an instance from one thread at a time.
 */
public final class AdaGradNorm extends DiagonalNorm {
    public AdaGradNorm(Backend backend, int dimension, NormOptions options) {
        super(backend, dimension, options);
    }

    @Override
    protected void accumulate(Vector g) {
        backend.accumulateSquares(1.0, 1.0, g, accumulator);
    }
}
