package org.adanewton.subproblem;

import org.adanewton.api.CurvatureOperator;
import org.adanewton.api.StepResult;
import org.adanewton.backend.Vector;

/**
 * A curvature operator whose backend can run a whole Krylov solve natively (one call per solve,
 * products computed natively at the cached point). The solvers use it when the operator offers
 * it; the algorithm is the same as their Java loop.
 */
public interface NativeKrylovOperator extends CurvatureOperator {
    /** Steihaug-Toint CG; see {@link SteihaugCg}. */
    StepResult steihaug(Vector g, Vector metric, double radius, KrylovOptions options, Vector s);

    /** GLTR (cubic = false, regularization = radius) or the ARC Lanczos solve (cubic = true, sigma). */
    StepResult lanczos(boolean cubic, Vector g, Vector metric, double regularization, KrylovOptions options, Vector s);
}
