package org.adanewton.minimizer;

import org.adanewton.api.IterationListener;
import org.adanewton.api.Objective;
import org.adanewton.api.Summary;
import org.adanewton.api.VectorObjective;
import org.adanewton.backend.Backend;
import org.adanewton.backend.Vector;

/**
 * One-call minimization, like SciPy's {@code minimize}: the objective, a starting point and the
 * options in; a {@link MinimizeResult} out. Each call builds a {@link Minimizer} with the named
 * method's strategies ({@link Strategies#of}) over a {@link VectorObjectiveProblem} (or an
 * {@link ObjectiveProblem} for a double[] {@link Objective}), runs it to a stopping rule and closes
 * what it made. For control between iterations, a checkpoint or injected strategies, build the
 * Minimizer yourself; for a loop you drive, see {@link SecondOrderStep}.
 *
 * <p>Thread safety: stateless: calls from several threads are independent as long as each has its
 * own objective and starting point.
 */
public final class Minimize {
    private Minimize() {}

    /**
     * Minimizes objective from x, in place: x (a vector of any backend, of length
     * objective.dimension()) ends at the final iterate, which the result also holds as a double[].
     * The objective's vectors are x's backend's.
     */
    public static MinimizeResult minimize(VectorObjective objective, Vector x, MinimizerOptions options, IterationListener... listeners) {
        if (objective == null) throw new IllegalArgumentException("objective is null");
        if (x == null) throw new IllegalArgumentException("x is null");
        if (options == null) throw new IllegalArgumentException("options is null");
        Backend backend = x.backend();
        backend.check("x", x, objective.dimension(), "the objective's dimension");
        long bad = backend.countNonFinite(x);
        if (bad > 0) throw new IllegalArgumentException("x has " + bad + " NaN or infinite entries; must be finite");
        try (VectorObjectiveProblem problem = new VectorObjectiveProblem(backend, objective);
                Minimizer minimizer = new Minimizer(problem, options, x)) {
            Summary summary = minimizer.run(listeners);
            return MinimizeResult.of(x.toArray(), summary);
        }
    }

    /**
     * Minimizes objective from x0 (not modified) on the given backend: the objective receives that
     * backend's vectors; x0 is rounded to the backend's precision (float32 on cpu and cuda).
     */
    public static MinimizeResult minimize(Backend backend, VectorObjective objective, double[] x0, MinimizerOptions options,
            IterationListener... listeners) {
        if (backend == null) throw new IllegalArgumentException("backend is null");
        if (objective == null) throw new IllegalArgumentException("objective is null");
        checkStart(x0, objective.dimension());
        try (Vector x = backend.vector(x0)) {
            return minimize(objective, x, options, listeners);
        }
    }

    /** Minimizes a double[] objective from x0 (not modified) on the Java backend, in double. */
    public static MinimizeResult minimize(Objective objective, double[] x0, MinimizerOptions options, IterationListener... listeners) {
        if (objective == null) throw new IllegalArgumentException("objective is null");
        if (options == null) throw new IllegalArgumentException("options is null");
        checkStart(x0, objective.dimension());
        try (ObjectiveProblem problem = new ObjectiveProblem(objective); Vector x = problem.backend().vector(x0);
                Minimizer minimizer = new Minimizer(problem, options, x)) {
            Summary summary = minimizer.run(listeners);
            return MinimizeResult.of(x.toArray(), summary);
        }
    }

    private static void checkStart(double[] x0, int n) {
        if (x0 == null) throw new IllegalArgumentException("x0 is null");
        if (x0.length != n) throw new IllegalArgumentException("x0 has length " + x0.length + "; must be " + n + " (the objective's dimension)");
        for (int i = 0; i < n; i++)
            if (!Double.isFinite(x0[i])) throw new IllegalArgumentException("x0[" + i + "] = " + x0[i] + "; must be finite");
    }
}
