package org.adanewton.minimizer;

import org.adanewton.api.Norm.NormState;
import org.adanewton.api.RegionPolicy;

/**
 * Everything a {@link Minimizer} needs to continue a run exactly where it stopped: made by
 * {@link Minimizer#saveState()}, checked by {@link #check} and read back by
 * {@link Minimizer#restoreState}.
 *
 * <p>Thread safety: shallowly immutable: its arrays are shared, not copied; do not change them
 * while other threads read it.
 */
public record MinimizerState(String method, double[] x, NormState norm, double region, int iteration, int accepted, int rejected,
        int invalid, int invalidStreak, long gradients, long values, long products, long krylovIterations, double seconds,
        double solverSeconds, double initialValue) {

    /**
     * Throws IllegalArgumentException, saying what is wrong, unless this state can resume a run of
     * the named method on a problem of this dimension under this policy (finite x, a region the
     * policy admits, counters and times that are not negative). The norm's part is checked by the
     * norm when it restores it.
     */
    public void check(String method, int dimension, RegionPolicy policy) {
        if (!method().equals(method))
            throw new IllegalArgumentException("state of method '" + method() + "' cannot resume a " + method + " run");
        if (x.length != dimension)
            throw new IllegalArgumentException("state has dimension " + x.length + "; the problem has " + dimension);
        for (int i = 0; i < x.length; i++)
            if (!Double.isFinite(x[i])) throw new IllegalArgumentException("state x[" + i + "] = " + x[i] + "; must be finite");
        if (!policy.admits(region))
            throw new IllegalArgumentException((policy.isCubic() ? "state sigma = " : "state radius = ") + region + "; outside what the "
                    + (policy.isCubic() ? "cubic" : "trust-region") + " policy allows (" + policy + ")");
        long[] counters = {iteration, accepted, rejected, invalid, invalidStreak, gradients, values, products, krylovIterations};
        for (long c : counters) if (c < 0) throw new IllegalArgumentException("state has a negative counter (" + c + ")");
        if (!(seconds >= 0 && solverSeconds >= 0 && seconds < Double.POSITIVE_INFINITY && solverSeconds < Double.POSITIVE_INFINITY))
            throw new IllegalArgumentException("state seconds = " + seconds + ", solver seconds = " + solverSeconds + "; must be finite, >= 0");
    }
}
