package org.adanewton.subproblem;

import org.adanewton.api.SolverExit;
import org.adanewton.api.StepResult;
import org.adanewton.api.StepSolver;
import org.adanewton.backend.Backend;
import org.adanewton.backend.CurvatureOperator;
import org.adanewton.backend.Vector;

/**
 * The Cauchy point: the model's minimizer along the preconditioned steepest descent d = -M^-1 g,
 * in closed form (one curvature product). With gamma^2 = g'M^-1 g = ||d||_M^2 and kappa = d'Bd,
 * s = t d where, for the trust region, t = min(gamma^2/kappa, Delta/gamma) if kappa > 0 else
 * Delta/gamma; for ARC, t is the positive root of sigma gamma^3 t^2 + kappa t - gamma^2 = 0.
 * With B = 0 and Delta = eta ||g||_{A^-1} it is exactly the adaptive first-order step -eta A^-1 g.
 *
 * <p>Thread safety: not thread-safe: use an instance from one thread at a time (every solve reuses
 * its work vectors).
 */
public final class CauchyPoint implements StepSolver, AutoCloseable {
    private final Backend backend;
    private final boolean cubic;
    private final Vector d, bd;

    public CauchyPoint(Backend backend, int dimension, boolean cubic) {
        this.backend = backend;
        this.cubic = cubic;
        d = backend.allocate(dimension);
        bd = backend.allocate(dimension);
    }

    @Override
    public boolean isCubic() {
        return cubic;
    }

    @Override
    public String name() {
        return cubic ? "arc-cauchy" : "cauchy";
    }

    @Override
    public StepResult solve(Vector g, CurvatureOperator b, Vector a, double regularization, Vector s) {
        if (!(regularization > 0))
            throw new IllegalArgumentException((cubic ? "sigma" : "radius") + " = " + regularization + "; must be > 0");
        backend.divide(g, a, d);
        double gamma2 = backend.dot(g, d);
        backend.scale(-1, d);
        if (gamma2 == 0) {
            backend.fill(s, 0.0);
            return new StepResult(0, 0, 0, 0, SolverExit.ZERO_GRADIENT, 0);
        }
        b.apply(d, bd);
        double kappa = backend.dot(d, bd), gamma = Math.sqrt(gamma2);
        if (!Double.isFinite(kappa) || !Double.isFinite(gamma)) {
            backend.fill(s, 0.0);
            return new StepResult(Double.NaN, 0, 0, 1, SolverExit.NON_FINITE, 0);
        }
        double t;
        if (cubic) {
            double sg3 = regularization * gamma2 * gamma;
            t = 2 * gamma2 / (kappa + Math.sqrt(kappa * kappa + 4 * sg3 * gamma2)); // stable root
        } else {
            t = kappa > 0 ? Math.min(gamma2 / kappa, regularization / gamma) : regularization / gamma;
        }
        backend.copy(d, s);
        backend.scale(t, s);
        double norm = t * gamma;
        double m = -t * gamma2 + 0.5 * t * t * kappa + (cubic ? regularization / 3 * norm * norm * norm : 0);
        return new StepResult(-m, norm, 0, 1, SolverExit.CAUCHY, 0);
    }

    @Override
    public void close() {
        d.close();
        bd.close();
    }
}
