package org.adanewton.norm;

import org.adanewton.backend.Backend;
import org.adanewton.backend.Vector;

/**
 * Adam's second moment: v = beta2 v + (1 - beta2) g*g, a = sqrt(v / (1 - beta2^t)) + eps.
 *
 * <p>Thread safety: not thread-safe: use an instance from one thread at a time.
 */
public final class AdamNorm extends DiagonalNorm {
    public AdamNorm(Backend backend, int dimension, NormOptions options) {
        super(backend, dimension, options);
    }

    @Override
    protected void accumulate(Vector g) {
        backend.accumulateSquares(options.beta2(), 1.0 - options.beta2(), g, accumulator);
    }

    @Override
    protected double scale() {
        if (!options.biasCorrection() || updates() == 0) return 1.0;
        return 1.0 / (1.0 - Math.pow(options.beta2(), updates()));
    }
}
