package org.adanewton.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import org.adanewton.api.TerminationType;
import org.adanewton.backend.Backend;
import org.adanewton.backend.BackendKind;
import org.adanewton.backend.CurvaturePrecision;
import org.adanewton.backend.Vector;
import org.adanewton.data.Dataset;
import org.adanewton.minimizer.IterationTimes;
import org.adanewton.minimizer.NetworkProblem;
import org.adanewton.nn.Network;

/**
 * Trains a network with one method (TR/ARC with an adaptive norm, or a first-order baseline) for a
 * number of epochs: optional first-order warm start, the pivot safeguard, evaluation of the full
 * training loss and the test loss/accuracy every evalEvery epochs (excluded from the time), metrics
 * (CSV + JSONL), checkpoints (safetensors + JSON, atomic) and exact resume (the CLI draws the plots).
 *
 * <p>The trainer sequences its parts: the phases ({@link FirstOrderPhase} for a warm start or a
 * first-order method, then {@link SecondOrderPhase} for TR/ARC), the {@link PivotSafeguard}, the
 * {@link FlopCounter} and the evaluation and checkpoint schedules; {@link CheckpointCodec} turns
 * their saved states into a checkpoint and back. An epoch is training-set-size samples drawn for
 * gradients (warm start included).
 *
 * <p>Modes (networks with batch norm or dropout): the phases' problems train in training mode, one
 * dropout seed and one model per iteration ({@link NetworkProblem}); the batch norm running
 * statistics are the run's: the phase that runs holds them (the warm start hands them on to the
 * method's phase), the evaluations use them (evaluation mode), the pivot safeguard restores them
 * with the weights, and the checkpoint keeps them in weights.safetensors with PyTorch's names.
 *
 * <p>Thread safety: not thread-safe, except {@link #requestStop} and {@link #awaitFinish}, which
 * any thread may call while {@link #run} runs (the CLI's shutdown hook does). Use everything else
 * from one thread at a time; the {@code Progress} callbacks run on the thread that calls
 * {@code run}.
 */
public final class Trainer implements AutoCloseable {

    /** How a run ended. */
    public record Result(String status, List<MetricsLog.Row> rows, Path outDir, double epochs, String message) {
        public MetricsLog.Row last() {
            return rows.isEmpty() ? null : rows.get(rows.size() - 1);
        }
    }

    /** Receives progress: a row per evaluation, and a fraction of the run after each step. */
    public interface Progress {
        void onEvaluation(MetricsLog.Row row, Trainer trainer);

        default void onStep(double epochs, Trainer trainer) {}

        default void message(String line) {}
    }

    /** The trainer's own state between iterations: iterations, time, the evaluation and checkpoint schedules, and why the run ended ("" while it runs). */
    record Clock(long iterations, double seconds, double nextEval, double nextCheckpoint, String termination) {}

    private final TrainConfig config;
    private final MethodSpec method;
    private final Network network;
    private final Dataset train, test;
    private final Backend backend;
    private final Path outDir;
    private final Progress progress;
    private final Vector w, g;
    /** The method's phase, and the warm start before it (null: none). */
    private final Phase main;
    private final FirstOrderPhase warm;
    /** Null without the safeguard (first-order methods, --pivot-every 0). */
    private final PivotSafeguard pivot;
    private final FlopCounter work;
    private final Evaluator evaluator;
    private final DataSource dataSource;
    private volatile boolean stopRequested;
    /** The run ends at the first evaluation whose training loss is at or below this (NaN: none); see {@link #stopAtLoss}. */
    private double targetLoss = Double.NaN;
    private boolean targetReached;
    private final CountDownLatch finished = new CountDownLatch(1);

    // state between iterations
    private long iterations;
    private double seconds, nextEval, nextCheckpoint;
    private String termination = "";
    /** The method phase's steps in this process, and their wall time (for {@link #profile()}). */
    private long methodSteps, methodStepNanos;
    /** Non-finite first-order steps in a row that end a run, as the minimizer's default for second-order steps. */
    static final int MAX_FIRST_ORDER_INVALID = FirstOrderPhase.MAX_INVALID;

