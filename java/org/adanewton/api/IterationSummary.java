package org.adanewton.api;

/**
 * One outer iteration.
 *
 * <p>Thread safety: immutable: safe to share between threads.
 *
 * @param iteration      0-based
 * @param value          f at the iterate; in stochastic mode the loss on the iteration's batch (a batch
 *                       loss, see {@link #batchLoss()}), not the objective on the whole data
 * @param gradientNorm   ||g||_2
 * @param rho            actual / predicted decrease (NaN for an invalid step)
 * @param regularization the radius (TR) or sigma (ARC) used for this step
 * @param stepNorm       ||s||_A
 * @param modelDecrease  m(0) - m(s)
 * @param actualDecrease f(x) - f(x + s)
 * @param krylovIterations iterations of the subproblem solver
 * @param solverExit     why the subproblem solver stopped
 * @param accepted       whether x moved to x + s
 * @param valid          false when a non-finite value made the step invalid
 * @param seconds        wall-clock time since the start of the run
 * @param stochastic     whether the problem is stochastic, so that value, gradientNorm and the
 *                       decreases are measured on the iteration's batch
 */
public record IterationSummary(int iteration, double value, double gradientNorm, double rho, double regularization, double stepNorm,
        double modelDecrease, double actualDecrease, int krylovIterations, SolverExit solverExit, boolean accepted, boolean valid,
        double seconds, boolean stochastic) {

    /** An iteration of a deterministic problem (stochastic false), as before that component existed. */
    public IterationSummary(int iteration, double value, double gradientNorm, double rho, double regularization, double stepNorm,
            double modelDecrease, double actualDecrease, int krylovIterations, SolverExit solverExit, boolean accepted, boolean valid,
            double seconds) {
        this(iteration, value, gradientNorm, rho, regularization, stepNorm, modelDecrease, actualDecrease, krylovIterations, solverExit, accepted,
                valid, seconds, false);
    }

    /** The loss on this iteration's batch in stochastic mode; NaN for a deterministic problem (see {@link #value()}). */
    public double batchLoss() {
        return stochastic ? value : Double.NaN;
    }

    /** f at the iterate for a deterministic problem; NaN in stochastic mode, where only {@link #batchLoss()} is known. */
    public double objectiveValue() {
        return stochastic ? Double.NaN : value;
    }

    /** What {@link #value()} is: "batch loss" in stochastic mode, else "f". */
    public String valueLabel() {
        return stochastic ? "batch loss" : "f";
    }
}
