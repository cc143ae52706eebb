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

    public TrustRegionPolicy withInitialRadius(double r) {
        return new TrustRegionPolicy(r, Math.max(maxRadius, r), Math.min(minRadius, r / 10), eta1, eta2, gammaInc, gammaDec);
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
