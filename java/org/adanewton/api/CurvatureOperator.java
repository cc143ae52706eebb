package org.adanewton.api;

import org.adanewton.backend.Vector;

/** v -> B v for the model's curvature B (an exact Hessian, a Gauss-Newton matrix...) at the current point. */
@FunctionalInterface
public interface CurvatureOperator {
    void apply(Vector v, Vector out);
}
