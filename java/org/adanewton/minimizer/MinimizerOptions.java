package org.adanewton.minimizer;

import org.adanewton.norm.NormKind;
import org.adanewton.norm.NormOptions;
import org.adanewton.subproblem.KrylovOptions;

/**
 * Everything the outer loop needs, validated at construction (messages name the option, the value
 * and the rule). Build with {@link #builder()}.
 *
 * <p>Thread safety: immutable: safe to share between threads (its Builder is not thread-safe).
 *
 * @param method               solver and region kind
 * @param norm                 the ellipsoid's norm (also the CG preconditioner)
 * @param krylov               subproblem iteration limit and stopping rule
 * @param trustRegion          radius policy (TR methods)
 * @param cubic                sigma policy (ARC methods)
 * @param gradientTolerance    stop when ||g||_2 &lt;= this (CONVERGENCE); 0 disables
 * @param maxIterations        outer iterations (MAX_ITERATIONS)
 * @param maxEpochs            epochs for stochastic problems (MAX_EPOCHS); infinity disables
 * @param maxSeconds           wall-clock limit (TIME_LIMIT); infinity disables
 * @param maxConsecutiveInvalid invalid steps in a row before NUMERICAL_FAILURE
 * @param ratioGuard           round-off guard: when pred and |ared| are both &lt;= ratioGuard max(1, |f|),
 *                             rho is taken as 1 (the decrease is below what f's rounding can resolve)
 * @param keepHistory          keep every IterationSummary in the Summary
 */
public record MinimizerOptions(Method method, NormOptions norm, KrylovOptions krylov, TrustRegionPolicy trustRegion, CubicPolicy cubic,
        double gradientTolerance, int maxIterations, double maxEpochs, double maxSeconds, int maxConsecutiveInvalid, double ratioGuard,
        boolean keepHistory) {

    public MinimizerOptions {
        if (method == null) throw new IllegalArgumentException("method is null");
        if (norm == null || krylov == null || trustRegion == null || cubic == null)
            throw new IllegalArgumentException("norm, krylov, trustRegion and cubic options must not be null");
        if (!(gradientTolerance >= 0) || Double.isInfinite(gradientTolerance))
            throw new IllegalArgumentException("gradientTolerance = " + gradientTolerance + "; must be finite and >= 0");
        if (maxIterations < 0) throw new IllegalArgumentException("maxIterations = " + maxIterations + "; must be >= 0");
        if (!(maxEpochs > 0)) throw new IllegalArgumentException("maxEpochs = " + maxEpochs + "; must be > 0");
        if (!(maxSeconds > 0)) throw new IllegalArgumentException("maxSeconds = " + maxSeconds + "; must be > 0");
        if (maxConsecutiveInvalid < 1)
            throw new IllegalArgumentException("maxConsecutiveInvalid = " + maxConsecutiveInvalid + "; must be >= 1");
        if (!(ratioGuard >= 0 && ratioGuard < 1e-3)) throw new IllegalArgumentException("ratioGuard = " + ratioGuard + "; must be in [0, 1e-3)");
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.method = method;
        b.norm = norm;
        b.krylov = krylov;
        b.trustRegion = trustRegion;
        b.cubic = cubic;
        b.gradientTolerance = gradientTolerance;
        b.maxIterations = maxIterations;
        b.maxEpochs = maxEpochs;
        b.maxSeconds = maxSeconds;
        b.maxConsecutiveInvalid = maxConsecutiveInvalid;
        b.ratioGuard = ratioGuard;
        b.keepHistory = keepHistory;
        return b;
    }

    public static final class Builder {
        private Method method = Method.TR_STEIHAUG;
        private NormOptions norm = NormOptions.of(NormKind.UNIFORM);
        private KrylovOptions krylov = KrylovOptions.DEFAULT;
        private TrustRegionPolicy trustRegion = TrustRegionPolicy.DEFAULT;
        private CubicPolicy cubic = CubicPolicy.DEFAULT;
        private double gradientTolerance = 1e-8;
        private int maxIterations = 1000;
        private double maxEpochs = Double.POSITIVE_INFINITY;
        private double maxSeconds = Double.POSITIVE_INFINITY;
        private int maxConsecutiveInvalid = 20;
        private double ratioGuard = 1e-15;
        private boolean keepHistory = true;

        public Builder method(Method v) { method = v; return this; }

        public Builder norm(NormOptions v) { norm = v; return this; }

        public Builder norm(NormKind v) { norm = NormOptions.of(v); return this; }

        public Builder krylov(KrylovOptions v) { krylov = v; return this; }

        public Builder trustRegion(TrustRegionPolicy v) { trustRegion = v; return this; }

        public Builder cubic(CubicPolicy v) { cubic = v; return this; }

        public Builder gradientTolerance(double v) { gradientTolerance = v; return this; }

        public Builder maxIterations(int v) { maxIterations = v; return this; }

        public Builder maxEpochs(double v) { maxEpochs = v; return this; }

        public Builder maxSeconds(double v) { maxSeconds = v; return this; }

        public Builder maxConsecutiveInvalid(int v) { maxConsecutiveInvalid = v; return this; }

        public Builder ratioGuard(double v) { ratioGuard = v; return this; }

        public Builder keepHistory(boolean v) { keepHistory = v; return this; }

        public MinimizerOptions build() {
            return new MinimizerOptions(method, norm, krylov, trustRegion, cubic, gradientTolerance, maxIterations, maxEpochs, maxSeconds,
                    maxConsecutiveInvalid, ratioGuard, keepHistory);
        }
    }
}
