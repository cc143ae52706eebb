package org.adanewton.train;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.adanewton.backend.BackendKind;
import org.adanewton.backend.cpu.CpuBackend;
import org.adanewton.data.DataLocator;
import org.adanewton.data.Dataset;
import org.adanewton.nn.Network;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Training end to end on the bundled subset: metrics, checkpoint, exact resume, foreign checkpoints (the CLI: TrainCommandTest). */
class TrainTest {
    static DataLocator.Located data;

    @BeforeAll
    static void load() throws Exception {
        data = DataLocator.fashionMnist(Path.of("data/fashion-mnist-subset"));
    }

    private static final Trainer.Progress QUIET = (row, t) -> {};

    private static TrainConfig config(String method, int epochs) {
        TrainConfig c = TrainConfig.of(Preset.get("fmnist-mlp"), MethodSpec.parse(method), epochs);
        // 1,000 samples and pivots every epoch keep the test short while exercising every mechanism
        // and a larger initial radius than the preset's 1e-4, which is sized for ~100 iterations per epoch, not 5
        return c.toBuilder().epochs(epochs).batch(c.batch() == 512 ? 200 : 100).seed(3)
                .trustRegion(c.trustRegion() == null ? null : c.trustRegion().withInitialRadius(0.02)).pivotEvery(c.firstOrder() == null ? 1 : 0)
                .evalEvery(0.5).checkpointEvery(0).trainSamples(1000).threads(2).backend(BackendKind.CPU).build();
    }

    private static Trainer.Result train(TrainConfig c, Path dir, Checkpoint.Loaded resume) throws Exception {
        Preset p = Preset.get("fmnist-mlp");
        try (CpuBackend be = new CpuBackend(2); Trainer t = new Trainer(c, p.network(), data.train(), data.test(), be, dir, QUIET)) {
            return t.run(resume);
        }
    }

    @Test
    void trainingWritesMetricsPlotAndCheckpointAndLowersTheLoss(@TempDir Path dir) throws Exception {
        for (String method : List.of("tr-rmsprop", "arc-adagrad", "adam")) {
            Path out = dir.resolve(method);
            Trainer.Result r = train(config(method, 3), out, null);
            assertEquals("completed", r.status(), r.message());
            assertTrue(Files.readString(out.resolve("metrics.csv")).startsWith("epoch,iteration,gradients,hvps,backprops,flop_backprops,seconds,train_loss"));
            assertEquals(r.rows().size(), Files.readAllLines(out.resolve("metrics.jsonl")).size());
            for (String f : List.of("weights.safetensors", "optimizer.safetensors", "state.json")) assertTrue(Files.exists(out.resolve("checkpoint").resolve(f)));
            MetricsLog.Row first = r.rows().get(0), last = r.last();
            assertEquals(0.0, first.epoch());
            assertEquals(3.0, last.epoch(), 1e-9);
            assertTrue(last.trainLoss() < 0.8 * first.trainLoss(), method + ": " + first.trainLoss() + " -> " + last.trainLoss());
            // ARC has no paper preset (sigma0 = 1 generic): over 15 iterations only the loss decrease is asserted
            if (!method.startsWith("arc")) assertTrue(last.testAccuracy() > 0.5, method + " test accuracy " + last.testAccuracy());
            if (!method.equals("adam")) assertTrue(last.hvps() > 0);
        }
    }

    @Test
    void resumeEqualsAnUninterruptedRun(@TempDir Path dir) throws Exception {
        for (String method : List.of("tr-rmsprop", "sgd")) {
            Trainer.Result whole = train(config(method, 3), dir.resolve(method + "-whole"), null);
            train(config(method, 2), dir.resolve(method + "-split"), null);
            Network net = Preset.get("fmnist-mlp").network();
            Checkpoint.Loaded saved = Checkpoint.read(dir.resolve(method + "-split").resolve("checkpoint"), net);
            Trainer.Result resumed = train(saved.state().config().withEpochs(3), dir.resolve(method + "-split"), saved);
            double[] a = Checkpoint.read(dir.resolve(method + "-whole").resolve("checkpoint"), net).weights();
            double[] b = Checkpoint.read(dir.resolve(method + "-split").resolve("checkpoint"), net).weights();
            assertArrayEquals(a, b, method + ": resumed weights differ from the uninterrupted run's");
            assertEquals(whole.last().trainLoss(), resumed.last().trainLoss(), method);
            assertEquals(whole.last().gradients(), resumed.last().gradients());
            assertEquals(whole.rows().size(), resumed.rows().size(), "metrics rows appended on resume");
        }
    }

