package org.adanewton.api;

import org.adanewton.backend.Vector;

/**
 * A diagonal norm ||s||_A = sqrt(sum a_i s_i^2), used twice: as the trust region's metric (or the
 * cubic regularizer's) and as the CG preconditioner M = A. Stateful: {@link #update} folds a
 * gradient into its accumulator. Every a_i is finite and positive at all times.
 *
 * <p>Thread safety: implementations need not be thread-safe: a minimizer uses its own norm from the
 * thread that runs it. The built-in norms ({@code DiagonalNorm}) are not thread-safe.
 */
public interface Norm extends AutoCloseable {

    /** The kind's name, e.g. "rmsprop". */
    String name();

    /**
     * Folds g into the accumulator and recomputes the metric. Returns false, changing nothing, when
     * g has a NaN or infinite entry.
     */
    boolean update(Vector g);

    /** The diagonal a of the metric (owned by the norm; do not write to it). */
    Vector metric();

    /** Number of successful updates so far. */
    long updates();

    /** A copy of the complete state (accumulator and update count). */
    NormState saveState();

    /** Restores a state saved from a norm of the same kind and dimension; throws otherwise. */
    void restoreState(NormState state);

    @Override
    void close();

    /** The complete state of a norm: its kind, update count and accumulator. */
    record NormState(String kind, long updates, double[] accumulator) {}
}
