package org.adanewton.api;

import java.util.List;
import java.util.Locale;

/**
 * How a minimization went: why it ended (with a human message that has the numbers), the counts
 * and the time split.
 *
 * <p>Thread safety: immutable: safe to share between threads (a minimizer gives it an unmodifiable
 * copy of its history).
 */
public record Summary(TerminationType termination, String message, int iterations, long gradients, long functionValues, long products,
        long krylovIterations, int accepted, int rejected, int invalid, double initialValue, double finalValue, double finalGradientNorm,
        double seconds, double solverSeconds, List<IterationSummary> history) {

    public boolean isSuccess() {
        return termination.isSuccess();
    }

    /** A few lines for people. */
    public String report() {
        return String.format(Locale.ROOT,
                "%s: %s%n  iterations %d (accepted %d, rejected %d, invalid %d), gradients %d, function values %d, curvature products %d, Krylov iterations %d%n"
                        + "  f: %.10g -> %.10g, ||g|| = %.3e, time %.3f s (subproblem %.3f s)",
                termination, message, iterations, accepted, rejected, invalid, gradients, functionValues, products, krylovIterations,
                initialValue, finalValue, finalGradientNorm, seconds, solverSeconds);
    }
}
