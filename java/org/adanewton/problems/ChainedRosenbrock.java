package org.adanewton.problems;

import org.adanewton.api.Objective;

/**
 * f(x) = sum_{i&lt;n-1} 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2, minimum 0 at x = 1; n = 2 is the
 * classical Rosenbrock function. Start: (-1.2, 1, -1.2, 1, ...).
 *
 * <p>Thread safety: immutable: safe to share between threads that pass their own arrays.
 */
public final class ChainedRosenbrock implements Objective {
    private final int n;

    public ChainedRosenbrock(int n) {
        if (n < 2) throw new IllegalArgumentException("dim = " + n + "; must be >= 2");
        this.n = n;
    }

    public double[] start() {
        double[] x = new double[n];
        for (int i = 0; i < n; i++) x[i] = i % 2 == 0 ? -1.2 : 1.0;
        return x;
    }

    @Override
    public int dimension() {
        return n;
    }

    @Override
    public String name() {
        return n == 2 ? "rosenbrock" : "chained-rosenbrock";
    }

    @Override
    public double value(double[] x) {
        double f = 0;
        for (int i = 0; i < n - 1; i++) {
            double a = x[i + 1] - x[i] * x[i], b = 1 - x[i];
            f += 100 * a * a + b * b;
        }
        return f;
    }

    @Override
    public double gradient(double[] x, double[] g) {
        java.util.Arrays.fill(g, 0.0);
        double f = 0;
        for (int i = 0; i < n - 1; i++) {
            double a = x[i + 1] - x[i] * x[i], b = 1 - x[i];
            f += 100 * a * a + b * b;
            g[i] += -400 * a * x[i] - 2 * b;
            g[i + 1] += 200 * a;
        }
        return f;
    }

    @Override
    public void hessianVector(double[] x, double[] v, double[] hv) {
        java.util.Arrays.fill(hv, 0.0);
        for (int i = 0; i < n - 1; i++) {
            // term 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2: Hessian block on (i, i+1)
            double hii = 1200 * x[i] * x[i] - 400 * x[i + 1] + 2, hij = -400 * x[i], hjj = 200;
            hv[i] += hii * v[i] + hij * v[i + 1];
            hv[i + 1] += hij * v[i] + hjj * v[i + 1];
        }
    }
}
