package org.adanewton.api;

import org.adanewton.backend.CurvatureOperator;
import org.adanewton.backend.Vector;

/**
 * Approximately minimizes a local model around the current point, in the metric A = diag(a):
 * trust region  m(s) = g's + 1/2 s'Bs  s.t. ||s||_A &lt;= regularization (the radius Delta), or
 * cubic         m(s) = g's + 1/2 s'Bs + regularization/3 ||s||_A^3 (regularization = sigma).
 *
 * <p>Thread safety: implementations need not be thread-safe: a minimizer calls its own solver from
 * the thread that runs it. The built-in solvers reuse their work vectors and serve one thread at a
 * time.
 */
public interface StepSolver extends AutoCloseable {
    /** Writes the step into s (same backend and length as g). */
    StepResult solve(Vector g, CurvatureOperator b, Vector metric, double regularization, Vector s);

    /** True for cubic-regularization solvers (ARC), false for trust-region solvers. */
    boolean isCubic();

    String name();

    /** Releases the solver's work vectors (nothing by default). */
    @Override
    default void close() {}
}
