package org.adanewton.api;

/**
 * How the outer loop accepts steps and updates its regularization: the trust-region radius Delta or
 * the cubic weight sigma. TR and ARC share one loop and differ only in this policy and the solver.
 *
 * <p>Thread safety: called on the thread that runs the minimizer; an implementation given to
 * minimizers that run at once must be thread-safe, as the built-in immutable policies
 * ({@code TrustRegionPolicy}, {@code CubicPolicy}) are.
 */
public interface RegionPolicy {
    /** Delta_0 or sigma_0. */
    double initial();

    /** Whether a step with ratio rho moves the iterate (rho >= eta1). */
    boolean accept(double rho);

    /** The next Delta or sigma after a valid step with ratio rho. */
    double update(double current, double rho);

    /** The next Delta or sigma after an invalid step (non-finite values): as for an unsuccessful step. */
    double shrink(double current);

    /** True when no further progress is possible (Delta below its minimum, sigma above its maximum). */
    boolean collapsed(double current);

    boolean isCubic();

    /**
     * Whether a restored Delta or sigma is one this policy can reach (a checkpoint's value is checked
     * with it): finite and positive here; the built-in policies also bound it by their maximum radius
     * or minimum sigma.
     */
    default boolean admits(double region) {
        return region > 0 && region < Double.POSITIVE_INFINITY;
    }
}
