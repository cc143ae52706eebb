package org.adanewton.api;

/**
 * A smooth function of n variables, in double, with its gradient and Hessian-vector products: what
 * the deterministic minimizers need. Implementations must not keep references to the arrays.
 *
 * <p>Thread safety: implementations need not be thread-safe: a minimizer calls its objective from
 * the thread that runs it, with arrays of its own. The built-in test problems are immutable and may
 * be shared.
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
