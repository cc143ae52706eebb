package org.adanewton.api;

/**
 * Why a subproblem solver stopped.
 *
 * <p>Thread safety: immutable: safe to share between threads.
 */
public enum SolverExit {
    /** The stopping rule (residual or model-decrease) was met inside the region. */
    CONVERGED,
    /** The iterate reached the region's boundary (TR), or the Lanczos solution lies on it. */
    BOUNDARY,
    /** Negative curvature p'Bp &lt;= 0 was met: the step follows p to the boundary. */
    NEGATIVE_CURVATURE,
    /** The iteration limit was reached. */
    MAX_ITERATIONS,
    /** The gradient is zero: the step is zero. */
    ZERO_GRADIENT,
    /** A curvature product or the metric produced NaN or infinity: the step is unusable. */
    NON_FINITE,
    /** A closed-form Cauchy point (no iteration). */
    CAUCHY
}
