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
    public enum StoppingRule {
        RESIDUAL("residual"), MODEL_DECREASE("model-decrease");

        /** The name on the command line. */
        public final String cliName;

        StoppingRule(String cliName) {
            this.cliName = cliName;
        }

        /** "residual" or "model-decrease" (any case); else IllegalArgumentException naming both ("rule = 'x'; must be ..."). */
        public static StoppingRule parse(String text) {
            for (StoppingRule r : values()) if (r.cliName.equalsIgnoreCase(text)) return r;
            throw new IllegalArgumentException("rule = '" + text + "'; must be residual or model-decrease");
        }
    }

    public static final KrylovOptions DEFAULT = new KrylovOptions(50, 0.1, StoppingRule.RESIDUAL);

    /** The authors' settings: 50 iterations, tolerance 0.1, model-decrease rule. */
    public static final KrylovOptions PAPER = new KrylovOptions(50, 0.1, StoppingRule.MODEL_DECREASE);

    public KrylovOptions {
        if (maxIterations < 1) throw new IllegalArgumentException("maxIterations = " + maxIterations + "; must be >= 1");
        if (!(tolerance > 0 && tolerance < 1)) throw new IllegalArgumentException("tolerance = " + tolerance + "; must be in (0, 1)");
        if (rule == null) throw new IllegalArgumentException("rule is null");
    }

    public static Builder builder() {
        return DEFAULT.toBuilder();
    }

    /** A builder holding these values. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /** Builds options (from {@link #DEFAULT}'s values, or other options'); validated by build(). Not thread-safe. */
    public static final class Builder {
        private int maxIterations;
        private double tolerance;
        private StoppingRule rule;

        private Builder(KrylovOptions o) {
            maxIterations = o.maxIterations;
            tolerance = o.tolerance;
            rule = o.rule;
        }

        public Builder maxIterations(int v) { maxIterations = v; return this; }

        public Builder tolerance(double v) { tolerance = v; return this; }

        public Builder rule(StoppingRule v) { rule = v; return this; }

        public KrylovOptions build() {
            return new KrylovOptions(maxIterations, tolerance, rule);
        }
    }

    /** eta = min(sqrt(||g||), tolerance). */
    public double forcing(double gradientNorm) {
        return Math.min(Math.sqrt(gradientNorm), tolerance);
    }
}
