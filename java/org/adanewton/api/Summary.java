package org.adanewton.api;

import java.util.List;
import java.util.Locale;

/**
 * How a minimization went: why it ended (with a human message that has the numbers), the counts
 * and the time split.
 *
 * <p>In stochastic mode ({@link #stochastic()}) initialValue and finalValue are batch losses: the
 * loss on the first iteration's batch and on the last batch at the final iterate, not the
 * objective on the whole data; {@link #report()} labels them so.
 *
 * <p>Thread safety: immutable: safe to share between threads (a minimizer gives it an unmodifiable
 * copy of its history).
 *
 * @param initialValue      f at the start (the first batch loss in stochastic mode)
 * @param finalValue        f at the final iterate (a batch loss in stochastic mode)
 * @param finalGradientNorm ||g||_2 at the most recent gradient evaluation
 * @param stochastic        whether the problem is stochastic (values are batch losses)
 */
public record Summary(TerminationType termination, String message, int iterations, long gradients, long functionValues, long products,
        long krylovIterations, int accepted, int rejected, int invalid, double initialValue, double finalValue, double finalGradientNorm,
        double seconds, double solverSeconds, List<IterationSummary> history, boolean stochastic) {

    /** The summary of a deterministic run (stochastic false), as before that component existed. */
    public Summary(TerminationType termination, String message, int iterations, long gradients, long functionValues, long products,
            long krylovIterations, int accepted, int rejected, int invalid, double initialValue, double finalValue, double finalGradientNorm,
            double seconds, double solverSeconds, List<IterationSummary> history) {
        this(termination, message, iterations, gradients, functionValues, products, krylovIterations, accepted, rejected, invalid, initialValue,
                finalValue, finalGradientNorm, seconds, solverSeconds, history, false);
    }

    /** The last batch loss in stochastic mode; NaN for a deterministic run (see {@link #finalValue()}). */
    public double finalBatchLoss() {
        return stochastic ? finalValue : Double.NaN;
    }

    /** What initialValue and finalValue are: "batch loss" in stochastic mode, else "f". */
    public String valueLabel() {
        return stochastic ? "batch loss" : "f";
    }

    public boolean isSuccess() {
        return termination.isSuccess();
    }

    /** A few lines for people. */
    public String report() {
        return String.format(Locale.ROOT,
                "%s: %s%n  iterations %d (accepted %d, rejected %d, invalid %d), gradients %d, function values %d, curvature products %d, Krylov iterations %d%n"
                        + "  %s: %.10g -> %.10g, ||g|| = %.3e, time %.3f s (subproblem %.3f s)",
                termination, message, iterations, accepted, rejected, invalid, gradients, functionValues, products, krylovIterations,
                valueLabel(), initialValue, finalValue, finalGradientNorm, seconds, solverSeconds);
    }
}
