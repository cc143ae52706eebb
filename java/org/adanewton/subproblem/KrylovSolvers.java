package org.adanewton.subproblem;

import org.adanewton.api.StepSolver;
import org.adanewton.backend.Backend;
import org.adanewton.backend.CurvatureOperator;
import org.adanewton.backend.NativeCurvature;

/**
 * The Krylov solvers for a given curvature operator: where the operator is a {@link NativeCurvature}
 * (a CPU or CUDA network's cached Hessian or Gauss-Newton matrix) each solve on it is one native
 * call; otherwise, and for any other operator passed to the solve, the Java loop runs over the
 * backend's vectors. Both run the same algorithm.
 *
 * <p>Thread safety: stateless; the solvers it makes are not thread-safe.
 */
public final class KrylovSolvers {
    private KrylovSolvers() {}

    /** Steihaug-Toint CG ({@link SteihaugCg}) for vectors of this backend and dimension. */
    public static StepSolver steihaug(Backend backend, int dimension, KrylovOptions options, CurvatureOperator curvature) {
        return bind(curvature, new SteihaugCg(backend, dimension, options), options, false);
    }

    /** GLTR ({@link LanczosTrustRegion}). */
    public static StepSolver gltr(Backend backend, int dimension, KrylovOptions options, CurvatureOperator curvature) {
        return bind(curvature, new LanczosTrustRegion(backend, dimension, options), options, true);
    }

    /** The ARC Lanczos solver ({@link LanczosCubic}). */
    public static StepSolver arc(Backend backend, int dimension, KrylovOptions options, CurvatureOperator curvature) {
        return bind(curvature, new LanczosCubic(backend, dimension, options), options, true);
    }

    private static StepSolver bind(CurvatureOperator curvature, StepSolver loop, KrylovOptions options, boolean lanczos) {
        return curvature instanceof NativeCurvature n ? new NativeKrylov(n, loop, options, lanczos) : loop;
    }
}
