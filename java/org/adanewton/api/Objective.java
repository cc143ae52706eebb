package org.adanewton.api;

/**
 * A smooth function of n variables, in double, with its gradient and Hessian-vector products: what
 * the deterministic minimizers need. Implementations must not keep references to the arrays.
 */
public interface Objective {
    int dimension();

    double value(double[] x);

    /** Writes the gradient at x into g and returns f(x). */
    double gradient(double[] x, double[] g);

    /** Writes H(x) v into hv. */
    void hessianVector(double[] x, double[] v, double[] hv);

    default String name() {
        return getClass().getSimpleName();
    }
}
