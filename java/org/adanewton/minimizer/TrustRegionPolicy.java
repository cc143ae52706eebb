package org.adanewton.minimizer;

import org.adanewton.api.RegionPolicy;

/**
 * The radius update of the stochastic trust-region method (Kohler et al., arXiv 1905.09201): Delta = min(gammaInc Delta, maxRadius) if rho >= eta2;
 * unchanged if eta1 &lt;= rho &lt; eta2; Delta / gammaDec if rho &lt; eta1 (the step is then rejected).
 * Every constant is validated here, with the option's name, value and rule in the message.
 *
 * <p>Thread safety: immutable: safe to share between threads.
 */
public record TrustRegionPolicy(double initialRadius, double maxRadius, double minRadius, double eta1, double eta2, double gammaInc,
        double gammaDec) implements RegionPolicy {

    /** Generic defaults: Delta0 1, Dmax 1e10, eta1 0.1, eta2 0.75, increase 2, decrease 4. */
    public static final TrustRegionPolicy DEFAULT = new TrustRegionPolicy(1.0, 1e10, 1e-14, 0.1, 0.75, 2.0, 4.0);

    public TrustRegionPolicy {
        positive("initialRadius", initialRadius);
        positive("maxRadius", maxRadius);
        positive("minRadius", minRadius);
        if (!(maxRadius >= initialRadius))
            throw new IllegalArgumentException("maxRadius = " + maxRadius + "; must be >= initialRadius = " + initialRadius);
        if (!(minRadius < initialRadius))
            throw new IllegalArgumentException("minRadius = " + minRadius + "; must be < initialRadius = " + initialRadius);
        if (!(eta1 > 0 && eta1 < 1)) throw new IllegalArgumentException("eta1 = " + eta1 + "; must be in (0, 1)");
        if (!(eta2 >= eta1 && eta2 < 1)) throw new IllegalArgumentException("eta2 = " + eta2 + "; must be in [eta1 = " + eta1 + ", 1)");
        if (!(gammaInc >= 1) || Double.isInfinite(gammaInc)) throw new IllegalArgumentException("gammaInc = " + gammaInc + "; must be finite and >= 1");
        if (!(gammaDec > 1) || Double.isInfinite(gammaDec)) throw new IllegalArgumentException("gammaDec = " + gammaDec + "; must be finite and > 1");
    }

    static void positive(String name, double v) {
        if (!(v > 0) || Double.isInfinite(v)) throw new IllegalArgumentException(name + " = " + v + "; must be finite and > 0");
    }

    /** This policy started from radius r, by the rule of {@link Builder#delta0}. */
    public TrustRegionPolicy withInitialRadius(double r) {
        return toBuilder().delta0(r).build();
    }

    public static Builder builder() {
        return DEFAULT.toBuilder();
    }

    /** A builder holding these values. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /** Builds a policy (from {@link #DEFAULT}'s values, or another policy's); validated by build(). Not thread-safe. */
    public static final class Builder {
        private double initialRadius, maxRadius, minRadius, eta1, eta2, gammaInc, gammaDec;

        private Builder(TrustRegionPolicy p) {
            initialRadius = p.initialRadius;
            maxRadius = p.maxRadius;
            minRadius = p.minRadius;
            eta1 = p.eta1;
            eta2 = p.eta2;
            gammaInc = p.gammaInc;
            gammaDec = p.gammaDec;
        }

        public Builder initialRadius(double v) { initialRadius = v; return this; }

        /**
         * The one rule for what a new initial radius (the CLI's --delta0) changes: the initial
         * radius becomes r, and the minimum radius is lowered to r / 10 when it is not already
         * below (so the region may shrink tenfold before it counts as collapsed). The maximum radius
         * is kept: an r above it is refused by build() (maxRadius must be &gt;= initialRadius), not
         * raised quietly.
         */
        public Builder delta0(double r) {
            initialRadius = r;
            minRadius = Math.min(minRadius, r / 10);
            return this;
        }

        public Builder maxRadius(double v) { maxRadius = v; return this; }

        public Builder minRadius(double v) { minRadius = v; return this; }

        public Builder eta1(double v) { eta1 = v; return this; }

        public Builder eta2(double v) { eta2 = v; return this; }

        public Builder gammaInc(double v) { gammaInc = v; return this; }

        public Builder gammaDec(double v) { gammaDec = v; return this; }

        public TrustRegionPolicy build() {
            return new TrustRegionPolicy(initialRadius, maxRadius, minRadius, eta1, eta2, gammaInc, gammaDec);
        }
    }

    @Override
    public double initial() {
        return initialRadius;
    }

    @Override
    public boolean accept(double rho) {
        return rho >= eta1;
    }

    @Override
    public double update(double delta, double rho) {
        if (rho >= eta2) return Math.min(gammaInc * delta, maxRadius);
        if (rho >= eta1) return delta;
        return delta / gammaDec;
    }

    @Override
    public double shrink(double delta) {
        return delta / gammaDec;
    }

    @Override
    public boolean collapsed(double delta) {
        return delta < minRadius;
    }

    /** A radius in (0, maxRadius]. */
    @Override
    public boolean admits(double delta) {
        return delta > 0 && delta <= maxRadius;
    }

    @Override
    public boolean isCubic() {
        return false;
    }
}
