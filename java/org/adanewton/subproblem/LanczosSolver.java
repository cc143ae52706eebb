package org.adanewton.subproblem;

import org.adanewton.api.SolverExit;
import org.adanewton.api.StepResult;
import org.adanewton.api.StepSolver;
import org.adanewton.backend.Backend;
import org.adanewton.backend.CurvatureOperator;
import org.adanewton.backend.Vector;

/**
 * The two Lanczos subproblem solvers, which differ only in the small problem solved on T:
 * GLTR (Gould, Lucidi, Roma, Toint 1999) for the trust region and the ARC subproblem (Cartis,
 * Gould, Toint 2011) for cubic regularization. Unlike Steihaug's CG they keep going on the
 * boundary and under negative curvature, solving the tridiagonal problem exactly
 * ({@link TridiagonalSolvers}), which gives better steps. Stopping: the residual of the full model
 * at s = V h is gamma_{k+1} |h_k| (in the M^-1 norm), compared with eta gamma_0 (RESIDUAL), or the
 * change of the model value (MODEL_DECREASE). This is the loop over the backend's vectors; for a
 * native network curvature {@link KrylovSolvers} gives the same solve run natively.
 *
 * <p>Thread safety: not thread-safe: use an instance from one thread at a time (every solve reuses
 * its work vectors).
 */
public abstract class LanczosSolver implements StepSolver, AutoCloseable {
    private final Backend backend;
    private final KrylovOptions options;
    private final PreconditionedLanczos lanczos;

    protected LanczosSolver(Backend backend, int dimension, KrylovOptions options) {
        this.backend = backend;
        this.options = options;
        this.lanczos = new PreconditionedLanczos(backend, dimension, options.maxIterations());
    }

    public KrylovOptions options() {
        return options;
    }

    /** Solves the small problem with c = gamma_0 e_1 on T = tridiag(d, e). */
    protected abstract TridiagonalSolvers.Solution solveSmall(double[] d, double[] e, double[] c, double regularization);

    @Override
    public StepResult solve(Vector g, CurvatureOperator b, Vector a, double regularization, Vector s) {
        if (!(regularization > 0))
            throw new IllegalArgumentException((isCubic() ? "sigma" : "radius") + " = " + regularization + "; must be > 0");
        double g0 = lanczos.start(g, a);
        if (g0 == 0) {
            lanczos.assemble(new double[0], s);
            return new StepResult(0, 0, 0, 0, SolverExit.ZERO_GRADIENT, 0);
        }
        if (!Double.isFinite(g0)) return new StepResult(Double.NaN, 0, 0, 0, SolverExit.NON_FINITE, 0);
        double eta = options.forcing(backend.norm(g));
        TridiagonalSolvers.Solution sol = null;
        double previous = 0;
        SolverExit exit = SolverExit.MAX_ITERATIONS;
        for (int k = 0; k < options.maxIterations(); k++) {
            if (!lanczos.step(b, a)) {
                exit = SolverExit.NON_FINITE;
                break;
            }
            int size = lanczos.size();
            double[] c = new double[size];
            c[0] = g0;
            sol = solveSmall(lanczos.diagonal(), lanczos.offDiagonal(), c, regularization);
            double residual = lanczos.gamma[size] * Math.abs(sol.h()[size - 1]);
            boolean done = options.rule() == KrylovOptions.StoppingRule.RESIDUAL ? residual <= eta * g0
                    : Math.abs(previous - sol.modelValue()) <= eta * Math.abs(sol.modelValue());
            previous = sol.modelValue();
            if (done || lanczos.gamma[size] == 0) {
                exit = SolverExit.CONVERGED;
                break;
            }
        }
        if (sol == null) return new StepResult(Double.NaN, 0, 0, lanczos.products(), SolverExit.NON_FINITE, 0);
        lanczos.assemble(sol.h(), s);
        double norm = sol.norm();
        if (exit == SolverExit.CONVERGED && !isCubic() && norm >= regularization * (1 - 1e-8)) exit = SolverExit.BOUNDARY;
        if (exit == SolverExit.NON_FINITE) return new StepResult(Double.NaN, norm, lanczos.size(), lanczos.products(), exit, sol.mu());
        return new StepResult(-sol.modelValue(), norm, lanczos.size(), lanczos.products(), exit, sol.mu());
    }

    @Override
    public void close() {
        lanczos.close();
    }
}
