package org.adanewton.subproblem;

import org.adanewton.backend.Backend;

/**
 * GLTR: the trust-region subproblem in the Lanczos basis, solved exactly on T (More-Sorensen).
 *
 * <p>Thread safety: not thread-safe: use an instance from one thread at a time (every solve reuses
 * its work vectors).
 */
public final class LanczosTrustRegion extends LanczosSolver {
    public LanczosTrustRegion(Backend backend, int dimension, KrylovOptions options) {
        super(backend, dimension, options);
    }

    @Override
    protected TridiagonalSolvers.Solution solveSmall(double[] d, double[] e, double[] c, double delta) {
        return TridiagonalSolvers.trustRegion(d, e, c, delta);
    }

    @Override
    public boolean isCubic() {
        return false;
    }

    @Override
    public String name() {
        return "gltr";
    }
}
