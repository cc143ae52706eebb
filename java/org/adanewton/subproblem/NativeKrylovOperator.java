package org.adanewton.subproblem;

import org.adanewton.api.CurvatureOperator;
import org.adanewton.api.SolverExit;
import org.adanewton.api.StepResult;
import org.adanewton.backend.Vector;

/**
 * A curvature operator whose backend can run a whole Krylov solve natively (one call per solve,
 * products computed natively at the cached point). The solvers use it when the operator offers
 * it; the algorithm is the same as their Java loop.
 *
 * <p>Thread safety: called on the thread that runs the solve; implementations need not be
 * thread-safe. The network models' operators belong to the model and, like it, refuse a second
 * thread.
 */
public interface NativeKrylovOperator extends CurvatureOperator {
    /** Steihaug-Toint CG; see {@link SteihaugCg}. */
    StepResult steihaug(Vector g, Vector metric, double radius, KrylovOptions options, Vector s);

    /** GLTR (cubic = false, regularization = radius) or the ARC Lanczos solve (cubic = true, sigma). */
    StepResult lanczos(boolean cubic, Vector g, Vector metric, double regularization, KrylovOptions options, Vector s);

    /** The native solves' stopping-rule code: 0 residual, 1 model decrease. */
    static int ruleCode(KrylovOptions options) {
        return options.rule() == KrylovOptions.StoppingRule.RESIDUAL ? 0 : 1;
    }

    /**
     * Decodes the native solves' result = {model decrease, ||s||_A, iterations, products, exit,
     * lambda}; exit 0 converged, 1 boundary, 2 negative curvature, 3 max iterations, 4 zero gradient,
     * 5 non-finite.
     */
    static StepResult decode(double[] result) {
        SolverExit exit = switch ((int) result[4]) {
            case 0 -> SolverExit.CONVERGED;
            case 1 -> SolverExit.BOUNDARY;
            case 2 -> SolverExit.NEGATIVE_CURVATURE;
            case 3 -> SolverExit.MAX_ITERATIONS;
            case 4 -> SolverExit.ZERO_GRADIENT;
            default -> SolverExit.NON_FINITE;
        };
        return new StepResult(result[0], result[1], (int) result[2], (int) result[3], exit, result[5]);
    }
}
