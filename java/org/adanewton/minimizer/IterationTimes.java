package org.adanewton.minimizer;

/**
 * Where a {@link Minimizer}'s outer iterations spent their wall time, in seconds summed over the
 * iterations since it was made (or restored): what {@code ./adanewton bench --tr-iteration} prints.
 * The parts are disjoint; {@link #bookkeeping()} is the rest of {@link #total()}.
 *
 * <p>Thread safety: immutable: safe to share between threads.
 *
 * @param iterations   outer iterations timed
 * @param products     curvature products those iterations' solves made
 * @param sample       drawing the iteration's batch: gathering its rows and uploading them to the backend
 * @param gradient     the loss and gradient at the iterate (and its norm), on the new batch
 * @param normUpdate   updating the norm (the region's shape) with the gradient
 * @param solve        the subproblem solves, as the minimizer saw them (a native solve's call included)
 * @param productTime  the part of solve inside the curvature products, where the solver timed them (a
 *                     native CPU solve does); NaN where it did not (a Java loop, a device's queued products)
 * @param trial        the trial point x + s and its loss
 * @param total        the whole of the iterations (the minimizer's next())
 */
public record IterationTimes(long iterations, long products, double sample, double gradient, double normUpdate, double solve,
        double productTime, double trial, double total) {

    /** The solves' time outside the products: the Krylov vector work and the crossing into the solve (NaN when the products were not timed). */
    public double vectorWork() {
        return solve - productTime;
    }

    /** The rest: the ratio test, the radius or sigma update, counters, listeners and the minimizer's own calls. */
    public double bookkeeping() {
        return total - sample - gradient - normUpdate - solve - trial;
    }
}
