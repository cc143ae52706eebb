package org.adanewton.subproblem;

import org.adanewton.api.StepSolver;
import org.adanewton.backend.Backend;
import org.adanewton.backend.NativeCurvature;

/**
 * The Krylov solvers: a solve on a {@link NativeCurvature} (a CPU or CUDA network's cached Hessian
 * or Gauss-Newton matrix) is one native call; a solve on any other operator runs the Java loop over
 * the backend's vectors. The choice is made per solve, from the operator passed; both run the same
 * algorithm.
 *
 * <p>Thread safety: stateless; the solvers it makes are not thread-safe.
 */
public final class KrylovSolvers {
    private KrylovSolvers() {}

    /** Steihaug-Toint CG ({@link SteihaugCg}) for vectors of this backend and dimension. */
    public static StepSolver steihaug(Backend backend, int dimension, KrylovOptions options) {
        return new NativeKrylov(new SteihaugCg(backend, dimension, options), options, false);
    }

    /** GLTR ({@link LanczosTrustRegion}). */
    public static StepSolver gltr(Backend backend, int dimension, KrylovOptions options) {
        return new NativeKrylov(new LanczosTrustRegion(backend, dimension, options), options, true);
    }

    /** The ARC Lanczos solver ({@link LanczosCubic}). */
    public static StepSolver arc(Backend backend, int dimension, KrylovOptions options) {
        return new NativeKrylov(new LanczosCubic(backend, dimension, options), options, true);
    }
}
