package org.adanewton.minimizer;

import org.adanewton.backend.Backend;
import org.adanewton.backend.CurvatureOperator;
import org.adanewton.backend.Vector;

/**
 * What the outer loop minimizes: values, gradients and curvature products of f on one backend.
 * A stochastic problem (a network on mini-batches) draws a fresh sample in {@link #advance()}; the
 * gradient, the curvature and the trial value of one iteration then all use that sample.
 *
 * <p>Thread safety: implementations need not be thread-safe: a minimizer calls its problem from the
 * thread that runs it, one call at a time.
 */
public interface Problem extends AutoCloseable {
    Backend backend();

    int dimension();

    /** True when each iteration sees a new sample (so f and g change even if x does not). */
    boolean isStochastic();

    /** Draws the next sample (no-op for a deterministic problem). */
    void advance();

    /** Writes the gradient at x into g, returns f(x), and makes {@link #curvature()} refer to x. */
    double gradient(Vector x, Vector g);

    /** f at a trial point, on the same sample as the last gradient; keeps the curvature at its point. */
    double value(Vector x);

    /** B v at the point of the last {@link #gradient} call. */
    CurvatureOperator curvature();

    /** Epochs (samples drawn for gradients / data size) so far; 0 for deterministic problems. */
    default double epochs() {
        return 0;
    }

    @Override
    default void close() {}
}
