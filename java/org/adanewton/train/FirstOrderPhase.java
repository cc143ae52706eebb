package org.adanewton.train;

import java.util.Locale;
import org.adanewton.api.TerminationType;
import org.adanewton.backend.Backend;
import org.adanewton.backend.Vector;
import org.adanewton.minimizer.BatchSampler;
import org.adanewton.minimizer.FirstOrderOptimizer;
import org.adanewton.minimizer.FirstOrderOptions;
import org.adanewton.minimizer.NetworkProblem;

/**
 * First-order steps on a problem: a first-order method's whole run, or the warm start of a
 * second-order one. A non-finite loss or gradient skips the step and is counted, and
 * {@value #MAX_INVALID} of them in a row end the run with NUMERICAL_FAILURE.
 *
 * <p>Thread safety: not thread-safe (the trainer's thread only).
 */
final class FirstOrderPhase implements Phase {
    /** Non-finite first-order steps in a row that end a run, as the minimizer's default for second-order steps. */
    static final int MAX_INVALID = 20;

    /**
     * What a checkpoint keeps of the phase: the optimizer (its vectors included), the sampler, the
     * batch size, and the skipped steps (in all and in a row).
     */
    record State(FirstOrderOptimizer.State optimizer, BatchSampler.State sampler, int batchSize, long invalid, long invalidStreak) implements Phase.State {}

    private final Backend backend;
    private final NetworkProblem problem;
    private final FirstOrderOptions options;
    private final FirstOrderOptimizer optimizer;
    private final String prefix;
    private long invalid, invalidStreak;

    /** prefix: the name of its vectors in optimizer.safetensors ("optimizer" for a first-order method, "warm" for a warm start). */
    FirstOrderPhase(Backend backend, NetworkProblem problem, FirstOrderOptions options, String prefix) {
        this.backend = backend;
        this.problem = problem;
        this.options = options;
        this.prefix = prefix;
        this.optimizer = new FirstOrderOptimizer(backend, problem.dimension(), options);
    }

    @Override
    public NetworkProblem problem() {
        return problem;
    }

    String prefix() {
        return prefix;
    }

    /** Skipped steps (non-finite loss or gradient) in all. */
    long invalid() {
        return invalid;
    }

    @Override
    public TerminationType step(Vector w, Vector g, FlopCounter flops) {
        problem.advance();
        double f = problem.gradient(w, g);
        flops.gradient(problem.rows());
        if (Double.isFinite(f) && backend.countNonFinite(g) == 0) {
            optimizer.step(w, g);
            invalidStreak = 0;
            return null;
        }
        invalid++;
        return ++invalidStreak >= MAX_INVALID ? TerminationType.NUMERICAL_FAILURE : null;
    }

    @Override
    public String termination(TerminationType end) {
        return String.format(Locale.ROOT, "%d first-order steps in a row had a non-finite loss or gradient (%d in all); the learning rate "
                + "is probably too large", invalidStreak, invalid);
    }

    @Override
    public double regularization() {
        return Double.NaN;
    }

    @Override
    public State save() {
        return new State(optimizer.saveState(), problem.sampler().state(), problem.batchSize(), invalid, invalidStreak);
    }

    void restore(State s) {
        FirstOrderOptimizer.State o = s.optimizer();
        optimizer.restoreState(new FirstOrderOptimizer.State(options.label(), o.steps(), o.m(), o.v()));
        problem.sampler().restore(s.sampler());
        problem.setBatchSize(s.batchSize());
        invalid = s.invalid();
        invalidStreak = s.invalidStreak();
    }

    @Override
    public void close() {
        optimizer.close();
        problem.close();
    }
}