    public Trainer(TrainConfig config, Network network, Dataset train, Dataset test, Backend backend, Path outDir, Progress progress) {
        this.config = config;
        this.method = config.method();
        this.dataSource = DataSource.of(train, test);
        this.network = network;
        int samples = config.trainSamples().orElse(0);
        this.train = samples > 0 && samples < train.size() ? train.subset(0, samples) : train;
        this.test = test;
        this.backend = backend;
        this.outDir = outDir;
        this.progress = progress;
        if (this.train.inputDim() != network.inputDim())
            throw new IllegalArgumentException("the data have " + this.train.inputDim() + " inputs per sample but the network expects " + network.inputDim());
        int n = network.parameterCount(), size = this.train.size();
        boolean pivoting = method.isSecondOrder() && config.pivotEvery().isPresent();
        // every schedule moves by at least one iteration: a shorter interval would evaluate (or checkpoint, or pivot) forever
        requireInterval("evalEvery", config.evalEvery(), config.batch(), size);
        if (config.checkpointEvery().isPresent()) requireInterval("checkpointEvery", config.checkpointEvery().getAsDouble(), config.batch(), size);
        if (pivoting) requireInterval("pivotEvery", config.pivotEvery().getAsDouble(), config.batch(), size);
        w = backend.vector(network.initialize(config.seed()));
        g = backend.allocate(n);
        if (method.isSecondOrder()) {
            int cap = pivoting ? PivotSafeguard.capacity(config, size) : config.batch();
            main = new SecondOrderPhase(new NetworkProblem(backend, network, this.train.inputs(), labels(), targets(), config.batch(), cap,
                    config.hessianBatch().orElse(0), config.curvature(), config.seed()), config, w);
        } else {
            main = new FirstOrderPhase(backend, problem(config.batch(), config.seed()), config.firstOrder(), CheckpointCodec.FIRST_ORDER);
        }
        pivot = pivoting ? new PivotSafeguard(backend, n, network.initialStatistics(), config, size) : null;
        warm = method.isSecondOrder() && config.warmEpochs() > 0
                ? new FirstOrderPhase(backend, problem(config.warmBatch(), config.seed() + 7919), config.warmStart(), CheckpointCodec.WARM)
                : null;
        evaluator = new Evaluator(backend, network);
        work = new FlopCounter(network, config.batch());
    }

    private float[] targets() {
        return network.loss().usesLabels() ? null : train.targets();
    }

    private int[] labels() {
        return network.loss().usesLabels() ? train.labels() : null;
    }

    /** A problem for first-order steps on batches of this size. */
    private NetworkProblem problem(int batch, long seed) {
        return new NetworkProblem(backend, network, train.inputs(), labels(), targets(), batch, 0, config.curvature(), seed);
    }

    /**
     * The first time of a schedule after epoch e: next + k every for the smallest k >= 1 that passes
     * e (in closed form: a restored state may be many intervals behind, and the usual case, k = 1, is
     * next + every exactly).
     */
    static double following(double next, double every, double e) {
        if (next > e + 1e-9) return next;
        double k = Math.floor((e + 1e-9 - next) / every) + 1;
        double t = next + k * every;
        return t > e + 1e-9 ? t : t + every;
    }

    /** An interval of the schedule (in epochs) must be at least one iteration: a batch of the training set. */
    private static void requireInterval(String name, double every, int batch, int size) {
        double iteration = (double) Math.min(batch, size) / size;
        if (!(every >= iteration))
            throw new IllegalArgumentException(String.format(Locale.ROOT, "%s = %s epochs; must be at least one iteration (batch %d of %d samples = %s epochs)",
                    name, every, batch, size, iteration));
    }

    public TrainConfig config() {
        return config;
    }

    public Network network() {
        return network;
    }

    /** Epochs so far: samples drawn for gradients / training-set size. */
    public double epochs() {
        return (warm == null ? 0 : warm.problem().epochs()) + main.problem().epochs();
    }

    /** The current radius (TR) or sigma (ARC), NaN for first-order methods. */
    public double regularization() {
        return main.regularization();
    }

    /**
     * Where the method's iterations in this process spent their time: the minimizer's parts
     * (batch, gradient, norm, solve and its products, trial loss, bookkeeping) and the trainer's
     * whole steps around them. Null for a first-order method.
     *
     * @param minimizer   the method's minimizer's times (its iterations since this trainer started or resumed)
     * @param steps       the trainer's steps of the method
     * @param stepSeconds their wall time (the training time the metrics report, less the warm start)
     */
    public record Profile(IterationTimes minimizer, long steps, double stepSeconds) {
        /** The trainer's own work per step outside the minimizer: flop counts, the schedules, the phase hand-over. */
        public double outside() {
            return stepSeconds - minimizer.total();
        }
    }

    /** The method phase's {@link Profile} so far, or null for a first-order method. */
    public Profile profile() {
        return main instanceof SecondOrderPhase s ? new Profile(s.times(), methodSteps, methodStepNanos * 1e-9) : null;
    }

    /**
     * Ends the run at the first evaluation whose full training loss is at or below target (status
     * "target_reached", a checkpoint written as at any end): for time-to-loss measurements. Not
     * part of the run's configuration (a resumed run is told again); NaN for none.
     */
    public void stopAtLoss(double target) {
        if (!(target > 0) && !Double.isNaN(target))
            throw new IllegalArgumentException("target loss = " + target + "; must be > 0 (a training loss), or NaN for none");
        targetLoss = target;
    }

