package org.adanewton.subproblem;

import org.adanewton.backend.Backend;

/**
 * The ARC subproblem in the Lanczos basis, with the cubic model on T solved by its secular equation.
 *
 * <p>Thread safety: not thread-safe: use an instance from one thread at a time (every solve reuses
 * its work vectors).
 */
public final class LanczosCubic extends LanczosSolver {
    public LanczosCubic(Backend backend, int dimension, KrylovOptions options) {
        super(backend, dimension, options);
    }

    @Override
    protected TridiagonalSolvers.Solution solveSmall(double[] d, double[] e, double[] c, double sigma) {
        return TridiagonalSolvers.cubic(d, e, c, sigma);
    }

    @Override
    public boolean isCubic() {
        return true;
    }

    @Override
    public String name() {
        return "arc-lanczos";
    }
}
