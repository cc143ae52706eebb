package org.adanewton.train;

import java.util.OptionalInt;
import org.adanewton.api.TerminationType;
import org.adanewton.backend.Vector;
import org.adanewton.minimizer.BatchSampler;
import org.adanewton.minimizer.IterationTimes;
import org.adanewton.minimizer.Minimizer;
import org.adanewton.minimizer.MinimizerOptions;
import org.adanewton.minimizer.MinimizerState;
import org.adanewton.minimizer.NetworkProblem;

/**
 * TR/ARC iterations with an adaptive norm (the {@link Minimizer}, one {@code next()} per
 * iteration, without its own stopping tests); a collapsed region or a numerical failure ends the
 * run.
 *
 * <p>Thread safety: not thread-safe (the trainer's thread only).
 */
final class SecondOrderPhase implements Phase {
    /** What a checkpoint keeps of the phase: the minimizer (its vectors included), the sampler and the batch size (the pivot grows it). */
    record State(MinimizerState minimizer, BatchSampler.State sampler, int batchSize) implements Phase.State {}

    private final NetworkProblem problem;
    private final Minimizer minimizer;
    private final OptionalInt hessianBatch;

    SecondOrderPhase(NetworkProblem problem, TrainConfig config, Vector w) {
        this.problem = problem;
        this.hessianBatch = config.hessianBatch();
        MinimizerOptions o = MinimizerOptions.builder().method(config.method().method()).norm(config.norm()).krylov(config.krylov())
                .trustRegion(config.trustRegion()).cubic(config.cubic()).gradientTolerance(0).maxIterations(Integer.MAX_VALUE).keepHistory(false)
                .build();
        this.minimizer = new Minimizer(problem, o, w);
    }

    @Override
    public NetworkProblem problem() {
        return problem;
    }

    @Override
    public TerminationType step(Vector w, Vector g, FlopCounter flops) {
        long g0 = minimizer.gradients(), h0 = minimizer.products(), v0 = minimizer.functionValues();
        TerminationType end = minimizer.next();
        flops.secondOrder(minimizer.gradients() - g0, minimizer.products() - h0, minimizer.functionValues() - v0, problem.rows(), hessianBatch);
        return end == TerminationType.REGION_COLLAPSED || end == TerminationType.NUMERICAL_FAILURE ? end : null;
    }

    /** Where this phase's iterations spent their time. */
    IterationTimes times() {
        return minimizer.times();
    }

    @Override
    public String termination(TerminationType end) {
        return minimizer.summary(end).message();
    }

    @Override
    public double regularization() {
        return minimizer.regularization();
    }

    @Override
    public State save() {
        return new State(minimizer.saveState(), problem.sampler().state(), problem.batchSize());
    }

    void restore(State s) {
        minimizer.restoreState(s.minimizer());
        problem.sampler().restore(s.sampler());
        problem.setBatchSize(s.batchSize());
    }

    @Override
    public void close() {
        minimizer.close();
        problem.close();
    }
}
