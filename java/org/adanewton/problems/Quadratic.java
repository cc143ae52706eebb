package org.adanewton.problems;

import java.util.SplittableRandom;
import org.adanewton.api.Objective;

/**
 * f(x) = 1/2 x'Qx - b'x with Q = U diag(lambda) U' for a random orthogonal U (a product of
 * Householder reflections, seeded) and a known spectrum lambda: geometric from lambdaMin to
 * lambdaMax, or with its lowest `negative` eigenvalues made negative (indefinite: unbounded below,
 * useful for subproblem tests). The minimizer of the definite case is Q^-1 b.
 *
 * <p>Thread safety: immutable (the spectrum, reflectors and b are made at construction and only
 * read after): safe to share between threads that pass their own arrays.
 */
public final class Quadratic implements Objective {
    private final int n;
    private final double[] lambda;
    private final double[][] reflectors; // Householder unit vectors
    private final double[] b;

    public Quadratic(int n, double lambdaMin, double lambdaMax, int negative, long seed) {
        if (n < 1) throw new IllegalArgumentException("dim = " + n + "; must be >= 1");
        if (!(lambdaMin > 0 && lambdaMax >= lambdaMin)) throw new IllegalArgumentException("need 0 < lambdaMin <= lambdaMax");
        if (negative < 0 || negative > n) throw new IllegalArgumentException("negative = " + negative + "; must be in [0, " + n + "]");
        this.n = n;
        lambda = new double[n];
        for (int i = 0; i < n; i++) {
            double t = n == 1 ? 0 : (double) i / (n - 1);
            lambda[i] = lambdaMin * Math.pow(lambdaMax / lambdaMin, t);
            if (i < negative) lambda[i] = -lambda[i];
        }
        SplittableRandom r = new SplittableRandom(seed);
        reflectors = new double[3][n];
        for (double[] u : reflectors) {
            double s = 0;
            for (int i = 0; i < n; i++) {
                u[i] = r.nextGaussian();
                s += u[i] * u[i];
            }
            s = Math.sqrt(s);
            for (int i = 0; i < n; i++) u[i] /= s;
        }
        b = new double[n];
        for (int i = 0; i < n; i++) b[i] = r.nextGaussian();
    }

    /** The eigenvalues of Q. */
    public double[] spectrum() {
        return lambda.clone();
    }

    public double[] b() {
        return b.clone();
    }

    /** Q^-1 b (the minimizer when Q is definite). */
    public double[] solution() {
        double[] y = b.clone();
        applyUt(y);
        for (int i = 0; i < n; i++) y[i] /= lambda[i];
        applyU(y);
        return y;
    }

    @Override
    public int dimension() {
        return n;
    }

    @Override
    public String name() {
        return "quadratic";
    }

    // U = H1 H2 H3 with H = I - 2uu'; U' = H3 H2 H1.
    private void applyU(double[] v) {
        for (int k = reflectors.length - 1; k >= 0; k--) reflect(reflectors[k], v);
    }

    private void applyUt(double[] v) {
        for (double[] u : reflectors) reflect(u, v);
    }

    private static void reflect(double[] u, double[] v) {
        double d = 0;
        for (int i = 0; i < v.length; i++) d += u[i] * v[i];
        for (int i = 0; i < v.length; i++) v[i] -= 2 * d * u[i];
    }

    @Override
    public void hessianVector(double[] x, double[] v, double[] hv) {
        System.arraycopy(v, 0, hv, 0, n);
        applyUt(hv);
        for (int i = 0; i < n; i++) hv[i] *= lambda[i];
        applyU(hv);
    }

    @Override
    public double value(double[] x) {
        double[] qx = new double[n];
        hessianVector(x, x, qx);
        double f = 0;
        for (int i = 0; i < n; i++) f += 0.5 * x[i] * qx[i] - b[i] * x[i];
        return f;
    }

    @Override
    public double gradient(double[] x, double[] g) {
        hessianVector(x, x, g);
        double f = 0;
        for (int i = 0; i < n; i++) {
            f += 0.5 * x[i] * g[i] - b[i] * x[i];
            g[i] -= b[i];
        }
        return f;
    }
}
