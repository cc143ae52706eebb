package org.adanewton.minimizer;

import org.adanewton.api.MiniBatchObjective;
import org.adanewton.api.VectorObjective;
import org.adanewton.backend.Backend;
import org.adanewton.backend.CurvatureOperator;
import org.adanewton.backend.Vector;

/**
 * A {@link VectorObjective} as a {@link Problem} on any backend, with no copy: the objective
 * receives the minimizer's own vectors (the iterate, the gradient, the solver's Krylov vectors) and
 * writes its results into them in place; the curvature operator calls its Hessian-vector product
 * with the solver's vectors. A {@link MiniBatchObjective} makes a stochastic problem
 * ({@link #advance()} calls its nextBatch, {@link #epochs()} its epochs).
 *
 * <p>After each gradient and product the output vector is marked written ({@link Vector#markWritten()}),
 * since the objective may have written it through a storage view. The curvature refers to the
 * vector of the last {@link #gradient} call; a product asked for after that vector was written
 * through the backend (so that the point moved without a new gradient) throws
 * IllegalStateException.
 *
 * <p>Thread safety: not thread-safe: use an instance from one thread at a time (it keeps a
 * reference to the current point).
 */
public final class VectorObjectiveProblem implements Problem {
    private final Backend backend;
    private final VectorObjective objective;
    private final MiniBatchObjective batches;
    private final int n;
    private final CurvatureOperator curvature;
    private Vector point;
    private long pointVersion;

    /**
     * The objective on this backend: the vectors it receives are the backend's, of length
     * objective.dimension() (at least 1).
     */
    public VectorObjectiveProblem(Backend backend, VectorObjective objective) {
        if (backend == null) throw new IllegalArgumentException("backend is null");
        if (objective == null) throw new IllegalArgumentException("objective is null");
        n = objective.dimension();
        if (n < 1) throw new IllegalArgumentException("objective dimension = " + n + "; must be >= 1");
        this.backend = backend;
        this.objective = objective;
        this.batches = objective instanceof MiniBatchObjective m ? m : null;
        curvature = backend.solvable((v, out) -> {
            if (point == null) throw new IllegalStateException("a curvature product before the first gradient call: it has no point");
            if (point.version() != pointVersion || point.isClosed())
                throw new IllegalStateException("the point of the last gradient call was " + (point.isClosed() ? "closed" : "written")
                        + " since; call gradient at the new point before asking for curvature products");
            objective.hessianVector(point, v, out);
            out.markWritten();
        }, n);
    }

    public VectorObjective objective() {
        return objective;
    }

    @Override
    public Backend backend() {
        return backend;
    }

    @Override
    public int dimension() {
        return n;
    }

    @Override
    public boolean isStochastic() {
        return batches != null;
    }

    @Override
    public void advance() {
        if (batches != null) batches.nextBatch();
    }

    @Override
    public double epochs() {
        return batches != null ? batches.epochs() : 0;
    }

    @Override
    public double gradient(Vector x, Vector g) {
        backend.check("x", x, n, "the objective's dimension");
        backend.check("g", g, n, "the objective's dimension");
        point = x;
        pointVersion = x.version();
        double f = objective.gradient(x, g);
        g.markWritten();
        return f;
    }

    @Override
    public double value(Vector x) {
        backend.check("x", x, n, "the objective's dimension");
        return objective.value(x);
    }

    @Override
    public CurvatureOperator curvature() {
        return curvature;
    }
}
