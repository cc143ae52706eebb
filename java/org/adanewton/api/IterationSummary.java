package org.adanewton.api;

/**
 * One outer iteration.
 *
 * <p>Thread safety: immutable: safe to share between threads.
 *
 * @param iteration      0-based
 * @param value          f at the iterate (on the iteration's batch in stochastic mode)
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
 */
public record IterationSummary(int iteration, double value, double gradientNorm, double rho, double regularization, double stepNorm,
        double modelDecrease, double actualDecrease, int krylovIterations, SolverExit solverExit, boolean accepted, boolean valid,
        double seconds) {}
