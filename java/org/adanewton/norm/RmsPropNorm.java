package org.adanewton.norm;

import org.adanewton.backend.Backend;
import org.adanewton.backend.Vector;

/**
 * RMSProp: v = beta v + (1 - beta) g*g, a = sqrt(v) + eps (no bias correction, as the authors' code).
 *
 * <p>Thread safety: not thread-safe: use an instance from one thread at a time.
 */
public final class RmsPropNorm extends DiagonalNorm {
    public RmsPropNorm(Backend backend, int dimension, NormOptions options) {
        super(backend, dimension, options);
    }

    @Override
    protected void accumulate(Vector g) {
        backend.accumulateSquares(options.beta(), 1.0 - options.beta(), g, accumulator);
    }
}
