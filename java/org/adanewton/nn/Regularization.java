package org.adanewton.nn;

/**
 * L2 regularization over every parameter tensor T of the network (each weight matrix and each
 * bias vector): {@link Kind#SQUARED} adds (lambda/2) sum_T ||T||^2; {@link Kind#NORM} adds the
 * paper's lambda sum_T ||T|| (not squared; its Hessian lambda (I/||T|| - T T'/||T||^3) is taken
 * as 0 at T = 0, where the norm is not differentiable).
 *
 * <p>Thread safety: immutable: safe to share between threads.
 */
public record Regularization(Kind kind, double lambda) {
    public enum Kind {
        NONE(0), SQUARED(1), NORM(2);

        public final int nativeCode;

        Kind(int nativeCode) {
            this.nativeCode = nativeCode;
        }
    }

    public static final Regularization NONE = new Regularization(Kind.NONE, 0.0);

    public Regularization {
        if (kind == null) throw new NullPointerException("regularization kind is null");
        if (!(lambda >= 0) || Double.isInfinite(lambda))
            throw new IllegalArgumentException("lambda = " + lambda + "; must be finite and >= 0");
    }

    public static Regularization squared(double lambda) {
        return new Regularization(Kind.SQUARED, lambda);
    }

    /** The paper's non-squared per-tensor norm, lambda * sum_T ||T||. */
    public static Regularization norm(double lambda) {
        return new Regularization(Kind.NORM, lambda);
    }

    public boolean isActive() {
        return kind != Kind.NONE && lambda > 0;
    }
}
