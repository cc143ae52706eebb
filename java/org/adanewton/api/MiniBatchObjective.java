package org.adanewton.api;

/**
 * The stochastic form of a {@link VectorObjective}: a loss on mini-batches. The minimizer calls
 * {@link #nextBatch()} at the start of every iteration, before that iteration's gradient; the
 * gradient, every Hessian-vector product and the trial value of the iteration then use that batch,
 * so the objective must keep it until the next {@code nextBatch()}. The values a minimizer reports
 * for such an objective are batch losses ({@link IterationSummary#stochastic()}), not the objective
 * on the whole data.
 *
 * <p>Thread safety: implementations need not be thread-safe: a minimizer calls its objective from
 * the thread that runs it, one call at a time.
 */
public interface MiniBatchObjective extends VectorObjective {
    /** Draws the batch the next iteration uses (from then until the next call). */
    void nextBatch();

    /**
     * Data passes so far (samples drawn for gradients / data size), for the minimizer's maxEpochs
     * rule; 0 by default, which leaves that rule inactive.
     */
    default double epochs() {
        return 0;
    }
}
