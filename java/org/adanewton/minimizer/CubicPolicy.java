package org.adanewton.minimizer;

import org.adanewton.api.RegionPolicy;

/**
 * The ARC weight update (adaptive cubic regularization as in Kohler et al., arXiv 1905.09201): sigma = max(sigma / gamma, minSigma) if rho >= eta2;
 * unchanged if eta1 &lt;= rho &lt; eta2; sigma * gamma (and reject) if rho &lt; eta1.
 *
 * <p>Thread safety: immutable: safe to share between threads.
 */
public record CubicPolicy(double initialSigma, double minSigma, double maxSigma, double eta1, double eta2, double gamma)
        implements RegionPolicy {

    /** Generic defaults: sigma0 1, minSigma 1e-8, maxSigma 1e16, eta1 0.1, eta2 0.9, gamma 2. */
    public static final CubicPolicy DEFAULT = new CubicPolicy(1.0, 1e-8, 1e16, 0.1, 0.9, 2.0);

    public CubicPolicy {
        TrustRegionPolicy.positive("initialSigma", initialSigma);
        TrustRegionPolicy.positive("minSigma", minSigma);
        TrustRegionPolicy.positive("maxSigma", maxSigma);
        if (!(minSigma <= initialSigma && initialSigma < maxSigma))
            throw new IllegalArgumentException("initialSigma = " + initialSigma + "; must be in [minSigma = " + minSigma + ", maxSigma = " + maxSigma + ")");
        if (!(eta1 > 0 && eta1 < 1)) throw new IllegalArgumentException("eta1 = " + eta1 + "; must be in (0, 1)");
        if (!(eta2 >= eta1 && eta2 < 1)) throw new IllegalArgumentException("eta2 = " + eta2 + "; must be in [eta1 = " + eta1 + ", 1)");
        if (!(gamma > 1) || Double.isInfinite(gamma)) throw new IllegalArgumentException("gamma = " + gamma + "; must be finite and > 1");
    }

    /**
     * The initial weight sigma0 (the CLI's --sigma0); the minimum weight is lowered to it when it
     * is above (so that minSigma &lt;= initialSigma holds).
     */
    public CubicPolicy withInitialSigma(double sigma0) {
        return toBuilder().initialSigma(sigma0).minSigma(Math.min(minSigma, sigma0)).build();
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
        private double initialSigma, minSigma, maxSigma, eta1, eta2, gamma;

        private Builder(CubicPolicy p) {
            initialSigma = p.initialSigma;
            minSigma = p.minSigma;
            maxSigma = p.maxSigma;
            eta1 = p.eta1;
            eta2 = p.eta2;
            gamma = p.gamma;
        }

        public Builder initialSigma(double v) { initialSigma = v; return this; }

        public Builder minSigma(double v) { minSigma = v; return this; }

        public Builder maxSigma(double v) { maxSigma = v; return this; }

        public Builder eta1(double v) { eta1 = v; return this; }

        public Builder eta2(double v) { eta2 = v; return this; }

        public Builder gamma(double v) { gamma = v; return this; }

        public CubicPolicy build() {
            return new CubicPolicy(initialSigma, minSigma, maxSigma, eta1, eta2, gamma);
        }
    }

    @Override
    public double initial() {
        return initialSigma;
    }

    @Override
    public boolean accept(double rho) {
        return rho >= eta1;
    }

    @Override
    public double update(double sigma, double rho) {
        if (rho >= eta2) return Math.max(sigma / gamma, minSigma);
        if (rho >= eta1) return sigma;
        return sigma * gamma;
    }

    @Override
    public double shrink(double sigma) {
        return sigma * gamma;
    }

    @Override
    public boolean collapsed(double sigma) {
        return sigma > maxSigma;
    }

    /** A finite sigma of at least minSigma. */
    @Override
    public boolean admits(double sigma) {
        return sigma >= minSigma && sigma < Double.POSITIVE_INFINITY;
    }

    @Override
    public boolean isCubic() {
        return true;
    }
}
