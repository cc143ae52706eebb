package org.adanewton.subproblem;

import org.adanewton.api.SolverExit;
import org.adanewton.api.StepResult;
import org.adanewton.api.StepSolver;
import org.adanewton.backend.Backend;
import org.adanewton.backend.CurvatureOperator;
import org.adanewton.backend.Vector;

/**
 * Preconditioned Steihaug-Toint conjugate gradients for min g's + 1/2 s'Bs s.t. ||s||_M &lt;= Delta
 * with M = A = diag(a) (Conn, Gould, Toint 2000, Algorithm 7.5.1). The iterates grow monotonically
 * in the M-norm, so the first boundary crossing ends the solve. The M-norms are kept by the
 * recurrences s'Mp, p'Mp, s'Ms; the boundary step is the positive root of ||s + tau p||_M = Delta.
 * The model value is tracked from the CG scalars (m(s + alpha p) = m(s) - alpha r'y / 2), so the
 * decrease costs no extra product. Exits: converged, boundary, negative curvature (to the boundary
 * along p), max iterations, zero gradient, non-finite.
 *
 * <p>This is the loop over the backend's vectors. Where the curvature is a CPU or CUDA network's
 * cached Hessian or Gauss-Newton matrix, {@link KrylovSolvers#steihaug} gives the same loop run
 * inside native code in one JNI call (the driver of native/common/krylov_driver.h, on the CPU or the
 * device).
 * Work vectors are allocated once per solver: a solve allocates nothing.
 *
 * <p>Thread safety: not thread-safe: use an instance from one thread at a time (every solve reuses
 * its work vectors).
 */
public final class SteihaugCg implements StepSolver, AutoCloseable {
    private final Backend backend;
    private final KrylovOptions options;
    private final Vector r, y, p, bp;

    public SteihaugCg(Backend backend, int dimension, KrylovOptions options) {
        this.backend = backend;
        this.options = options;
        r = backend.allocate(dimension);
        y = backend.allocate(dimension);
        p = backend.allocate(dimension);
        bp = backend.allocate(dimension);
    }

    @Override
    public String name() {
        return "steihaug";
    }

    @Override
    public boolean isCubic() {
        return false;
    }

    public KrylovOptions options() {
        return options;
    }

    @Override
    public StepResult solve(Vector g, CurvatureOperator b, Vector a, double delta, Vector s) {
        if (!(delta > 0)) throw new IllegalArgumentException("radius = " + delta + "; must be > 0");
        backend.fill(s, 0.0);
        double gnorm = backend.norm(g);
        if (gnorm == 0) return new StepResult(0, 0, 0, 0, SolverExit.ZERO_GRADIENT, 0);
        if (!Double.isFinite(gnorm)) return new StepResult(Double.NaN, 0, 0, 0, SolverExit.NON_FINITE, 0);
        double eta = options.forcing(gnorm);
        backend.copy(g, r);
        backend.divide(r, a, y);
        double ry = backend.dot(r, y);
        backend.copy(y, p);
        backend.scale(-1, p);
        double ss = 0, sp = 0, pp = ry, delta2 = delta * delta, m = 0;
        for (int k = 0; k < options.maxIterations(); k++) {
            b.apply(p, bp);
            double kappa = backend.dot(p, bp);
            if (!Double.isFinite(kappa)) return new StepResult(Double.NaN, Math.sqrt(ss), k, k + 1, SolverExit.NON_FINITE, 0);
            double alpha = ry / kappa;
            if (kappa <= 0 || ss + 2 * alpha * sp + alpha * alpha * pp >= delta2) {
                double tau = boundaryRoot(ss, sp, pp, delta2);
                backend.axpy(tau, p, s);
                m += -tau * ry + 0.5 * tau * tau * kappa; // r'p = -r'y
                return new StepResult(-m, delta, k + 1, k + 1, kappa <= 0 ? SolverExit.NEGATIVE_CURVATURE : SolverExit.BOUNDARY, 0);
            }
            backend.axpy(alpha, p, s);
            double decrease = 0.5 * alpha * ry;
            m -= decrease;
            ss += 2 * alpha * sp + alpha * alpha * pp;
            backend.axpy(alpha, bp, r);
            backend.divide(r, a, y);
            double ryNext = backend.dot(r, y);
            boolean done = options.rule() == KrylovOptions.StoppingRule.RESIDUAL ? backend.norm(r) <= eta * gnorm
                    : decrease <= eta * Math.abs(m);
            if (done) return new StepResult(-m, Math.sqrt(ss), k + 1, k + 1, SolverExit.CONVERGED, 0);
            double beta = ryNext / ry;
            backend.axpby(-1, y, beta, p);
            sp = beta * (sp + alpha * pp);
            pp = ryNext + beta * beta * pp;
            ry = ryNext;
        }
        return new StepResult(-m, Math.sqrt(ss), options.maxIterations(), options.maxIterations(), SolverExit.MAX_ITERATIONS, 0);
    }

    /** The positive root tau of ||s + tau p||_M^2 = delta2, from ss = s'Ms, sp = s'Mp, pp = p'Mp. */
    static double boundaryRoot(double ss, double sp, double pp, double delta2) {
        double disc = Math.sqrt(Math.max(0.0, sp * sp + pp * (delta2 - ss)));
        // numerically stable form of (-sp + disc) / pp
        return sp >= 0 ? Math.max(0.0, delta2 - ss) / (sp + disc) : (-sp + disc) / pp;
    }

    @Override
    public void close() {
        r.close();
        y.close();
        p.close();
        bp.close();
    }
}
