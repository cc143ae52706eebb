package org.adanewton.api;

/**
 * Why a minimization ended.
 *
 * <p>Thread safety: immutable: safe to share between threads.
 */
public enum TerminationType {
    /** ||g|| &lt;= gradientTolerance: converged. */
    CONVERGENCE,
    /** The iteration limit was reached. */
    MAX_ITERATIONS,
    /** The epoch limit of a stochastic run was reached. */
    MAX_EPOCHS,
    /** The wall-clock limit was reached. */
    TIME_LIMIT,
    /** The radius fell below minRadius (TR) or sigma rose above maxSigma (ARC): no progress possible. */
    REGION_COLLAPSED,
    /** Too many consecutive invalid steps (NaN or infinite loss, gradient or model decrease). */
    NUMERICAL_FAILURE,
    /** An IterationListener asked to stop. */
    USER_STOP;

    /** True when the run ended because it reached its goal or a budget, not because of trouble. */
    public boolean isSuccess() {
        return this == CONVERGENCE || this == MAX_ITERATIONS || this == MAX_EPOCHS || this == TIME_LIMIT || this == USER_STOP;
    }
}
