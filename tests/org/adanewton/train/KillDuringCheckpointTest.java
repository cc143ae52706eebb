package org.adanewton.train;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.adanewton.backend.BackendKind;
import org.adanewton.backend.cpu.CpuBackend;
import org.adanewton.data.DataLocator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A training run that writes a checkpoint every iteration, in a child JVM killed (SIGKILL) at random
 * moments: after every kill, the newest complete checkpoint is found and verifies, whatever the
 * write was doing when the kill came.
 */
class KillDuringCheckpointTest {
    static final int ROUNDS = 8;
    static final long SEED = 424242;

    /** The child: SGD on 1,000 samples of the bundled subset, a checkpoint after every iteration, until killed. */
    public static void main(String[] args) throws Exception {
        DataLocator.Located data = DataLocator.fashionMnist(Path.of("data/fashion-mnist-subset"));
        Preset p = Preset.get("fmnist-mlp");
        TrainConfig c = TrainConfig.of(p, MethodSpec.parse("sgd"), 10_000);
        TrainConfig every = c.toBuilder().epochs(10_000).batch(100).hessianBatch(0).seed(5).warmEpochs(0).pivotEvery(0).evalEvery(100)
                .checkpointEvery(0.1).trainSamples(1000).threads(1).backend(BackendKind.CPU).build();
        try (CpuBackend be = new CpuBackend(1); Trainer t = new Trainer(every, p.network(), data.train(), data.test(), be, Path.of(args[0]), (row, tr) -> {})) {
            t.run(null);
        }
    }

    @Test
    void aValidCheckpointSurvivesEveryKill(@TempDir Path dir) throws Exception {
        Random r = new Random(SEED);
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        for (int round = 0; round < ROUNDS; round++) {
            Path out = dir.resolve("run" + round);
            Process child = new ProcessBuilder(java.toString(), "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                    KillDuringCheckpointTest.class.getName(), out.toString()).redirectErrorStream(true)
                    .redirectOutput(dir.resolve("child" + round + ".log").toFile()).start();
            try {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (!Files.isRegularFile(out.resolve("checkpoint").resolve("state.json"))) {
                    assertTrue(child.isAlive(), "the child ended early: " + Files.readString(dir.resolve("child" + round + ".log")));
                    assertTrue(System.nanoTime() < deadline, "no first checkpoint within 60 s");
                    Thread.sleep(5);
                }
                Thread.sleep(r.nextInt(400)); // into some later write
            } finally {
                child.destroyForcibly();
                assertTrue(child.waitFor(30, TimeUnit.SECONDS));
            }
            Checkpoint.Location found = Checkpoint.locate(out.resolve("checkpoint"));
            System.out.println("kill " + round + ": " + (found.note() == null ? "checkpoint/ intact" : found.note()));
            Checkpoint.Loaded loaded = Checkpoint.read(found.dir(), Preset.get("fmnist-mlp").network());
            assertTrue(loaded.state().trainer().iterations() >= 1, "round " + round + ": " + found.dir());
        }
    }
}
