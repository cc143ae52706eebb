package org.adanewton.norm;

/**
 * Options of a diagonal norm, validated at construction (use {@link #builder(NormKind)}).
 *
 * <p>Thread safety: immutable: safe to share between threads (its Builder is not thread-safe).
 *
 * @param kind           uniform, AdaGrad, RMSProp or Adam
 * @param beta           RMSProp's decay (default 0.8, the authors' value)
 * @param beta2          Adam's decay (default 0.999)
 * @param eps            added after the root, or the accumulator's initial value (default 1e-10)
 * @param epsPlacement   where eps goes (default {@link EpsPlacement#AFTER_ROOT}, the paper's form)
 * @param biasCorrection Adam's 1/(1 - beta2^t) (default true)
 * @param aMin           lower bound of every a_i (default 1e-12: a safety floor, so a_i is never 0)
 * @param aMax           upper bound of every a_i (default 1e15: never infinite). A finite clamp
 *                       [aMin, aMax] makes the norms uniformly equivalent by construction.
 */
public record NormOptions(NormKind kind, double beta, double beta2, double eps, EpsPlacement epsPlacement,
        boolean biasCorrection, double aMin, double aMax) {

    public static final double DEFAULT_A_MIN = 1e-12;
    public static final double DEFAULT_A_MAX = 1e15;

    public NormOptions {
        if (kind == null) throw new IllegalArgumentException("norm kind is null");
        if (epsPlacement == null) throw new IllegalArgumentException("epsPlacement is null");
        if (!(beta >= 0 && beta < 1)) throw new IllegalArgumentException("beta = " + beta + "; must be in [0, 1)");
        if (!(beta2 >= 0 && beta2 < 1)) throw new IllegalArgumentException("beta2 = " + beta2 + "; must be in [0, 1)");
        if (!(eps >= 0) || Double.isInfinite(eps)) throw new IllegalArgumentException("eps = " + eps + "; must be finite and >= 0");
        if (!(aMin > 0) || Double.isInfinite(aMin)) throw new IllegalArgumentException("aMin = " + aMin + "; must be finite and > 0");
        if (!(aMax >= aMin) || Double.isInfinite(aMax))
            throw new IllegalArgumentException("aMax = " + aMax + "; must be finite and >= aMin = " + aMin);
    }

    public static Builder builder(NormKind kind) {
        return new Builder(kind);
    }

    /** The defaults for a kind. */
    public static NormOptions of(NormKind kind) {
        return builder(kind).build();
    }

    public static final class Builder {
        private final NormKind kind;
        private double beta = 0.8, beta2 = 0.999, eps = 1e-10, aMin = DEFAULT_A_MIN, aMax = DEFAULT_A_MAX;
        private EpsPlacement placement = EpsPlacement.AFTER_ROOT;
        private boolean biasCorrection = true;

        private Builder(NormKind kind) {
            this.kind = kind;
        }

        public Builder beta(double v) { beta = v; return this; }

        public Builder beta2(double v) { beta2 = v; return this; }

        public Builder eps(double v) { eps = v; return this; }

        public Builder epsPlacement(EpsPlacement v) { placement = v; return this; }

        public Builder biasCorrection(boolean v) { biasCorrection = v; return this; }

        /** Clamp every a_i into [lo, hi]. */
        public Builder clamp(double lo, double hi) { aMin = lo; aMax = hi; return this; }

        public NormOptions build() {
            return new NormOptions(kind, beta, beta2, eps, placement, biasCorrection, aMin, aMax);
        }
    }
}
