package org.adanewton.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** train --profile, --target-loss and --curvature-precision; bench --tr-iteration. */
class TimeToLossCliTest {
    static final String[] DATA = {"--data", "data/fashion-mnist-subset", "--train-samples", "1000", "--progress", "lines", "--backend", "cpu"};

    static String[] train(Path out, String... more) {
        List<String> a = new java.util.ArrayList<>(List.of("train", "--out", out.toString()));
        a.addAll(List.of(DATA));
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    @Test
    void profileSplitsTheIterationAndTargetLossEndsTheRun(@TempDir Path dir) throws Exception {
        CliRun t = CliRun.of(train(dir.resolve("p"), "--epochs", "2", "--warm-epochs", "0", "--profile", "--target-loss", "100"));
        assertEquals(0, t.code(), t.err() + t.out());
        // the loss starts below 100: the first evaluation (epoch 0) ends the run, before any iteration
        assertTrue(t.out().contains("reached the target training loss 100.0"), t.out());
        assertTrue(t.out().contains("profile: no iterations of the method ran"), t.out());
        assertTrue(Files.exists(dir.resolve("p").resolve("checkpoint")), "a checkpoint is written as at any end");

        CliRun q = CliRun.of(train(dir.resolve("q"), "--epochs", "1", "--warm-epochs", "0", "--profile"));
        assertEquals(0, q.code(), q.err() + q.out());
        for (String part : List.of("batch gathering and upload", "gradient (and its norm)", "norm update", "curvature products (",
                "Krylov vector work and the solve call", "trial point and its loss", "minimizer bookkeeping", "outside the kernels: "))
            assertTrue(q.out().contains(part), part + " in " + q.out());

        CliRun adam = CliRun.of(train(dir.resolve("a"), "--epochs", "1", "--method", "adam", "--profile"));
        assertEquals(0, adam.code(), adam.err() + adam.out());
        assertTrue(adam.out().contains("profile: --profile times the iterations of TR/ARC methods; adam is first-order"), adam.out());
    }

    @Test
    void badValuesAreRefusedNamingTheFlag(@TempDir Path dir) {
        CliRun t = CliRun.of(train(dir.resolve("never"), "--target-loss", "0"));
        assertEquals(2, t.code(), t.err());
        assertTrue(t.err().contains("--target-loss = 0.0; must be > 0"), t.err());
        CliRun p = CliRun.of(train(dir.resolve("never"), "--curvature-precision", "fp16"));
        assertEquals(2, p.code(), p.err());
        assertTrue(p.err().contains("--curvature-precision = fp16: must be fp32, tf32 or bf16"), p.err());
        CliRun tf = CliRun.of(train(dir.resolve("never"), "--curvature-precision", "tf32"));
        assertEquals(2, tf.code(), tf.err());
        assertTrue(tf.err().contains("--curvature-precision = tf32: TF32 is a GPU tensor-core format"), tf.err());
        assertFalse(Files.exists(dir.resolve("never")), "a refused run writes nothing");
        CliRun b = CliRun.of("bench", "--epochs", "3");
        assertEquals(2, b.code(), b.err());
        assertTrue(b.err().contains("--epochs applies only with --tr-iteration"), b.err());
        CliRun j = CliRun.of("bench", "--tr-iteration", "--json");
        assertEquals(2, j.code(), j.err());
        assertTrue(j.err().contains("--json does not apply to --tr-iteration"), j.err());
    }

    @Test
    void benchTrIterationPrintsTheProfile() {
        CliRun b = CliRun.of("bench", "--tr-iteration", "--epochs", "1", "--threads", "2", "--train-option=--data=data/fashion-mnist-subset",
                "--train-option=--train-samples=1000");
        assertEquals(0, b.code(), b.err() + b.out());
        assertTrue(b.out().contains("profile: ") && b.out().contains("curvature products ("), b.out());
    }
}
