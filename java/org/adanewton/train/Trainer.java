package org.adanewton.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.function.Consumer;
import org.adanewton.api.TerminationType;
import org.adanewton.backend.Backend;
import org.adanewton.backend.BackendKind;
import org.adanewton.backend.Vector;
import org.adanewton.data.Dataset;
import org.adanewton.minimizer.FirstOrderOptimizer;
import org.adanewton.minimizer.Minimizer;
import org.adanewton.minimizer.MinimizerOptions;
import org.adanewton.minimizer.MinimizerState;
import org.adanewton.minimizer.NetworkProblem;
import org.adanewton.nn.Network;

/**
 * Trains a network with one method (TR/ARC with an adaptive norm, or a first-order baseline) for a
 * number of epochs: optional first-order warm start, the pivot safeguard, evaluation of the full
 * training loss and the test loss/accuracy every evalEvery epochs (excluded from the time), metrics
 * (CSV + JSONL), checkpoints (safetensors + JSON, atomic) and exact resume (the CLI draws the plots).
 *
 * <p>Counts: gradients and HVPs (one backprop each, as the authors count), trial loss evaluations,
 * and matrix FLOPs; flop_backprops = FLOPs / FLOPs of one gradient on a batch of the run's batch
 * size. An epoch is training-set-size samples drawn for gradients (warm start included).
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

    private final TrainConfig config;
    private final MethodSpec method;
    private final Network network;
    private final Dataset train, test;
    private final Backend backend;
    private final Path outDir;
    private final Progress progress;
    private final Vector w, g;
    private final NetworkProblem mainProblem, warmProblem;
    private final Minimizer minimizer;
    private final FirstOrderOptimizer firstOrder, warmOptimizer;
    private final Vector pivotWeights;
    private final Evaluator evaluator;
    private final DataSource dataSource;
    private final double gradientFlops, hvpFlops, forwardFlops;
    private volatile boolean stopRequested;
    private final CountDownLatch finished = new CountDownLatch(1);

    // state between iterations
    private long iterations, gradients, hvps, lossEvaluations, warmSteps, firstOrderSteps;
    private double flops, seconds, nextEval, nextPivot, nextCheckpoint, pivotLoss = Double.NaN;
    private String termination = "";
    /** Skipped first-order steps (non-finite loss or gradient): in all, and in a row. */
    private long firstOrderInvalid, firstOrderInvalidStreak;
    /** Non-finite first-order steps in a row that end a run, as the minimizer's default for second-order steps. */
    static final int MAX_FIRST_ORDER_INVALID = 20;

    public Trainer(TrainConfig config, Network network, Dataset train, Dataset test, Backend backend, Path outDir, Progress progress) {
        this.config = config;
        this.method = config.methodSpec();
        this.dataSource = DataSource.of(train, test);
        this.network = network;
        this.train = config.trainSamples() > 0 && config.trainSamples() < train.size() ? train.subset(0, config.trainSamples()) : train;
        this.test = test;
        this.backend = backend;
        this.outDir = outDir;
        this.progress = progress;
        if (this.train.inputDim() != network.inputDim())
            throw new IllegalArgumentException("the data have " + this.train.inputDim() + " inputs per sample but the network expects " + network.inputDim());
        int n = network.parameterCount(), size = this.train.size();
        // every schedule moves by at least one iteration: a shorter interval would evaluate (or checkpoint, or pivot) forever
        requireInterval("evalEvery", config.evalEvery(), config.batch(), size);
        if (config.checkpointEvery() > 0) requireInterval("checkpointEvery", config.checkpointEvery(), config.batch(), size);
        if (method.isSecondOrder() && config.pivotEvery() > 0) requireInterval("pivotEvery", config.pivotEvery(), config.batch(), size);
        w = backend.vector(network.initialize(config.seed()));
        g = backend.allocate(n);
        float[] targets = network.loss().usesLabels() ? null : this.train.targets();
        int[] labels = network.loss().usesLabels() ? this.train.labels() : null;
        if (method.isSecondOrder()) {
            int cap = config.pivotEvery() > 0 ? Math.max(config.batch(), (int) Math.min(size, Math.ceil(config.pivotCap() * size))) : config.batch();
            mainProblem = new NetworkProblem(backend, network, this.train.inputs(), labels, targets, config.batch(), cap, config.hessianBatch(),
                    config.curvature(), config.seed());
            MinimizerOptions o = MinimizerOptions.builder().method(method.method()).norm(config.norm()).krylov(config.krylov())
                    .trustRegion(config.trustRegion()).cubic(config.cubic()).gradientTolerance(0).maxIterations(Integer.MAX_VALUE).keepHistory(false)
                    .build();
            minimizer = new Minimizer(mainProblem, o, w);
            firstOrder = null;
            pivotWeights = config.pivotEvery() > 0 ? backend.allocate(n) : null;
        } else {
            mainProblem = new NetworkProblem(backend, network, this.train.inputs(), labels, targets, config.batch(), 0, config.curvature(), config.seed());
            minimizer = null;
            firstOrder = new FirstOrderOptimizer(backend, n, config.firstOrder());
            pivotWeights = null;
        }
        if (method.isSecondOrder() && config.warmEpochs() > 0) {
            warmProblem = new NetworkProblem(backend, network, this.train.inputs(), labels, targets, config.warmBatch(), 0, config.curvature(),
                    config.seed() + 7919);
            warmOptimizer = new FirstOrderOptimizer(backend, n, config.warmStart());
        } else {
            warmProblem = null;
            warmOptimizer = null;
        }
        evaluator = new Evaluator(backend, network);
        gradientFlops = network.gradientFlopsPerSample();
        hvpFlops = network.hvpCachedFlopsPerSample();
        forwardFlops = network.forwardFlopsPerSample();
        nextPivot = config.warmEpochs();
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
        return (warmProblem == null ? 0 : warmProblem.epochs()) + mainProblem.epochs();
    }

    /** The current radius (TR) or sigma (ARC), NaN for first-order methods. */
    public double regularization() {
        return minimizer == null ? Double.NaN : minimizer.regularization();
    }

    /** Asks the run to stop after the current iteration, write a checkpoint and return (thread-safe). */
    public void requestStop() {
        stopRequested = true;
    }

    /** Waits until {@link #run} has returned (for a shutdown hook). */
    public boolean awaitFinish(long millis) throws InterruptedException {
        return finished.await(millis, java.util.concurrent.TimeUnit.MILLISECONDS);
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
                    case "numerical_failure" -> termination.isEmpty()
                            ? String.format(Locale.ROOT, "ended with a training loss of %s after %d epochs: the run diverged%s", finalLoss, config.epochs(),
                                    firstOrderInvalid == 0 ? "" : " (" + firstOrderInvalid + " first-order steps skipped for a non-finite loss or gradient)")
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
            }
            if (config.checkpointEvery() > 0 && e >= nextCheckpoint - 1e-9) {
                nextCheckpoint = following(nextCheckpoint, config.checkpointEvery(), e);
                if (e > 0) writeCheckpoint(outDir.resolve("checkpoint"));
            }
            if (stopRequested) return "interrupted";
            if (e >= config.epochs() - 1e-9) return "completed";
            long t0 = System.nanoTime();
            TerminationType end = step();
            seconds += (System.nanoTime() - t0) * 1e-9;
            progress.onStep(epochs(), this);
            if (end != null) {
                termination = minimizer != null ? minimizer.summary(end).message()
                        : String.format(Locale.ROOT, "%d first-order steps in a row had a non-finite loss or gradient (%d in all); the learning rate "
                                + "is probably too large", firstOrderInvalidStreak, firstOrderInvalid);
                progress.message("the minimizer ended: " + end + ": " + termination);
                return end.name().toLowerCase(Locale.ROOT);
            }
        }
    }

    /** One iteration of the current phase. Returns a termination of the second-order loop, else null. */
    private TerminationType step() {
        iterations++;
        if (warmProblem != null && warmProblem.epochs() < config.warmEpochs() - 1e-12) {
            warmSteps++;
            return firstOrderStep(warmProblem, warmOptimizer);
        }
        if (firstOrder != null) {
            firstOrderSteps++;
            return firstOrderStep(mainProblem, firstOrder);
        }
        long g0 = minimizer.gradients(), h0 = minimizer.products(), v0 = minimizer.functionValues();
        TerminationType end = minimizer.next();
        long dg = minimizer.gradients() - g0, dh = minimizer.products() - h0, dv = minimizer.functionValues() - v0;
        int rows = mainProblem.rows(), hRows = config.hessianBatch() > 0 ? Math.min(rows, config.hessianBatch()) : rows;
        gradients += dg;
        hvps += dh;
        lossEvaluations += dv;
        flops += dg * gradientFlops * rows + dh * hvpFlops * hRows + dv * forwardFlops * rows
                + (config.hessianBatch() > 0 ? dg * gradientFlops * hRows : 0);
        return end == TerminationType.REGION_COLLAPSED || end == TerminationType.NUMERICAL_FAILURE ? end : null;
    }

    /**
     * One first-order step; a non-finite loss or gradient skips it and is counted, and
     * {@value #MAX_FIRST_ORDER_INVALID} of them in a row end the run with NUMERICAL_FAILURE (returned).
     */
    private TerminationType firstOrderStep(NetworkProblem problem, FirstOrderOptimizer optimizer) {
        problem.advance();
        double f = problem.gradient(w, g);
        gradients++;
        flops += gradientFlops * problem.rows();
        if (Double.isFinite(f) && backend.countNonFinite(g) == 0) {
            optimizer.step(w, g);
            firstOrderInvalidStreak = 0;
            return null;
        }
        firstOrderInvalid++;
        return ++firstOrderInvalidStreak >= MAX_FIRST_ORDER_INVALID ? TerminationType.NUMERICAL_FAILURE : null;
    }

    private void evaluate(MetricsLog metrics) throws IOException {
        Evaluator.Result tr = evaluator.evaluate(w, train);
        Evaluator.Result te = test == null ? new Evaluator.Result(Double.NaN, Double.NaN) : evaluator.evaluate(w, test);
        double e = epochs();
        if (pivotWeights != null && e >= nextPivot - 1e-9 && (warmProblem == null || warmProblem.epochs() >= config.warmEpochs() - 1e-12)) {
            pivot(tr.loss());
            nextPivot = following(nextPivot, config.pivotEvery(), e);
        }
        double perGradient = gradientFlops * config.batch();
        MetricsLog.Row row = new MetricsLog.Row(e, iterations, gradients, hvps, gradients + hvps, flops / perGradient, seconds, tr.loss(), tr.accuracy(),
                te.loss(), te.accuracy(), regularization(), mainProblem.batchSize());
        metrics.add(row);
        progress.onEvaluation(row, this);
    }

    /**
     * The pivot safeguard: if the full training loss did not improve since the last pivot, undo
     * every step since then and grow the batch (x pivotGrowth, capped at pivotCap of the data).
     */
    private void pivot(double loss) {
        if (Double.isNaN(pivotLoss) || loss < pivotLoss) {
            pivotLoss = loss;
            backend.copy(w, pivotWeights);
            return;
        }
        backend.copy(pivotWeights, w);
        int cap = (int) Math.min(train.size(), Math.ceil(config.pivotCap() * train.size()));
        int grown = (int) Math.min(cap, Math.ceil(mainProblem.batchSize() * config.pivotGrowth()));
        progress.message(String.format(Locale.ROOT, "pivot at epoch %.2f: loss %.6g did not improve on %.6g; steps undone, batch %d -> %d", epochs(), loss,
                pivotLoss, mainProblem.batchSize(), grown));
        mainProblem.setBatchSize(Math.max(grown, mainProblem.batchSize()));
    }

    /** Writes the complete state into dir (atomically). */
    public void writeCheckpoint(Path dir) throws IOException {
        MinimizerState ms = minimizer == null ? null : minimizer.saveState();
        Map<String, double[]> vectors = optimizerVectors(ms);
        TrainerState ts = new TrainerState(iterations, gradients, hvps, lossEvaluations, flops, seconds, nextEval, nextPivot, nextCheckpoint, pivotLoss,
                mainProblem.batchSize(), warmProblem == null ? null : warmProblem.sampler().state(), mainProblem.sampler().state(),
                TrainerState.scalarsOnly(ms), firstOrder == null ? 0 : firstOrder.steps(), warmOptimizer == null ? 0 : warmOptimizer.steps(), termination,
                firstOrderInvalid, firstOrderInvalidStreak);
        Checkpoint.State state = new Checkpoint.State(Checkpoint.FORMAT_VERSION, Checkpoint.describe(network), network.parameterCount(), config, ts,
                dataSource);
        Checkpoint.write(dir, network, state, w.toArray(), backend.kind() != BackendKind.JAVA, vectors);
    }

    /** The optimizer vectors a checkpoint of this run holds (ms: the minimizer's saved state, or null without one). */
    private Map<String, double[]> optimizerVectors(MinimizerState ms) {
        Map<String, double[]> vectors = new LinkedHashMap<>();
        if (ms != null) vectors.put("norm.accumulator", ms.norm().accumulator());
        if (firstOrder != null) put(vectors, "optimizer", firstOrder.saveState());
        if (warmOptimizer != null) put(vectors, "warm", warmOptimizer.saveState());
        if (pivotWeights != null) vectors.put("pivot.weights", pivotWeights.toArray());
        return vectors;
    }

    private static void put(Map<String, double[]> vectors, String prefix, FirstOrderOptimizer.State s) {
        if (s.m() != null) vectors.put(prefix + ".m", s.m());
        if (s.v() != null) vectors.put(prefix + ".v", s.v());
    }

    private void restore(Checkpoint.Loaded c) {
        for (String name : optimizerVectors(minimizer == null ? null : minimizer.saveState()).keySet())
            if (!c.vectors().containsKey(name))
                throw new IllegalArgumentException("the checkpoint's optimizer.safetensors lacks the tensor '" + name + "' that a " + config.method()
                        + " run keeps; it holds " + c.vectors().keySet());
        DataSource recorded = c.state().data();
        if (recorded != null && !recorded.sameData(dataSource))
            throw new IllegalArgumentException("the checkpoint was trained on " + recorded.describe() + ", not on these data (" + dataSource.describe()
                    + "); resume on the same data (" + recorded.source() + "), or continue on other data on purpose with Checkpoint.Loaded.onData");
        TrainerState ts = c.state().trainer();
        backend.set(w, c.weights());
        if (minimizer != null) {
            if (ts.minimizer() == null) throw new IllegalArgumentException("the checkpoint has no second-order state for method " + config.method());
            minimizer.restoreState(TrainerState.withVectors(ts.minimizer(), c.weights(), c.vectors().get("norm.accumulator")));
        }
        if (firstOrder != null)
            firstOrder.restoreState(new FirstOrderOptimizer.State(config.firstOrder().label(), ts.firstOrderSteps(), c.vectors().get("optimizer.m"),
                    c.vectors().get("optimizer.v")));
        if (warmOptimizer != null) {
            warmOptimizer.restoreState(new FirstOrderOptimizer.State(config.warmStart().label(), ts.warmSteps(), c.vectors().get("warm.m"),
                    c.vectors().get("warm.v")));
            warmProblem.sampler().restore(ts.warmSampler());
        }
        if (pivotWeights != null) backend.set(pivotWeights, c.vectors().get("pivot.weights"));
        mainProblem.sampler().restore(ts.mainSampler());
        mainProblem.setBatchSize(ts.batchSize());
        iterations = ts.iterations();
        gradients = ts.gradients();
        hvps = ts.hvps();
        lossEvaluations = ts.lossEvaluations();
        flops = ts.flops();
        seconds = ts.seconds();
        nextEval = ts.nextEval();
        nextPivot = ts.nextPivot();
        nextCheckpoint = ts.nextCheckpoint();
        pivotLoss = ts.pivotLoss();
        warmSteps = ts.warmSteps();
        firstOrderSteps = ts.firstOrderSteps();
        termination = ts.termination() == null ? "" : ts.termination();
        firstOrderInvalid = ts.firstOrderInvalid();
        firstOrderInvalidStreak = ts.firstOrderInvalidStreak();
    }

    @Override
    public void close() {
        evaluator.close();
        if (minimizer != null) minimizer.close();
        if (firstOrder != null) firstOrder.close();
        if (warmOptimizer != null) warmOptimizer.close();
        mainProblem.close();
        if (warmProblem != null) warmProblem.close();
        if (pivotWeights != null) pivotWeights.close();
        w.close();
        g.close();
    }
}
