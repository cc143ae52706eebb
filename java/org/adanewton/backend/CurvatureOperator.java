package org.adanewton.backend;


/**
 * v -> B v for the model's curvature B (an exact Hessian, a Gauss-Newton matrix...) at the current point.
 *
 * <p>Thread safety: implementations need not be thread-safe: a step solver calls its operator from
 * the thread that runs the solve. A network model's operators belong to the model and, like it,
 * refuse a second thread.
 */
@FunctionalInterface
public interface CurvatureOperator {
    void apply(Vector v, Vector out);
}
