package org.adanewton.api;

/**
 * The outcome of one subproblem solve.
 *
 * <p>Thread safety: immutable: safe to share between threads.
 *
 * @param modelDecrease m(0) - m(s) of the model the solver minimized (>= 0 when the solve is valid)
 * @param stepNorm      ||s||_A in the solver's metric
 * @param iterations    Krylov iterations
 * @param products      curvature products (HVPs) used
 * @param exit          why it stopped
 * @param lambda        the multiplier of the region constraint (TR) or sigma ||s||_A (ARC) when known, else 0
 * @param productSeconds wall time spent inside the curvature products, where the solver measured it (a
 *                      native solve on the CPU does); NaN where it did not (a Java loop, a device's
 *                      queued products)
 */
public record StepResult(double modelDecrease, double stepNorm, int iterations, int products, SolverExit exit, double lambda,
        double productSeconds) {
    /** A result whose product time was not measured. */
    public StepResult(double modelDecrease, double stepNorm, int iterations, int products, SolverExit exit, double lambda) {
        this(modelDecrease, stepNorm, iterations, products, exit, lambda, Double.NaN);
    }

    public boolean isFinite() {
        return exit != SolverExit.NON_FINITE && Double.isFinite(modelDecrease) && Double.isFinite(stepNorm);
    }
}
