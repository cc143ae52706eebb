package org.adanewton.api;

/** Called after every outer iteration; return false to stop the run (TerminationType.USER_STOP). */
@FunctionalInterface
public interface IterationListener {
    boolean onIteration(IterationSummary iteration);
}
