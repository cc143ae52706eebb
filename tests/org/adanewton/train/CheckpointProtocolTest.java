package org.adanewton.train;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.adanewton.backend.BackendKind;
import org.adanewton.backend.cpu.CpuBackend;
import org.adanewton.data.DataLocator;
import org.adanewton.nn.Network;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a crash mid-write leaves is still resumable (the states the write moves through, made by
 * hand), stale temporaries go, metrics rows written after the checkpoint are not kept twice, and a
 * second run on one output directory fails at once.
 */
class CheckpointProtocolTest {
    static DataLocator.Located data;
    static final Trainer.Progress QUIET = (row, t) -> {};

    @BeforeAll
    static void load() throws Exception {
        data = DataLocator.fashionMnist(Path.of("data/fashion-mnist-subset"));
    }

    static TrainConfig config(int epochs) {
        TrainConfig c = TrainConfig.of(Preset.get("fmnist-mlp"), MethodSpec.parse("sgd"), epochs);
        return c.toBuilder().epochs(epochs).batch(100).hessianBatch(0).seed(3).warmEpochs(0).pivotEvery(0).evalEvery(0.5).checkpointEvery(1)
                .trainSamples(500).threads(1).backend(BackendKind.CPU).build();
    }

    static Trainer.Result train(TrainConfig c, Path out, Checkpoint.Loaded resume) throws IOException {
        try (CpuBackend be = new CpuBackend(1); Trainer t = new Trainer(c, Preset.get("fmnist-mlp").network(), data.train(), data.test(), be, out, QUIET)) {
            return t.run(resume);
        }
    }

    static void copyTree(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (Stream<Path> files = Files.list(from)) {
            for (Path f : files.toList()) Files.copy(f, to.resolve(f.getFileName()));
        }
    }

    @Test
    void aKillBetweenTheMovesLeavesAResumableCheckpoint(@TempDir Path out) throws Exception {
        Network net = Preset.get("fmnist-mlp").network();
        train(config(1), out, null);
        Path ckpt = out.resolve("checkpoint");
        long iterations = Checkpoint.readState(ckpt).trainer().iterations();
        // killed after checkpoint -> checkpoint.old, before checkpoint.tmpN -> checkpoint
        Files.move(ckpt, out.resolve("checkpoint.old"));
        copyTree(out.resolve("checkpoint.old"), out.resolve("checkpoint.tmp123"));
        Files.createDirectories(out.resolve("checkpoint.tmp999")); // a second temporary, cut by the kill
        Files.writeString(out.resolve("checkpoint.tmp999").resolve("state.json"), "{\"formatVersion\": 1, \"cut");
        Checkpoint.Location found = Checkpoint.locate(ckpt);
        assertNotEquals(ckpt, found.dir());
        assertTrue(found.note().contains("newest complete checkpoint") && found.note().contains(iterations + " iterations"), found.note());
        Checkpoint.Loaded loaded = Checkpoint.read(found.dir(), net);
        Trainer.Result resumed = train(loaded.state().config().withEpochs(2), out, loaded);
        assertEquals("completed", resumed.status(), resumed.message());
        assertTrue(Files.isRegularFile(ckpt.resolve("state.json")), "the next write puts checkpoint/ back");
        try (Stream<Path> left = Files.list(out)) {
            List<String> names = left.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("checkpoint.")).toList();
            assertEquals(List.of(), names, "checkpoint.old and the temporaries (complete or cut) are gone after a complete write");
        }
    }

    @Test
    void aCompleteTemporaryIsNewerThanTheOldOneWhateverTheirIterations(@TempDir Path out) throws Exception {
        train(config(2), out.resolve("long"), null); // a longer run's checkpoint, left as checkpoint.old
        train(config(1), out.resolve("short"), null); // the fresh run's, complete in a temporary
        Files.createDirectories(out.resolve("run"));
        copyTree(out.resolve("long").resolve("checkpoint"), out.resolve("run").resolve("checkpoint.old"));
        copyTree(out.resolve("short").resolve("checkpoint"), out.resolve("run").resolve("checkpoint.tmp7"));
        Checkpoint.Location found = Checkpoint.locate(out.resolve("run").resolve("checkpoint"));
        assertEquals(out.resolve("run").resolve("checkpoint.tmp7").toAbsolutePath(), found.dir().toAbsolutePath(), found.note());
    }

    @Test
    void nothingCompleteIsSaidSo(@TempDir Path out) throws Exception {
        Files.createDirectories(out.resolve("checkpoint.tmp1"));
        IOException e = assertThrows(IOException.class, () -> Checkpoint.locate(out.resolve("checkpoint")));
        assertTrue(e.getMessage().contains("state.json is missing") && e.getMessage().contains("checkpoint.tmp1"), e.getMessage());
    }

    @Test
    void metricsRowsAfterTheCheckpointAreNotKeptTwice(@TempDir Path out) throws Exception {
        Network net = Preset.get("fmnist-mlp").network();
        train(config(1), out, null);
        Checkpoint.Loaded at1 = Checkpoint.read(out.resolve("checkpoint"), net);
        Path saved = out.resolve("saved");
        copyTree(out.resolve("checkpoint"), saved);
        train(at1.state().config().withEpochs(2), out, at1); // went on to epoch 2 ... then "died": its checkpoint is lost
        Checkpoint.Loaded again = Checkpoint.read(saved, net);
        Trainer.Result r = train(again.state().config().withEpochs(2), out, again);
        List<MetricsLog.Row> rows = MetricsLog.read(out.resolve("metrics.csv"));
        assertEquals(r.rows().size(), rows.size());
        for (int i = 1; i < rows.size(); i++)
            assertTrue(rows.get(i).iteration() > rows.get(i - 1).iteration(), "rows repeat or go back at " + i + ": " + rows);
        assertEquals(2.0, rows.get(rows.size() - 1).epoch(), 1e-9);
        assertEquals(rows.size(), Files.readAllLines(out.resolve("metrics.jsonl")).size());
    }

    @Test
    void aSecondRunOnTheSameOutputFailsAtOnce(@TempDir Path out) throws Exception {
        Files.createDirectories(out);
        try (OutputLock held = OutputLock.acquire(out)) {
            IOException e = assertThrows(IOException.class, () -> train(config(1), out, null));
            assertTrue(e.getMessage().contains("in use by another adanewton run") && e.getMessage().contains("process " + ProcessHandle.current().pid()),
                    e.getMessage());
        }
        assertEquals("completed", train(config(1), out, null).status(), "free again once the holder is done");
    }
}
