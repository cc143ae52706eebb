package org.adanewton.minimizer;

import org.adanewton.api.Norm;
import org.adanewton.api.RegionPolicy;
import org.adanewton.api.StepSolver;
import org.adanewton.backend.Backend;
import org.adanewton.norm.DiagonalNorm;
import org.adanewton.subproblem.CauchyPoint;
import org.adanewton.subproblem.KrylovSolvers;

/**
 * What a {@link Minimizer} is made of besides its problem and its stopping rules: the step solver,
 * the region policy (TR radius or ARC sigma) and the norm (the region's metric and the solver's
 * preconditioner). Any implementations of the three interfaces work together as long as the solver
 * and the policy agree on {@code isCubic()}; {@link #of} makes the named methods' strategies.
 *
 * <p>Thread safety: immutable itself; the strategies it holds are used by one minimizer at a time.
 *
 * @param solver the subproblem solver
 * @param policy the acceptance and regularization update rule
 * @param norm   the metric A = diag(a), updated with every gradient
 */
public record Strategies(StepSolver solver, RegionPolicy policy, Norm norm) implements AutoCloseable {

    public Strategies {
        if (solver == null || policy == null || norm == null) throw new IllegalArgumentException("solver, policy and norm must not be null");
        if (solver.isCubic() != policy.isCubic())
            throw new IllegalArgumentException("the solver " + solver.name() + " is " + (solver.isCubic() ? "" : "not ") + "cubic but the policy "
                    + policy + " is " + (policy.isCubic() ? "" : "not ") + "cubic");
    }

    /**
     * The strategies of options.method() with options.norm(), options.krylov() and the method's
     * policy, for vectors of the problem's backend and dimension. A Krylov method's solve is one
     * native call where the curvature it is given offers one (a CPU or CUDA network's), else the
     * Java loop ({@link KrylovSolvers}). The caller closes them ({@link #close}).
     */
    public static Strategies of(MinimizerOptions options, Problem problem) {
        Backend backend = problem.backend();
        int n = problem.dimension();
        StepSolver solver = switch (options.method()) {
            case TR_STEIHAUG -> KrylovSolvers.steihaug(backend, n, options.krylov());
            case TR_GLTR -> KrylovSolvers.gltr(backend, n, options.krylov());
            case TR_CAUCHY -> new CauchyPoint(backend, n, false);
            case ARC -> KrylovSolvers.arc(backend, n, options.krylov());
            case ARC_CAUCHY -> new CauchyPoint(backend, n, true);
        };
        RegionPolicy policy = options.method().cubic ? options.cubic() : options.trustRegion();
        try {
            return new Strategies(solver, policy, DiagonalNorm.create(backend, n, options.norm()));
        } catch (RuntimeException | Error e) {
            solver.close();
            throw e;
        }
    }

    /** Closes the solver and the norm (the policy holds no resources). */
    @Override
    public void close() {
        try {
            solver.close();
        } finally {
            norm.close();
        }
    }
}
