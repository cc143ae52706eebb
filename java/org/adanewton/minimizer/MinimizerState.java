package org.adanewton.minimizer;

import org.adanewton.api.Norm.NormState;

/**
 * Everything a {@link Minimizer} needs to continue a run exactly where it stopped.
 *
 * <p>Thread safety: shallowly immutable: its arrays are shared, not copied; do not change them
 * while other threads read it.
 */
public record MinimizerState(String method, double[] x, NormState norm, double region, int iteration, int accepted, int rejected,
        int invalid, int invalidStreak, long gradients, long values, long products, long krylovIterations, double seconds,
        double solverSeconds, double initialValue) {}
