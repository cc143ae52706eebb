package org.adanewton.train;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.adanewton.backend.BackendKind;
import org.adanewton.backend.Batch;
import org.adanewton.backend.NetworkModel;
import org.adanewton.backend.Vector;
import org.adanewton.backend.java.JavaBackend;
import org.adanewton.data.Dataset;
import org.adanewton.minimizer.NetworkProblem;
import org.adanewton.nn.Network;
import org.adanewton.nn.Regularization;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Training a network with batch norm and dropout on the Java reference: one model per iteration
 * (one dropout mask for the gradient, the trial loss and the Hessian batch; another the next
 * iteration), running statistics folded in once per iteration and used by the evaluation, and a
 * resumed run equal to an uninterrupted one.
 */
class TrainModesTest {
    /** Batch norm 1d after a bias-free dense, then dropout: both modes' layers. */
    static final Network NET = Network.builder(6).dense(8, false).batchNorm().relu().dropout(0.3).dense(3).regularization(Regularization.squared(1e-3))
            .build();
    /** Losses the evaluator and a model computed on the same doubles agree to this (summation order may differ). */
    static final double SAME_SUM = 1e-12;

    /** n samples in 6 dimensions, labelled by the largest of three fixed linear maps (learnable). */
    static Dataset data(String name, int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n * 6];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            double best = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < 6; j++) x[i * 6 + j] = (float) r.nextGaussian();
            for (int c = 0; c < 3; c++) {
                double s = 0;
                for (int j = 0; j < 6; j++) s += x[i * 6 + j] * ((j + c) % 3 - 1);
                if (s > best) {
                    best = s;
                    y[i] = c;
                }
            }
        }
        return Dataset.flat(name, x, 6, y, 3, null);
    }

    static final Dataset TRAIN = data("train", 240, 1), TEST = data("test", 60, 2);

    private static TrainConfig config(String method, int epochs) {
        return config(method, epochs, BackendKind.JAVA);
    }

    private static TrainConfig config(String method, int epochs, BackendKind backend) {
        TrainConfig c = TrainConfig.of(Preset.get("cifar-resnet20"), MethodSpec.parse(method), epochs);
        // a warm start and pivots every epoch for TR, so that the hand-over and the pivot's statistics are in the run
        return c.toBuilder().epochs(epochs).batch(c.batch() == 512 ? 60 : 40).warmBatch(40).hessianBatch(c.batch() == 512 ? 30 : 0).seed(11)
                .trustRegion(c.trustRegion() == null ? null : c.trustRegion().withInitialRadius(0.05)).pivotEvery(c.firstOrder() == null ? 1 : 0)
                .evalEvery(0.5).checkpointEvery(0).trainSamples(0).threads(1).backend(backend).build();
    }

    private static Trainer.Result train(TrainConfig c, Path dir, Checkpoint.Loaded resume) throws Exception {
        try (org.adanewton.backend.Backend be = c.backend() == BackendKind.CPU ? new org.adanewton.backend.cpu.CpuBackend(1) : new JavaBackend();
                Trainer t = new Trainer(c, NET, TRAIN, TEST, be, dir, (row, tr) -> {})) {
            return t.run(resume);
        }
    }

    @Test
    void aResumedRunEqualsAnUninterruptedOne(@TempDir Path dir) throws Exception {
        resumes(dir, BackendKind.JAVA, List.of("tr-rmsprop", "adam"));
    }

    @Test
    void aResumedRunOnTheNativeCpuEngineEqualsAnUninterruptedOne(@TempDir Path dir) throws Exception {
        // float32 weights (exact in the checkpoint) and double running statistics (F64) pushed to the engine
        resumes(dir, BackendKind.CPU, List.of("tr-rmsprop", "sgd"));
    }

    private static void resumes(Path dir, BackendKind backend, List<String> methods) throws Exception {
        for (String method : methods) {
            Trainer.Result whole = train(config(method, 3, backend), dir.resolve(method + "-whole"), null);
            assertEquals("completed", whole.status(), whole.message());
            train(config(method, 2, backend), dir.resolve(method + "-split"), null);
            Checkpoint.Loaded saved = Checkpoint.read(dir.resolve(method + "-split").resolve("checkpoint"), NET);
            Trainer.Result resumed = train(saved.state().config().withEpochs(3), dir.resolve(method + "-split"), saved);
            Checkpoint.Loaded a = Checkpoint.read(dir.resolve(method + "-whole").resolve("checkpoint"), NET);
            Checkpoint.Loaded b = Checkpoint.read(dir.resolve(method + "-split").resolve("checkpoint"), NET);
            // a resumed run recomputes the same doubles: the same batches, masks and running statistics
            assertArrayEquals(a.weights(), b.weights(), method + ": resumed weights differ from the uninterrupted run's");
            assertArrayEquals(a.statistics(), b.statistics(), method + ": resumed running statistics differ");
            assertFalse(Arrays.equals(NET.initialStatistics(), a.statistics()), method + ": the running statistics never moved");
            long split = saved.state().trainer().iterations(); // the rows before it are read back from metrics.csv (rounded)
            assertEquals(metrics(whole, split), metrics(resumed, split), method + ": the metrics (evaluation-mode losses and accuracies) differ");
        }
    }

    @Test
    void theWarmStartHandsItsRunningStatisticsOn(@TempDir Path dir) throws Exception {
        TrainConfig c = config("tr-rmsprop", 2);
        List<double[]> seen = new java.util.ArrayList<>();
        List<Double> epochs = new java.util.ArrayList<>();
        Trainer.Progress record = new Trainer.Progress() {
            public void onEvaluation(MetricsLog.Row row, Trainer t) {}

            public void onStep(double e, Trainer t) {
                epochs.add(e);
                seen.add(t.runningStatistics());
            }
        };
        try (JavaBackend be = new JavaBackend(); Trainer t = new Trainer(c, NET, TRAIN, TEST, be, dir, record)) {
            assertEquals("completed", t.run(null).status());
        }
        int last = epochs.indexOf(1.0); // the warm start's last step: from the next on the TR phase holds the statistics
        assertTrue(last > 0 && last < epochs.size() - 1, "epochs at the steps: " + epochs);
        // the TR phase goes on from the warm start's statistics, not from the initial ones
        assertFalse(Arrays.equals(NET.initialStatistics(), seen.get(last)), "after the warm start the statistics are the initial ones");
        for (int k = 1; k < seen.size(); k++) assertFalse(Arrays.equals(seen.get(k - 1), seen.get(k)), "step " + k + " left the statistics unchanged");
    }

    /** Each row's epoch, iteration, losses and accuracies (not its time), after iteration `after`. */
    private static List<List<Double>> metrics(Trainer.Result r, long after) {
        return r.rows().stream().filter(m -> m.iteration() > after).map(m -> List.of(m.epoch(), (double) m.iteration(), m.trainLoss(), m.trainAccuracy(), m.testLoss(), m.testAccuracy()))
                .toList();
    }

    @Test
    void theEvaluationUsesTheRunningStatistics(@TempDir Path dir) throws Exception {
        Trainer.Result r = train(config("adam", 2), dir, null);
        Checkpoint.Loaded c = Checkpoint.read(dir.resolve("checkpoint"), NET);
        double withRun = evaluationLoss(c.weights(), c.statistics()), withInitial = evaluationLoss(c.weights(), NET.initialStatistics());
        assertEquals(withRun, r.last().trainLoss(), SAME_SUM * Math.abs(withRun), "the metrics' training loss is the evaluation-mode loss");
        assertTrue(Math.abs(withInitial - withRun) > 1e-3, "with the initial statistics the loss would be " + withInitial + ", not " + withRun);
        // and the checkpoint's weights file carries them as PyTorch's buffers
        Safetensors.Contents w = Safetensors.read(dir.resolve("checkpoint").resolve("weights.safetensors"));
        assertEquals(List.of("0.weight", "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked", "4.weight", "4.bias"),
                List.copyOf(w.tensors().keySet()));
        assertEquals("I64", w.tensors().get("1.num_batches_tracked").dtype());
        assertEquals(r.last().iteration(), (long) w.tensors().get("1.num_batches_tracked").values()[0]);
        assertEquals("F64", w.tensors().get("1.running_var").dtype());
    }

    @Test
    void aCheckpointWithoutTheRunningStatisticsIsRefused(@TempDir Path dir) throws Exception {
        train(config("adam", 1), dir, null);
        Path file = dir.resolve("checkpoint").resolve("weights.safetensors");
        Safetensors.Contents c = Safetensors.read(file);
        java.util.Map<String, Safetensors.Tensor> cut = new java.util.LinkedHashMap<>(c.tensors());
        cut.remove("1.running_mean");
        cut.remove("1.running_var");
        Safetensors.write(file, cut, c.metadata());
        java.io.IOException e = assertThrows(java.io.IOException.class, () -> Checkpoint.read(dir.resolve("checkpoint"), NET));
        assertTrue(e.getMessage().contains("weights.safetensors lacks the tensor '1.running_mean' [8]"), e.getMessage());
        // as a file of weights (--init) it is taken: the statistics start as PyTorch's
        assertArrayEquals(NET.initialStatistics(), Weights.loadStateDict(NET, file).statistics());
    }

    /** The full training set's loss (data term and regularizer) in evaluation mode with these running statistics, from a model of its own. */
    private static double evaluationLoss(double[] weights, double[] statistics) {
        try (JavaBackend be = new JavaBackend(); NetworkModel m = be.model(NET, TRAIN.size()); Batch b = be.batch(NET, TRAIN.size());
                Vector w = be.vector(weights)) {
            b.set(TRAIN.inputs(), TRAIN.labels(), TRAIN.size());
            m.setTraining(false);
            m.setRunningStatistics(statistics);
            return m.loss(w, b);
        }
    }

    /** Dropout alone (no batch norm: with one sample a batch norm 1d's output would not depend on the input). */
    static final Network DROPOUT = Network.builder(6).dense(8).tanh().dropout(0.5).dense(3).build();

    @Test
    void oneIterationSeesOneMaskAndTheNextAnother() {
        // one sample, so that every iteration has the same batch: only the mask can change the loss
        Dataset one = data("one", 1, 3);
        long seed = 5;
        try (JavaBackend be = new JavaBackend();
                NetworkProblem p = new NetworkProblem(be, DROPOUT, one.inputs(), one.labels(), null, 1, 0, NetworkProblem.Curvature.HESSIAN, seed);
                Vector x = be.vector(DROPOUT.initialize(2)); Vector g = be.allocate(DROPOUT.parameterCount());
                NetworkModel reference = be.model(DROPOUT, 1); Batch b = be.batch(DROPOUT, 1)) {
            b.set(one.inputs(), one.labels(), 1);
            double[] losses = new double[4];
            for (int it = 0; it < losses.length; it++) {
                p.advance();
                losses[it] = p.gradient(x, g);
                assertEquals(losses[it], p.value(x), 0.0, "iteration " + it + ": the trial loss at the same point uses the gradient's mask");
                // the mask is the one of dropoutSeed(seed, samples drawn before the iteration)
                reference.setDropoutSeed(NetworkProblem.dropoutSeed(seed, it));
                assertEquals(losses[it], reference.loss(x, b), SAME_SUM * losses[it], "iteration " + it);
            }
            for (int i = 0; i < losses.length; i++)
                for (int j = 0; j < i; j++) assertNotEquals(losses[i], losses[j], "iterations " + j + " and " + i + " drew the same mask");
        }
    }

    @Test
    void theHessianBatchSeesTheGradientsMaskAndTheStatisticsFoldInOnce() {
        int batch = 40, hessian = 10, n = NET.parameterCount();
        long seed = 8;
        try (JavaBackend be = new JavaBackend();
                NetworkProblem p = new NetworkProblem(be, NET, TRAIN.inputs(), TRAIN.labels(), null, batch, hessian, NetworkProblem.Curvature.HESSIAN,
                        seed);
                Vector x = be.vector(NET.initialize(4)); Vector g = be.allocate(n); Vector v = be.allocate(n); Vector hv = be.allocate(n);
                Vector expected = be.allocate(n); NetworkModel reference = be.model(NET, batch); Batch first = be.batch(NET, hessian);
                Batch whole = be.batch(NET, batch)) {
            double[] direction = new double[n];
            for (int i = 0; i < n; i++) direction[i] = Math.sin(i + 1.0);
            be.set(v, direction);
            p.advance();
            p.gradient(x, g);
            double[] afterOne = p.runningStatistics();
            p.advance(); // the second iteration: its seed is dropoutSeed(seed, batch)
            p.gradient(x, g);
            p.curvature().apply(v, hv);
            // the second iteration's rows, as the problem's sampler draws them
            org.adanewton.minimizer.BatchSampler sampler = new org.adanewton.minimizer.BatchSampler(TRAIN.size(), seed);
            int[] rows = new int[batch];
            sampler.next(rows, batch);
            sampler.next(rows, batch);
            set(whole, rows, batch);
            set(first, rows, hessian);
            // the Hessian batch (the iteration's first rows) has the gradient's mask: the product is the reference's at that seed
            reference.setDropoutSeed(NetworkProblem.dropoutSeed(seed, batch));
            reference.hvp(x, first, v, expected);
            double[] e = expected.toArray(), h = hv.toArray();
            for (int i = 0; i < n; i++) assertEquals(e[i], h[i], SAME_SUM * (1 + Math.abs(e[i])), "HVP component " + i);
            // the second iteration folded its batch's statistics in once
            reference.setRunningStatistics(afterOne);
            reference.gradient(x, whole, expected);
            assertTrue(reference.updateRunningStatistics());
            double[] want = reference.runningStatistics(), got = p.runningStatistics();
            for (int i = 0; i < want.length; i++) assertEquals(want[i], got[i], SAME_SUM * (1 + Math.abs(want[i])), "running statistic " + i);
        }
    }

    /** The first `count` of these training rows into b. */
    private static void set(Batch b, int[] rows, int count) {
        float[] xs = new float[count * 6];
        int[] ys = new int[count];
        for (int i = 0; i < count; i++) {
            System.arraycopy(TRAIN.inputs(), rows[i] * 6, xs, i * 6, 6);
            ys[i] = TRAIN.labels()[rows[i]];
        }
        b.set(xs, ys, count);
    }
}
