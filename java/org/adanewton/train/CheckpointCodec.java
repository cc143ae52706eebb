package org.adanewton.train;

import java.util.LinkedHashMap;
import java.util.Map;
import org.adanewton.minimizer.FirstOrderOptimizer;

/**
 * A run's state to and from a checkpoint: the parts' saved states ({@link Parts}) as the flat
 * {@link TrainerState} of state.json (its format unchanged) plus the vectors of
 * optimizer.safetensors, and back, with the checks a resume makes first (every vector the run keeps
 * is there, the data are the ones it was trained on).
 *
 * <p>Thread safety: stateless: safe to use from any thread.
 */
final class CheckpointCodec {
    /**
     * The saved states of a run's parts; warm and pivot are null in runs without a warm start or a
     * pivot safeguard.
     */
    record Parts(Trainer.Clock clock, FlopCounter.State work, Phase.State main, FirstOrderPhase.State warm, PivotSafeguard.State pivot) {}

    static final String NORM = "norm.accumulator", FIRST_ORDER = "optimizer", WARM = "warm", PIVOT = "pivot.weights";

    private CheckpointCodec() {}

    /** The scalars of state.json (the vectors left out: {@link #vectors}); config: the run's (its warm start's epochs place an idle pivot schedule). */
    static TrainerState encode(Parts p, TrainConfig config) {
        Trainer.Clock c = p.clock();
        FlopCounter.State f = p.work();
        FirstOrderPhase.State firstOrder = p.main() instanceof FirstOrderPhase.State s ? s : null;
        SecondOrderPhase.State secondOrder = p.main() instanceof SecondOrderPhase.State s ? s : null;
        FirstOrderPhase.State failures = firstOrder != null ? firstOrder : p.warm(); // a run has at most one first-order phase
        int batchSize = firstOrder != null ? firstOrder.batchSize() : secondOrder.batchSize();
        return new TrainerState(c.iterations(), f.gradients(), f.hvps(), f.lossEvaluations(), f.flops(), c.seconds(), c.nextEval(),
                p.pivot() == null ? config.warmEpochs() : p.pivot().next(), c.nextCheckpoint(), p.pivot() == null ? Double.NaN : p.pivot().loss(),
                batchSize, p.warm() == null ? null : p.warm().sampler(), firstOrder != null ? firstOrder.sampler() : secondOrder.sampler(),
                secondOrder == null ? null : TrainerState.scalarsOnly(secondOrder.minimizer()), firstOrder == null ? 0 : firstOrder.optimizer().steps(),
                p.warm() == null ? 0 : p.warm().optimizer().steps(), c.termination(), failures == null ? 0 : failures.invalid(),
                failures == null ? 0 : failures.invalidStreak());
    }

    /**
     * The vectors of optimizer.safetensors: the norm's accumulator, the first-order moments, the
     * pivot's weights and running statistics (those the run has).
     */
    static Map<String, double[]> vectors(Parts p) {
        Map<String, double[]> vectors = new LinkedHashMap<>();
        if (p.main() instanceof SecondOrderPhase.State s) vectors.put(NORM, s.minimizer().norm().accumulator());
        if (p.main() instanceof FirstOrderPhase.State s) put(vectors, FIRST_ORDER, s.optimizer());
        if (p.warm() != null) put(vectors, WARM, p.warm().optimizer());
        if (p.pivot() != null) vectors.put(PIVOT, p.pivot().weights());
        if (p.pivot() != null && p.pivot().statistics().length > 0) vectors.put(Checkpoint.PIVOT_STATISTICS, p.pivot().statistics());
        return vectors;
    }

    private static void put(Map<String, double[]> vectors, String prefix, FirstOrderOptimizer.State s) {
        if (s.m() != null) vectors.put(prefix + ".m", s.m());
        if (s.v() != null) vectors.put(prefix + ".v", s.v());
    }

    /**
     * The parts a checkpoint holds for a run shaped like current (the same kinds of parts), after
     * the checks: every vector current keeps is in the checkpoint, and the data are the run's (data:
     * the data of this run).
     */
    static Parts decode(Checkpoint.Loaded c, TrainConfig config, DataSource data, Parts current) {
        Map<String, double[]> vectors = c.vectors();
        for (String name : vectors(current).keySet())
            if (!vectors.containsKey(name))
                throw new IllegalArgumentException("the checkpoint's optimizer.safetensors lacks the tensor '" + name + "' that a " + config.method().name()
                        + " run keeps; it holds " + vectors.keySet());
        DataSource recorded = c.state().data();
        if (recorded != null && !recorded.sameData(data))
            throw new IllegalArgumentException("the checkpoint was trained on " + recorded.describe() + ", not on these data (" + data.describe()
                    + "); resume on the same data (" + recorded.source() + "), or continue on other data on purpose with Checkpoint.Loaded.onData");
        TrainerState ts = c.state().trainer();
        Phase.State main;
        if (current.main() instanceof SecondOrderPhase.State) {
            if (ts.minimizer() == null) throw new IllegalArgumentException("the checkpoint has no second-order state for method " + config.method().name());
            main = new SecondOrderPhase.State(TrainerState.withVectors(ts.minimizer(), c.weights(), vectors.get(NORM)), ts.mainSampler(), ts.batchSize());
        } else {
            main = new FirstOrderPhase.State(optimizer(ts.firstOrderSteps(), vectors, FIRST_ORDER), ts.mainSampler(), ts.batchSize(), ts.firstOrderInvalid(),
                    ts.firstOrderInvalidStreak());
        }
        FirstOrderPhase.State warm = current.warm() == null ? null
                : new FirstOrderPhase.State(optimizer(ts.warmSteps(), vectors, WARM), ts.warmSampler(), current.warm().batchSize(), ts.firstOrderInvalid(),
                        ts.firstOrderInvalidStreak());
        PivotSafeguard.State pivot = current.pivot() == null ? null
                : new PivotSafeguard.State(ts.nextPivot(), ts.pivotLoss(), vectors.get(PIVOT),
                        vectors.getOrDefault(Checkpoint.PIVOT_STATISTICS, current.pivot().statistics()));
        Trainer.Clock clock = new Trainer.Clock(ts.iterations(), ts.seconds(), ts.nextEval(), ts.nextCheckpoint(),
                ts.termination() == null ? "" : ts.termination());
        return new Parts(clock, new FlopCounter.State(ts.gradients(), ts.hvps(), ts.lossEvaluations(), ts.flops()), main, warm, pivot);
    }

    /** A first-order optimizer's state (its kind is the run's: the phase restoring it puts it in). */
    private static FirstOrderOptimizer.State optimizer(long steps, Map<String, double[]> vectors, String prefix) {
        return new FirstOrderOptimizer.State(null, steps, vectors.get(prefix + ".m"), vectors.get(prefix + ".v"));
    }
}
