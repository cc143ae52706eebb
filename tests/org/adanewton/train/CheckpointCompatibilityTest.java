package org.adanewton.train;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.adanewton.backend.java.JavaBackend;
import org.adanewton.data.DataLocator;
import org.adanewton.nn.Loss;
import org.adanewton.nn.Network;
import org.adanewton.nn.Regularization;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A checkpoint the previous release wrote (format 3, its network recorded as the 10-int native spec
 * of the time; tests/fixtures/checkpoint-v3/README.md) still resumes, and the resumed run ends where
 * that release's uninterrupted run ended: a network without modes trains as before.
 */
class CheckpointCompatibilityTest {
    static final Path FIXTURE = Path.of("tests/fixtures/checkpoint-v3");
    /** The fixture's network, as GenV3 built it. */
    static final Network NET = Network.builder(1, 28, 28).conv2d(1, 2, 5).relu().maxPool2d(2).flatten().dense(10).loss(Loss.SOFTMAX_CROSS_ENTROPY)
            .regularization(Regularization.norm(1e-4)).build();
    /**
     * The resumed weights agree with the old release's to this (absolute): the same doubles but for
     * the Java reference's summation order, which the graph rewrite may change (about 1e-16 per
     * operation over nine iterations).
     */
    static final double SAME_RUN = 1e-10;

    private static void copy(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Path t = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(t);
                else Files.copy(p, t);
            }
        }
    }

    @Test
    void aFormatThreeCheckpointOfThePreviousReleaseResumesAsItsUninterruptedRun(@TempDir Path tmp) throws Exception {
        Path run = tmp.resolve("run");
        copy(FIXTURE.resolve("run"), run);
        Checkpoint.Loaded saved = Checkpoint.read(run.resolve("checkpoint"), NET);
        assertEquals(3, saved.state().formatVersion());
        assertTrue(saved.state().network().startsWith("layers [784, 3, 2, 3, 1, 28, 28, 2, 5, 1, 0, 0, 3, 0, 2, 24,"), saved.state().network());
        assertEquals(0, saved.statistics().length);
        DataLocator.Located data = DataLocator.fashionMnist(Path.of("data/fashion-mnist-subset"));
        try (JavaBackend be = new JavaBackend(); Trainer t = new Trainer(saved.state().config().withEpochs(3), NET, data.train(), data.test(), be, run,
                (row, tr) -> {})) {
            assertEquals("completed", t.run(saved).status());
        }
        Checkpoint.Loaded after = Checkpoint.read(run.resolve("checkpoint"), NET);
        assertEquals(Checkpoint.FORMAT_VERSION, after.state().formatVersion());
        assertEquals(Checkpoint.describe(NET), after.state().network());
        assertEquals(9, after.state().trainer().iterations());
        double[] expected = Weights.load(NET, FIXTURE.resolve("uninterrupted-weights.safetensors")), got = after.weights();
        for (int i = 0; i < expected.length; i++) assertEquals(expected[i], got[i], SAME_RUN, "weight " + i);
    }

    @Test
    void aFormatThreeCheckpointOfAnotherNetworkIsStillRefused() {
        Network other = Network.builder(1, 28, 28).conv2d(1, 3, 5).relu().maxPool2d(2).flatten().dense(10).loss(Loss.SOFTMAX_CROSS_ENTROPY)
                .regularization(Regularization.norm(1e-4)).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Checkpoint.read(FIXTURE.resolve("run").resolve("checkpoint"), other));
        assertTrue(e.getMessage().contains("different network") && e.getMessage().contains("layers [784, 3, 2, 3, 1, 28, 28, 2, 5"), e.getMessage());
        // the same layers without the regularizer are another network too
        Network plain = NET.with(Loss.SOFTMAX_CROSS_ENTROPY, Regularization.NONE);
        assertThrows(IllegalArgumentException.class, () -> Checkpoint.read(FIXTURE.resolve("run").resolve("checkpoint"), plain));
    }
}
