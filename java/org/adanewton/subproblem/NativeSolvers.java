package org.adanewton.subproblem;

import org.adanewton.api.CurvatureOperator;
import org.adanewton.api.StepResult;
import org.adanewton.backend.Vector;

/** Dispatch to a native whole-solve when the curvature operator offers one (null otherwise). */
final class NativeSolvers {
    private NativeSolvers() {}

    static StepResult steihaug(CurvatureOperator b, Vector g, Vector a, double delta, KrylovOptions options, Vector s) {
        return b instanceof NativeKrylovOperator n ? n.steihaug(g, a, delta, options, s) : null;
    }

    static StepResult lanczos(LanczosSolver solver, CurvatureOperator b, Vector g, Vector a, double reg, KrylovOptions options, Vector s) {
        return b instanceof NativeKrylovOperator n ? n.lanczos(solver.isCubic(), g, a, reg, options, s) : null;
    }
}
