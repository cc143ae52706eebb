package org.adanewton.api;

/**
 * Called after every outer iteration; return false to stop the run (TerminationType.USER_STOP).
 *
 * <p>Thread safety: called on the thread that runs the minimizer, after each iteration;
 * implementations need not be thread-safe unless one listener serves minimizers that run at once.
 */
@FunctionalInterface
public interface IterationListener {
    boolean onIteration(IterationSummary iteration);
}
