package org.adanewton.subproblem;

/**
 * Options of the Krylov subproblem solvers.
 *
 * <p>Thread safety: immutable: safe to share between threads.
 *
 * @param maxIterations at most this many iterations (curvature products) per solve (authors: 50)
 * @param tolerance     the forcing term's cap: eta = min(sqrt(||g||), tolerance) (authors: 0.1)
 * @param rule          {@link StoppingRule#RESIDUAL}: ||r|| &lt;= eta ||g|| (classical; gives fast local
 *                      convergence); {@link StoppingRule#MODEL_DECREASE}: the last iteration's model
 *                      decrease &lt;= eta times the total so far (the authors' rule)
 */
public record KrylovOptions(int maxIterations, double tolerance, StoppingRule rule) {

    /** When an inner iteration is good enough. */
    public enum StoppingRule { RESIDUAL, MODEL_DECREASE }

    public static final KrylovOptions DEFAULT = new KrylovOptions(50, 0.1, StoppingRule.RESIDUAL);

    /** The authors' settings: 50 iterations, tolerance 0.1, model-decrease rule. */
    public static final KrylovOptions PAPER = new KrylovOptions(50, 0.1, StoppingRule.MODEL_DECREASE);

    public KrylovOptions {
        if (maxIterations < 1) throw new IllegalArgumentException("maxIterations = " + maxIterations + "; must be >= 1");
        if (!(tolerance > 0 && tolerance < 1)) throw new IllegalArgumentException("tolerance = " + tolerance + "; must be in (0, 1)");
        if (rule == null) throw new IllegalArgumentException("rule is null");
    }

    /** eta = min(sqrt(||g||), tolerance). */
    public double forcing(double gradientNorm) {
        return Math.min(Math.sqrt(gradientNorm), tolerance);
    }
}
