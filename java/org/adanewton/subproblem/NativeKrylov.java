package org.adanewton.subproblem;

import org.adanewton.api.SolverExit;
import org.adanewton.api.StepResult;
import org.adanewton.api.StepSolver;
import org.adanewton.backend.CurvatureOperator;
import org.adanewton.backend.NativeCurvature;
import org.adanewton.backend.Vector;

/**
 * A Krylov solver that goes native where it can: a solve on a {@link NativeCurvature} is one native
 * call (the same algorithm as the Java loop); a solve on any other operator runs the Java loop it
 * wraps.
 *
 * <p>Thread safety: not thread-safe, like the solver it wraps.
 */
final class NativeKrylov implements StepSolver {
    private final StepSolver loop;
    private final KrylovOptions options;
    private final boolean lanczos;

    /** lanczos: GLTR or ARC (as loop.isCubic()); otherwise Steihaug. */
    NativeKrylov(StepSolver loop, KrylovOptions options, boolean lanczos) {
        this.loop = loop;
        this.options = options;
        this.lanczos = lanczos;
    }

    @Override
    public StepResult solve(Vector g, CurvatureOperator b, Vector metric, double regularization, Vector s) {
        if (!(b instanceof NativeCurvature curvature)) return loop.solve(g, b, metric, regularization, s);
        if (!(regularization > 0))
            throw new IllegalArgumentException((isCubic() ? "sigma" : "radius") + " = " + regularization + "; must be > 0");
        int rule = options.rule() == KrylovOptions.StoppingRule.RESIDUAL ? 0 : 1;
        double[] r = lanczos
                ? curvature.lanczos(isCubic(), g, metric, regularization, options.maxIterations(), options.tolerance(), rule, s)
                : curvature.steihaug(g, metric, regularization, options.maxIterations(), options.tolerance(), rule, s);
        return decode(r);
    }

    /** The native result {model decrease, ||s||_A, iterations, products, exit, lambda, product seconds} (see {@link NativeCurvature}). */
    static StepResult decode(double[] result) {
        SolverExit exit = switch ((int) result[4]) {
            case 0 -> SolverExit.CONVERGED;
            case 1 -> SolverExit.BOUNDARY;
            case 2 -> SolverExit.NEGATIVE_CURVATURE;
            case 3 -> SolverExit.MAX_ITERATIONS;
            case 4 -> SolverExit.ZERO_GRADIENT;
            default -> SolverExit.NON_FINITE;
        };
        return new StepResult(result[0], result[1], (int) result[2], (int) result[3], exit, result[5], result[6]);
    }

    @Override
    public boolean isCubic() {
        return loop.isCubic();
    }

    @Override
    public String name() {
        return loop.name();
    }

    @Override
    public void close() {
        loop.close();
    }
}