    @Test
    void foreignOrBrokenCheckpointsAreRefused(@TempDir Path dir) throws Exception {
        train(config("tr-rmsprop", 1), dir.resolve("run"), null);
        Path ckpt = dir.resolve("run").resolve("checkpoint");
        Network other = Network.builder(784).dense(64).tanh().dense(10).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Checkpoint.read(ckpt, other));
        assertTrue(e.getMessage().contains("different network") && e.getMessage().contains("64"), e.getMessage());
        Path weights = ckpt.resolve("weights.safetensors");
        byte[] bytes = Files.readAllBytes(weights);
        Files.write(weights, java.util.Arrays.copyOf(bytes, bytes.length / 2));
        java.io.IOException io = assertThrows(java.io.IOException.class, () -> Checkpoint.read(ckpt, Preset.get("fmnist-mlp").network()));
        assertTrue(io.getMessage().contains("weights.safetensors"), io.getMessage());
        assertTrue(assertThrows(java.io.IOException.class, () -> Checkpoint.read(dir, null)).getMessage().contains("state.json"));
    }

    @Test
    void checkpointWeightsAreSafetensorsTensors(@TempDir Path dir) throws Exception {
        train(config("sgd", 1), dir, null);
        Safetensors.Contents c = Safetensors.read(dir.resolve("checkpoint").resolve("weights.safetensors"));
        // named as PyTorch's Sequential(Linear, Tanh, Linear) state_dict
        assertEquals(java.util.List.of("0.weight", "0.bias", "2.weight", "2.bias"), java.util.List.copyOf(c.tensors().keySet()));
        assertArrayEquals(new long[] {128, 784}, c.tensors().get("0.weight").shape());
        assertArrayEquals(new long[] {10}, c.tensors().get("2.bias").shape());
        assertEquals("F32", c.tensors().get("0.weight").dtype());
        assertEquals("adanewton", c.metadata().get("format"));
    }

    @Test
    void aDivergingFirstOrderRunEndsWithNumericalFailure(@TempDir Path dir) throws Exception {
        TrainConfig c = config("sgd", 3);
        org.adanewton.minimizer.FirstOrderOptions f = c.firstOrder();
        TrainConfig huge = c.toBuilder().firstOrder(new org.adanewton.minimizer.FirstOrderOptions(f.kind(), 1e308, f.momentum(), f.nesterov(), f.beta1(),
                f.beta2(), f.eps(), f.weightDecay())).build();
        Trainer.Result r = train(huge, dir, null);
        assertEquals("numerical_failure", r.status(), r.message());
        assertTrue(r.message().contains(Trainer.MAX_FIRST_ORDER_INVALID + " first-order steps in a row"), r.message());
        assertTrue(r.epochs() < 3, "it must stop well before the epochs are done: " + r.epochs());
    }

    @Test
    void anIntervalShorterThanOneIterationIsRefused() {
        TrainConfig c = config("tr-rmsprop", 2);
        TrainConfig tiny = c.toBuilder().evalEvery(1e-300).build();
        Network net = Preset.get("fmnist-mlp").network();
        try (CpuBackend be = new CpuBackend(1)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new Trainer(tiny, net, data.train(), data.test(), be, Path.of("unused"), QUIET));
            assertTrue(e.getMessage().startsWith("evalEvery = 1.0E-300 epochs; must be at least one iteration"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> c.toBuilder().pivotEvery(Double.POSITIVE_INFINITY).build());
    }

    @Test
    void datasetMustMatchTheNetwork() {
        Dataset tiny = Dataset.flat("tiny", new float[20], 5, new int[4], 10, null);
        Network net = Preset.get("fmnist-mlp").network();
        try (CpuBackend be = new CpuBackend(1)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new Trainer(config("sgd", 1), net, tiny, null, be, Path.of("unused"), QUIET));
            assertTrue(e.getMessage().contains("5 inputs per sample") && e.getMessage().contains("784"), e.getMessage());
        }
    }
}