    /**
     * Runs the method's curvature products at this precision ({@link CurvaturePrecision}; FP32 by
     * default): an execution setting like the backend and threads, not saved with the run (a
     * resumed run is told again). Refused with the backend's reason where it cannot; ignored by
     * first-order methods (they make no products).
     */
    public void setCurvaturePrecision(CurvaturePrecision precision) {
        String why = backend.unsupported(precision);
        if (why != null) throw new IllegalArgumentException("curvature precision " + precision.cliName() + ": " + why);
        if (main instanceof SecondOrderPhase s) s.problem().setCurvaturePrecision(precision);
    }

    /** Asks the run to stop after the current iteration, write a checkpoint and return (thread-safe). */
    public void requestStop() {
        stopRequested = true;
    }

    /** Waits until {@link #run} has returned (for a shutdown hook). */
    public boolean awaitFinish(long millis) throws InterruptedException {
        return finished.await(millis, java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    /**
     * Starts from these weights instead of the seeded initialization (e.g. from {@link Weights#load},
     * a file PyTorch saved): a flat vector of the network's parameter count, every value finite.
     * Call it before {@link #run} with no checkpoint (a resumed run takes its checkpoint's weights);
     * the seed still draws the batches.
     */
    public void startFrom(double[] weights) {
        if (weights.length != network.parameterCount())
            throw new IllegalArgumentException("the initial weights hold " + weights.length + " values; the network has " + network.parameterCount()
                    + " parameters");
        for (int i = 0; i < weights.length; i++)
            if (!Double.isFinite(weights[i])) throw new IllegalArgumentException("the initial weights hold " + weights[i] + " at index " + i
                    + "; values must be finite");
        if (iterations > 0) throw new IllegalStateException("the run has started; initial weights are set before run()");
        backend.set(w, weights);
    }

    /**
     * Starts from a network's state ({@link Weights#loadStateDict}, e.g. PyTorch's state_dict): its
     * parameters as {@link #startFrom(double[])}, and its batch norm running statistics.
     */
    public void startFrom(Weights.StateDict state) {
        startFrom(state.parameters());
        setStatistics(state.statistics());
    }

    /** Sets the run's running statistics on every phase (checked: length, finite, variances >= 0); nothing without batch norm. */
    private void setStatistics(double[] statistics) {
        if (network.statisticsCount() == 0 && statistics.length == 0) return;
        main.problem().setRunningStatistics(statistics);
        if (warm != null) warm.problem().setRunningStatistics(statistics);
    }

    /** A copy of the run's batch norm running statistics (the running phase's; empty without batch norm). */
    public double[] runningStatistics() {
        return current().problem().runningStatistics();
    }

    /** Runs (or continues, when resume is non-null) until the epochs are done, a failure ends it, or a stop is requested. */
    public Result run(Checkpoint.Loaded resume) throws IOException {
        try {
            Files.createDirectories(outDir);
            if (resume != null) restore(resume);
            try (OutputLock lock = OutputLock.acquire(outDir);
                    MetricsLog metrics = resume != null ? MetricsLog.resumed(outDir, iterations) : new MetricsLog(outDir)) {
                String status = loop(metrics);
                if (!status.equals("interrupted") && (metrics.rows().isEmpty() || metrics.rows().get(metrics.rows().size() - 1).epoch() < epochs() - 1e-9))
                    evaluate(metrics);
                writeCheckpoint(outDir.resolve("checkpoint"));
                double finalLoss = metrics.rows().isEmpty() ? Double.NaN : metrics.rows().get(metrics.rows().size() - 1).trainLoss();
                if (status.equals("completed") && !Double.isFinite(finalLoss)) status = "numerical_failure"; // a run that ends on NaN did not work
                String message = switch (status) {
                    case "interrupted" -> String.format(Locale.ROOT, "stopped at epoch %.2f; resume with --resume %s", epochs(), outDir.resolve("checkpoint"));
                    case "completed" -> String.format(Locale.ROOT, "completed %d epochs", config.epochs());
                    case "target_reached" -> String.format(Locale.ROOT, "reached the target training loss %s (%.6g) at epoch %.2f", targetLoss,
                            finalLoss, epochs());
                    case "numerical_failure" -> termination.isEmpty()
                            ? String.format(Locale.ROOT, "ended with a training loss of %s after %d epochs: the run diverged%s", finalLoss, config.epochs(),
                                    firstOrderInvalid() == 0 ? "" : " (" + firstOrderInvalid() + " first-order steps skipped for a non-finite loss or gradient)")
                            : "ended early: " + termination;
                    default -> "ended early: " + termination;
                };
                return new Result(status, List.copyOf(metrics.rows()), outDir, epochs(), message);
            }
        } finally {
            finished.countDown();
        }
    }

    private String loop(MetricsLog metrics) throws IOException {
        while (true) {
            double e = epochs();
            if (e >= nextEval - 1e-9) {
                evaluate(metrics);
                nextEval = following(nextEval, config.evalEvery(), e);
                if (targetReached) return "target_reached";
            }
            if (config.checkpointEvery().isPresent() && e >= nextCheckpoint - 1e-9) {
                nextCheckpoint = following(nextCheckpoint, config.checkpointEvery().getAsDouble(), e);
                if (e > 0) writeCheckpoint(outDir.resolve("checkpoint"));
            }
            if (stopRequested) return "interrupted";
            if (e >= config.epochs() - 1e-9) return "completed";
            long t0 = System.nanoTime();
            Phase stepped = current();
            iterations++;
            TerminationType end = stepped.step(w, g, work);
            Phase next = current();
            if (next != stepped && network.statisticsCount() > 0) // the warm start's last step: the method goes on from its running statistics
                next.problem().setRunningStatistics(stepped.problem().runningStatistics());
            long dt = System.nanoTime() - t0;
            seconds += dt * 1e-9;
            if (stepped == main) {
                methodSteps++;
                methodStepNanos += dt;
            }
            progress.onStep(epochs(), this);
            if (end != null) {
                termination = stepped.termination(end);  // the phase that ended the run, even where its step finished it
                progress.message("the minimizer ended: " + end + ": " + termination);
                return end.name().toLowerCase(Locale.ROOT);
            }
        }
    }

    /** The phase that runs now: the warm start until its epochs are done, then the method's. */
    private Phase current() {
        return warm != null && !warmDone() ? warm : main;
    }

    private boolean warmDone() {
        return warm == null || warm.problem().epochs() >= config.warmEpochs() - 1e-12;
    }

    /** Skipped first-order steps (non-finite loss or gradient) in all: of the run's first-order phase (it has at most one). */
    private long firstOrderInvalid() {
        return main instanceof FirstOrderPhase f ? f.invalid() : warm != null ? warm.invalid() : 0;
    }

    private void evaluate(MetricsLog metrics) throws IOException {
        double[] statistics = runningStatistics();
        Evaluator.Result tr = evaluator.evaluate(w, train, statistics);
        Evaluator.Result te = test == null ? new Evaluator.Result(Double.NaN, Double.NaN) : evaluator.evaluate(w, test, statistics);
        double e = epochs();
        if (pivot != null) pivot.evaluated(e, tr.loss(), warmDone(), w, statistics, main.problem(), progress::message);
        MetricsLog.Row row = new MetricsLog.Row(e, iterations, work.gradients(), work.hvps(), work.gradients() + work.hvps(), work.backprops(), seconds,
                tr.loss(), tr.accuracy(), te.loss(), te.accuracy(), regularization(), main.problem().batchSize());
        metrics.add(row);
        targetReached |= tr.loss() <= targetLoss;
        progress.onEvaluation(row, this);
    }

    /** The saved states of the run's parts. */
    private CheckpointCodec.Parts save() {
        return new CheckpointCodec.Parts(new Clock(iterations, seconds, nextEval, nextCheckpoint, termination), work.save(), main.save(),
                warm == null ? null : warm.save(), pivot == null ? null : pivot.save());
    }

    /** Writes the complete state into dir (atomically). */
    public void writeCheckpoint(Path dir) throws IOException {
        CheckpointCodec.Parts parts = save();
        Checkpoint.State state = new Checkpoint.State(Checkpoint.FORMAT_VERSION, Checkpoint.describe(network), network.parameterCount(), config,
                CheckpointCodec.encode(parts, config), dataSource);
        // num_batches_tracked: the iterations (each updates the running statistics once)
        Checkpoint.write(dir, network, state, new Weights.StateDict(w.toArray(), runningStatistics(), iterations), backend.kind() != BackendKind.JAVA,
                CheckpointCodec.vectors(parts));
    }

    private void restore(Checkpoint.Loaded c) {
        CheckpointCodec.Parts p = CheckpointCodec.decode(c, config, dataSource, save());
        backend.set(w, c.weights());
        setStatistics(c.statistics());
        if (main instanceof FirstOrderPhase f) f.restore((FirstOrderPhase.State) p.main());
        else ((SecondOrderPhase) main).restore((SecondOrderPhase.State) p.main());
        if (warm != null) warm.restore(p.warm());
        if (pivot != null) pivot.restore(p.pivot());
        work.restore(p.work());
        Clock k = p.clock();
        iterations = k.iterations();
        seconds = k.seconds();
        nextEval = k.nextEval();
        nextCheckpoint = k.nextCheckpoint();
        termination = k.termination();
    }

    @Override
    public void close() {
        evaluator.close();
        main.close();
        if (warm != null) warm.close();
        if (pivot != null) pivot.close();
        w.close();
        g.close();
    }
}
