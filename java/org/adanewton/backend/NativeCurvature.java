package org.adanewton.backend;

/**
 * A curvature operator whose backend can also run a whole Krylov solve natively at its point (one
 * call per solve, every product computed natively): the cached Hessian or Gauss-Newton matrix of a
 * CPU or CUDA network model. The solver factory ({@code org.adanewton.subproblem.KrylovSolvers})
 * gives such an operator a native solver; the algorithm is the same as the Java loop.
 *
 * <p>Both solves write the step into s and return {model decrease, ||s||_A, iterations, products,
 * exit, lambda, product seconds} ({@value #RESULT_LENGTH} values) with exit 0 converged, 1 boundary,
 * 2 negative curvature, 3 max iterations, 4 zero gradient, 5 non-finite, and product seconds the
 * wall time inside the products (NaN where they are queued on a device, not timed); rule is 0 for
 * the residual test, 1 for the model-decrease test. The array is the operator's own, overwritten by
 * its next solve (a solve allocates nothing): read it before the next one.
 *
 * <p>Thread safety: called on the thread that runs the solve; a network model's operators belong to
 * the model and, like it, refuse a second thread.
 */
public interface NativeCurvature extends CurvatureOperator {
    /** The values a solve returns (AN_SOLVE_RESULT of adanewton.h). */
    int RESULT_LENGTH = 7;

    /** Steihaug-Toint CG in the metric diag(metric) within the radius. */
    double[] steihaug(Vector g, Vector metric, double radius, int maxIterations, double tolerance, int rule, Vector s);

    /** GLTR (cubic false, regularization the radius) or the ARC Lanczos solve (cubic true, regularization sigma). */
    double[] lanczos(boolean cubic, Vector g, Vector metric, double regularization, int maxIterations, double tolerance, int rule, Vector s);
}
