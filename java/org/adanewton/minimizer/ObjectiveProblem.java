package org.adanewton.minimizer;

import org.adanewton.api.Objective;
import org.adanewton.backend.Backend;
import org.adanewton.backend.CurvatureOperator;
import org.adanewton.backend.Vector;
import org.adanewton.backend.java.JavaBackend;

/**
 * A deterministic {@link Objective} (double, Java) as a {@link Problem} on the Java backend.
 *
 * <p>Thread safety: not thread-safe: use an instance from one thread at a time (it keeps the
 * current point in arrays of its own).
 */
public final class ObjectiveProblem implements Problem {
    private final Objective objective;
    private final JavaBackend backend = new JavaBackend();
    private final double[] x, g, v, hv;
    private final CurvatureOperator curvature;

    public ObjectiveProblem(Objective objective) {
        this.objective = objective;
        int n = objective.dimension();
        if (n < 1) throw new IllegalArgumentException("objective dimension = " + n + "; must be >= 1");
        x = new double[n];
        g = new double[n];
        v = new double[n];
        hv = new double[n];
        curvature = (in, out) -> {
            copyOut(in, v);
            objective.hessianVector(x, v, hv);
            backend.set(out, hv);
        };
    }

    public Objective objective() {
        return objective;
    }

    @Override
    public Backend backend() {
        return backend;
    }

    @Override
    public int dimension() {
        return x.length;
    }

    @Override
    public boolean isStochastic() {
        return false;
    }

    @Override
    public void advance() {}

    @Override
    public double gradient(Vector point, Vector grad) {
        copyOut(point, x);
        double f = objective.gradient(x, g);
        backend.set(grad, g);
        return f;
    }

    @Override
    public double value(Vector point) {
        return objective.value(point.toArray());
    }

    @Override
    public CurvatureOperator curvature() {
        return curvature;
    }

    private static void copyOut(Vector from, double[] to) {
        System.arraycopy(from.toArray(), 0, to, 0, to.length);
    }
}
