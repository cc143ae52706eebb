package org.adanewton.train;

import java.util.Locale;
import java.util.function.Consumer;
import org.adanewton.backend.Backend;
import org.adanewton.backend.Vector;
import org.adanewton.minimizer.NetworkProblem;

/**
 * The pivot safeguard of a second-order run: at the evaluations on its schedule (every pivotEvery
 * epochs from the end of the warm start), if the full training loss did not improve since the last
 * pivot, undo every step since then (the weights and the batch norm running statistics go back to
 * the pivot's) and grow the batch (x pivotGrowth, capped at pivotCap of the data); else remember
 * these weights and running statistics as the new pivot.
 *
 * <p>Thread safety: not thread-safe (the trainer's thread only).
 */
final class PivotSafeguard implements AutoCloseable {
    /** What a checkpoint keeps: the schedule's next time, the pivot's loss (NaN: none yet), its weights and running statistics. */
    record State(double next, double loss, double[] weights, double[] statistics) {}

    private final Backend backend;
    private final Vector weights;
    private final double every, growth, cap;
    private final int trainSize;
    private double next, loss = Double.NaN;
    /** The pivot's running statistics (empty without batch norm). */
    private double[] statistics;

    /** statistics: the run's initial running statistics. */
    PivotSafeguard(Backend backend, int parameters, double[] statistics, TrainConfig config, int trainSize) {
        this.backend = backend;
        this.every = config.pivotEvery().getAsDouble();
        this.growth = config.pivotGrowth();
        this.cap = config.pivotCap();
        this.trainSize = trainSize;
        this.next = config.warmEpochs();
        this.weights = backend.allocate(parameters);
        this.statistics = statistics.clone();
    }

    /** The largest batch the safeguard may grow to: pivotCap of the data, and at least the run's batch. */
    static int capacity(TrainConfig config, int trainSize) {
        return Math.max(config.batch(), (int) Math.min(trainSize, Math.ceil(config.pivotCap() * trainSize)));
    }

    /**
     * At an evaluation at epoch e with the full training loss, at w with the running statistics
     * current (the problem's): pivots when the schedule is due (after the warm start).
     */
    void evaluated(double e, double trainLoss, boolean warmDone, Vector w, double[] current, NetworkProblem problem, Consumer<String> message) {
        if (!(e >= next - 1e-9 && warmDone)) return;
        pivot(e, trainLoss, w, current, problem, message);
        next = Trainer.following(next, every, e);
    }

    private void pivot(double e, double trainLoss, Vector w, double[] current, NetworkProblem problem, Consumer<String> message) {
        if (Double.isNaN(loss) || trainLoss < loss) {
            loss = trainLoss;
            backend.copy(w, weights);
            statistics = current.clone();
            return;
        }
        backend.copy(weights, w);
        if (statistics.length > 0) problem.setRunningStatistics(statistics);
        int limit = (int) Math.min(trainSize, Math.ceil(cap * trainSize));
        int grown = (int) Math.min(limit, Math.ceil(problem.batchSize() * growth));
        message.accept(String.format(Locale.ROOT, "pivot at epoch %.2f: loss %.6g did not improve on %.6g; steps undone, batch %d -> %d", e, trainLoss,
                loss, problem.batchSize(), grown));
        problem.setBatchSize(Math.max(grown, problem.batchSize()));
    }

    State save() {
        return new State(next, loss, weights.toArray(), statistics.clone());
    }

    void restore(State s) {
        backend.set(weights, s.weights());
        statistics = s.statistics().clone();
        next = s.next();
        loss = s.loss();
    }

    @Override
    public void close() {
        weights.close();
    }
}
