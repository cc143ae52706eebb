package org.adanewton.problems;

import java.util.SplittableRandom;
import org.adanewton.api.Objective;

/**
 * L2-regularized logistic regression on seeded synthetic data (m samples, n features, labels from a
 * noisy linear rule): f(w) = (1/m) sum log(1 + exp(-y_i x_i'w)) + (mu/2) ||w||^2, strongly convex.
 *
 * <p>Thread safety: immutable (the data are made at construction and only read after): safe to
 * share between threads that pass their own arrays.
 */
public final class Logistic implements Objective {
    private final double[][] x;
    private final double[] y;
    private final double mu;

    public Logistic(int samples, int features, double mu, long seed) {
        if (samples < 1 || features < 1) throw new IllegalArgumentException("samples and features must be >= 1");
        if (!(mu > 0)) throw new IllegalArgumentException("mu = " + mu + "; must be > 0");
        this.mu = mu;
        SplittableRandom r = new SplittableRandom(seed);
        double[] truth = new double[features];
        for (int j = 0; j < features; j++) truth[j] = r.nextGaussian();
        x = new double[samples][features];
        y = new double[samples];
        for (int i = 0; i < samples; i++) {
            double z = 0;
            for (int j = 0; j < features; j++) {
                x[i][j] = r.nextGaussian();
                z += x[i][j] * truth[j];
            }
            y[i] = z + 0.5 * r.nextGaussian() >= 0 ? 1 : -1;
        }
    }

    @Override
    public int dimension() {
        return x[0].length;
    }

    @Override
    public String name() {
        return "logistic";
    }

    private double margin(int i, double[] w) {
        double z = 0;
        for (int j = 0; j < w.length; j++) z += x[i][j] * w[j];
        return y[i] * z;
    }

    private static double log1pExp(double t) {
        return t > 0 ? t + Math.log1p(Math.exp(-t)) : Math.log1p(Math.exp(t));
    }

    @Override
    public double value(double[] w) {
        double f = 0;
        for (int i = 0; i < x.length; i++) f += log1pExp(-margin(i, w));
        double r = 0;
        for (double v : w) r += v * v;
        return f / x.length + 0.5 * mu * r;
    }

    @Override
    public double gradient(double[] w, double[] g) {
        int m = x.length;
        for (int j = 0; j < w.length; j++) g[j] = mu * w[j];
        double f = 0;
        for (int i = 0; i < m; i++) {
            double t = margin(i, w);
            f += log1pExp(-t);
            double sig = 1 / (1 + Math.exp(t)); // d/dt log(1+e^-t) = -sig
            for (int j = 0; j < w.length; j++) g[j] -= y[i] * sig * x[i][j] / m;
        }
        double r = 0;
        for (double v : w) r += v * v;
        return f / m + 0.5 * mu * r;
    }

    @Override
    public void hessianVector(double[] w, double[] v, double[] hv) {
        int m = x.length;
        for (int j = 0; j < w.length; j++) hv[j] = mu * v[j];
        for (int i = 0; i < m; i++) {
            double t = margin(i, w);
            double sig = 1 / (1 + Math.exp(-t));
            double d = sig * (1 - sig);
            double xv = 0;
            for (int j = 0; j < w.length; j++) xv += x[i][j] * v[j];
            for (int j = 0; j < w.length; j++) hv[j] += d * xv * x[i][j] / m;
        }
    }
}
