package org.adanewton.train;

import org.adanewton.api.Norm.NormState;
import org.adanewton.minimizer.BatchSampler;
import org.adanewton.minimizer.MinimizerState;

/**
 * The scalars of a training run between iterations (the vectors go to optimizer.safetensors):
 * counters, schedule positions, pivot state, samplers, and the optimizers' scalar state.
 *
 * <p>Thread safety: shallowly immutable: the arrays of its {@code MinimizerState} (null in a saved
 * state) are shared, not copied; do not change them while other threads read it.
 */
public record TrainerState(long iterations, long gradients, long hvps, long lossEvaluations, double flops, double seconds, double nextEval,
        double nextPivot, double nextCheckpoint, double pivotLoss, int batchSize, BatchSampler.State warmSampler, BatchSampler.State mainSampler,
        MinimizerState minimizer, long firstOrderSteps, long warmSteps, String termination, long firstOrderInvalid, long firstOrderInvalidStreak) {

    /** Counters are >= 0, times and schedule positions finite and >= 0, the pivot loss NaN (none yet) or finite, the batch >= 1. */
    public TrainerState {
        long[] counters = {iterations, gradients, hvps, lossEvaluations, firstOrderSteps, warmSteps, firstOrderInvalid, firstOrderInvalidStreak};
        String[] counterNames = {"iterations", "gradients", "hvps", "lossEvaluations", "firstOrderSteps", "warmSteps", "firstOrderInvalid",
                "firstOrderInvalidStreak"};
        for (int i = 0; i < counters.length; i++)
            if (counters[i] < 0) throw new IllegalArgumentException(counterNames[i] + " = " + counters[i] + "; must be >= 0");
        double[] times = {flops, seconds, nextEval, nextPivot, nextCheckpoint};
        String[] timeNames = {"flops", "seconds", "nextEval", "nextPivot", "nextCheckpoint"};
        for (int i = 0; i < times.length; i++)
            if (!(times[i] >= 0 && times[i] < Double.POSITIVE_INFINITY))
                throw new IllegalArgumentException(timeNames[i] + " = " + times[i] + "; must be finite and >= 0");
        if (pivotLoss == Double.NEGATIVE_INFINITY)
            throw new IllegalArgumentException("pivotLoss = " + pivotLoss + "; a loss is >= 0 (NaN: no pivot yet; Infinity: a diverged one)");
        if (batchSize < 1) throw new IllegalArgumentException("batchSize = " + batchSize + "; must be >= 1");
    }

    /** The minimizer's state without its vectors (x, norm accumulator), which are stored as tensors. */
    static MinimizerState scalarsOnly(MinimizerState s) {
        if (s == null) return null;
        return new MinimizerState(s.method(), null, new NormState(s.norm().kind(), s.norm().updates(), null), s.region(), s.iteration(), s.accepted(),
                s.rejected(), s.invalid(), s.invalidStreak(), s.gradients(), s.values(), s.products(), s.krylovIterations(), s.seconds(),
                s.solverSeconds(), s.initialValue());
    }

    /** Puts the vectors back. */
    static MinimizerState withVectors(MinimizerState s, double[] x, double[] accumulator) {
        return new MinimizerState(s.method(), x, new NormState(s.norm().kind(), s.norm().updates(), accumulator), s.region(), s.iteration(),
                s.accepted(), s.rejected(), s.invalid(), s.invalidStreak(), s.gradients(), s.values(), s.products(), s.krylovIterations(), s.seconds(),
                s.solverSeconds(), s.initialValue());
    }
}
