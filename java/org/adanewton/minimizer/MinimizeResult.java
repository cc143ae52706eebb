package org.adanewton.minimizer;

import org.adanewton.api.Summary;
import org.adanewton.api.TerminationType;

/**
 * What {@link Minimize#minimize} returns: the final point, its value and gradient norm, why the run
 * ended, the counts and the full {@link Summary} (with the history when options keep it).
 *
 * <p>Thread safety: immutable except x, which is the caller's copy (a new array per result): share
 * it between threads only if nobody writes x.
 *
 * @param x              the final iterate (a copy, as doubles)
 * @param f              f at x (in stochastic mode the loss on the last batch: a batch loss)
 * @param gradientNorm   ||g||_2 at the most recent gradient evaluation (at x unless the last
 *                       iteration was accepted and a budget then ended the run)
 * @param termination    why the run ended
 * @param message        the same, for people, with the numbers
 * @param iterations     outer iterations
 * @param gradients      gradient evaluations
 * @param functionValues trial function values
 * @param products       Hessian-vector products
 * @param summary        the whole summary (counts, times, history)
 */
public record MinimizeResult(double[] x, double f, double gradientNorm, TerminationType termination, String message, int iterations,
        long gradients, long functionValues, long products, Summary summary) {

    static MinimizeResult of(double[] x, Summary s) {
        return new MinimizeResult(x, s.finalValue(), s.finalGradientNorm(), s.termination(), s.message(), s.iterations(), s.gradients(),
                s.functionValues(), s.products(), s);
    }

    /** True when the run ended because it reached its goal or a budget, not because of trouble. */
    public boolean isSuccess() {
        return termination.isSuccess();
    }
}
