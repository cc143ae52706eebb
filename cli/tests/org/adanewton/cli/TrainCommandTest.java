package org.adanewton.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.adanewton.train.MethodSpec;
import org.adanewton.train.MetricsLog;
import org.adanewton.train.Preset;
import org.adanewton.train.Safetensors;
import org.adanewton.train.TrainConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** train and compare end to end on the bundled subset: results, plots, resume, refusals. */
class TrainCommandTest {
    @Test
    void cliTrainAndCompareWriteTheirResults(@TempDir Path dir) throws Exception {
        CliRun t = CliRun.of("train", "--data", "data/fashion-mnist-subset", "--epochs", "1", "--train-samples", "1000", "--out", dir.resolve("t").toString(),
                "--progress", "lines", "--backend", "cpu");
        assertEquals(0, t.code(), t.err() + t.out());
        assertTrue(t.out().contains("data: --data: ") && t.out().contains("fashion-mnist-subset"), t.out());
        assertTrue(t.out().contains("results: "), t.out());
        assertTrue(Files.exists(dir.resolve("t").resolve("metrics.csv")));
        assertTrue(Files.size(dir.resolve("t").resolve("train.png")) > 1000);
        // 1,000 samples at batch 512: two TR steps from the preset's radius 1e-4 cannot show anything, and the run says so
        assertTrue(t.out().contains("note: TR-RMSProp's radius ended at") && t.out().contains("--delta0 0.0001"), t.out());
        CliRun r = CliRun.of("train", "--resume", dir.resolve("t").resolve("checkpoint").toString(), "--epochs", "2", "--data", "data/fashion-mnist-subset",
                "--progress", "lines");
        assertEquals(0, r.code(), r.err() + r.out());
        assertTrue(r.out().contains("note: this run was started for 1 epochs with 0 warm-start epoch(s); a run started for 2 epochs has 1"), r.out());
        assertEquals(2.0, MetricsLog.read(dir.resolve("t").resolve("metrics.csv")).get(MetricsLog.read(dir.resolve("t").resolve("metrics.csv")).size() - 1)
                .epoch(), 1e-9);
        CliRun foreign = CliRun.of("train", "--resume", dir.resolve("t").resolve("checkpoint").toString(), "--preset", "cifar-mlp");
        assertEquals(2, foreign.code());
        assertTrue(foreign.err().contains("resumes only its own network"), foreign.err());
        CliRun flags = CliRun.of("train", "--resume", dir.resolve("t").resolve("checkpoint").toString(), "--lr", "5", "--batch", "64");
        assertEquals(2, flags.code(), flags.err());
        assertTrue(flags.err().contains("--lr, --batch are not taken with --resume"), flags.err());
        CliRun c = CliRun.of("compare", "--data", "data/fashion-mnist-subset", "--epochs", "1", "--train-samples", "1000", "--methods", "tr-rmsprop,sgd", "--out",
                dir.resolve("c").toString(), "--progress", "lines");
        assertEquals(0, c.code(), c.err() + c.out());
        assertTrue(Files.size(dir.resolve("c").resolve("compare.png")) > 1000);
        List<String> summary = Files.readAllLines(dir.resolve("c").resolve("summary.csv"));
        assertEquals(3, summary.size());
        assertTrue(summary.get(0).contains("epochs_to_target") && summary.get(1).startsWith("TR-RMSProp") && summary.get(2).startsWith("SGD"), summary.toString());
    }

    /** A state_dict of nn.Sequential(Linear(784, in), Tanh(), Linear(in, 10)) as safetensors.torch.save_file writes it (seeded values). */
    private static Path stateDict(Path file, int hidden, long seed) throws Exception {
        java.util.Random r = new java.util.Random(seed);
        Map<String, Safetensors.Tensor> t = new LinkedHashMap<>();
        long[][] shapes = {{hidden, 784}, {hidden}, {10, hidden}, {10}};
        String[] names = {"0.weight", "0.bias", "2.weight", "2.bias"};
        for (int i = 0; i < names.length; i++) {
            double[] v = new double[(int) (shapes[i].length == 2 ? shapes[i][0] * shapes[i][1] : shapes[i][0])];
            for (int j = 0; j < v.length; j++) v[j] = (float) (0.05 * r.nextGaussian() + 0.3);
            t.put(names[i], new Safetensors.Tensor("F32", shapes[i], v));
        }
        Safetensors.write(file, t, Map.of("format", "pt"));
        return file;
    }

    @Test
    void initStartsFromAPyTorchStateDict(@TempDir Path dir) throws Exception {
        Path fixture = stateDict(dir.resolve("mlp.safetensors"), 128, 11);
        CliRun t = CliRun.of("train", "--init", fixture.toString(), "--data", "data/fashion-mnist-subset", "--epochs", "1", "--train-samples", "1000",
                "--out", dir.resolve("t").toString(), "--progress", "lines", "--backend", "cpu");
        assertEquals(0, t.code(), t.err() + t.out());
        assertTrue(t.out().contains("init: 4 tensors from " + fixture), t.out());
        Safetensors.Contents written = Safetensors.read(dir.resolve("t").resolve("checkpoint").resolve("weights.safetensors"));
        // exactly PyTorch's keys, in order, with its shapes
        assertEquals(List.of("0.weight", "0.bias", "2.weight", "2.bias"), List.copyOf(written.tensors().keySet()));
        long[][] shapes = {{128, 784}, {128}, {10, 128}, {10}};
        int k = 0;
        for (Safetensors.Tensor w : written.tensors().values()) assertArrayEquals(shapes[k++], w.shape());
        // it started from the file (two short TR steps move little), not from the seeded initialization
        Map<String, Safetensors.Tensor> start = Safetensors.read(fixture).tensors();
        double moved = 0, seeded = 0;
        double[] init = Preset.get("fmnist-mlp").network().initialize(1);
        double[] flat = new double[init.length];
        int at = 0;
        for (String name : start.keySet()) {
            double[] a = start.get(name).values(), b = written.tensors().get(name).values();
            for (int i = 0; i < a.length; i++) {
                moved += Math.abs(a[i] - b[i]);
                flat[at++] = a[i];
            }
        }
        for (int i = 0; i < init.length; i++) seeded += Math.abs(init[i] - flat[i]);
        assertTrue(moved < seeded / 100, "moved " + moved + " from the file; the seeded start is " + seeded + " away");
        // and --resume continues it as any run
        CliRun r = CliRun.of("train", "--resume", dir.resolve("t").resolve("checkpoint").toString(), "--epochs", "2", "--progress", "lines");
        assertEquals(0, r.code(), r.err() + r.out());
    }

    @Test
    void initIsRefusedWithResumeAndForAnotherNetwork(@TempDir Path dir) throws Exception {
        Path other = stateDict(dir.resolve("mlp64.safetensors"), 64, 1);
        Path out = dir.resolve("never");
        CliRun wrong = CliRun.of("train", "--init", other.toString(), "--data", "data/fashion-mnist-subset", "--epochs", "1", "--out", out.toString());
        assertEquals(2, wrong.code(), wrong.err());
        assertTrue(wrong.err().contains("--init = " + other + ": tensor '0.weight' has shape [64, 784]; the network's is [128, 784]"),
                wrong.err());
        assertFalse(wrong.err().contains("\tat "), "no stack trace: " + wrong.err());
        assertFalse(Files.exists(out), "a refused --init writes nothing");
        CliRun absent = CliRun.of("train", "--init", dir.resolve("absent.safetensors").toString(), "--out", out.toString());
        assertEquals(2, absent.code(), absent.err());
        assertTrue(absent.err().contains("--init = " + dir.resolve("absent.safetensors") + " is not a file (it does not exist)"), absent.err());
        CliRun resume = CliRun.of("train", "--resume", dir.resolve("whatever").toString(), "--init", other.toString());
        assertEquals(2, resume.code(), resume.err());
        assertTrue(resume.err().contains("--init is not taken with --resume"), resume.err());
        assertFalse(Files.exists(out));
    }

    @Test
    void badFlagsExitWithTwo() {
        CliRun m = CliRun.of("train", "--method", "newton-rmsprop");
        assertEquals(2, m.code());
        assertTrue(m.err().contains("method = 'newton-rmsprop'"), m.err());
        CliRun e = CliRun.of("train", "--eta1", "2");
        assertEquals(2, e.code());
        assertTrue(e.err().contains("eta1 = 2.0"), e.err());
        CliRun p = CliRun.of("train", "--preset", "imagenet");
        assertEquals(2, p.code());
        assertTrue(p.err().contains("preset = 'imagenet'"), p.err());
        assertEquals(2, CliRun.of("compare", "--epochs", "0").code());
        CliRun missing = CliRun.of("train", "--data", "/nonexistent-dir", "--epochs", "1");
        assertEquals(1, missing.code());
        assertTrue(missing.err().contains("/nonexistent-dir"), missing.err());
    }


    @Test
    void resumeKeepsToTheRunsData(@TempDir Path dir) throws Exception {
        Path data = dir.resolve("data"), other = dir.resolve("other");
        Files.createDirectories(data);
        Files.createDirectories(other);
        for (String f : new String[] {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"}) {
            Files.copy(Path.of("data/fashion-mnist-subset").resolve(f), data.resolve(f));
            // other: the test set as training set and the other way round
            String swapped = f.startsWith("train") ? f.replace("train", "t10k") : f.replace("t10k", "train");
            Files.copy(Path.of("data/fashion-mnist-subset").resolve(swapped), other.resolve(f));
        }
        Path out = dir.resolve("run"), ckpt = out.resolve("checkpoint");
        assertEquals(0, CliRun.of("train", "--data", data.toString(), "--epochs", "1", "--train-samples", "1000", "--out", out.toString(),
                "--progress", "lines").code());
        CliRun same = CliRun.of("train", "--resume", ckpt.toString(), "--epochs", "2", "--progress", "lines");
        assertEquals(0, same.code(), same.err() + same.out());
        assertTrue(same.out().contains("data: --data: " + data.toAbsolutePath()), "a resume reads the run's own data: " + same.out());
        CliRun elsewhere = CliRun.of("train", "--resume", ckpt.toString(), "--epochs", "3", "--data", other.toString(), "--progress", "lines");
        assertEquals(0, elsewhere.code(), elsewhere.err() + elsewhere.out());
        assertTrue(elsewhere.out().contains("note: continuing on other data, as --data asks"), elsewhere.out());
        // the run now records `other`; its files replaced by different data: refused, not trained on silently
        for (String f : new String[] {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"})
            Files.copy(data.resolve(f), other.resolve(f), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        CliRun changed = CliRun.of("train", "--resume", ckpt.toString(), "--epochs", "4", "--progress", "lines");
        assertEquals(2, changed.code(), changed.out());
        assertTrue(changed.err().contains("was trained on 1000 + 5000 samples") && changed.err().contains("give --data DIR"), changed.err());
    }

    @Test
    void refusalsNameTheFlagAsTyped() {
        String[][] cases = {
                {"--delta0", "-1", "--delta0 = -1.0; must be finite and > 0"},
                {"--delta-max", "1e-9", "--delta-max = 1.0E-9; must be >= --delta0 = "},
                {"--eta2", "0.001", "--eta2 = 0.001; must be in [--eta1 = "},
                {"--warm-lr", "-1", "--warm-lr = -1.0"},
                {"--max-krylov", "-1", "--max-krylov = -1"},
                {"--krylov-tol", "NaN", "--krylov-tol = NaN"},
                {"--pivot-every", "Infinity", "--pivot-every = Infinity; must be finite"},
                {"--eval-every", "1e-300", "--eval-every = 1.0E-300 epochs; must be at least one iteration"},
                {"--checkpoint-every", "1e-300", "--checkpoint-every = 1.0E-300 epochs; must be at least one iteration"},
                {"--pivot-every", "1e-300", "--pivot-every = 1.0E-300 epochs; must be at least one iteration"}};
        for (String[] c : cases) {
            CliRun r = CliRun.of("train", "--data", "data/fashion-mnist-subset", "--epochs", "2", c[0], c[1], "--progress", "lines");
            assertEquals(2, r.code(), c[0] + " " + c[1] + ": " + r.err() + r.out());
            assertTrue(r.err().contains(c[2]), c[0] + " " + c[1] + ": " + r.err());
        }
        String[][] unused = {{"--lr", "0.1", "tr-rmsprop", "--lr does not apply to --method tr-rmsprop"},
                {"--delta0", "1", "sgd", "--delta0 does not apply to --method sgd"},
                {"--delta0", "1", "arc-rmsprop", "--delta0 does not apply to --method arc-rmsprop"},
                {"--sigma0", "1", "tr-adam", "--sigma0 does not apply to --method tr-adam"}};
        for (String[] c : unused) {
            CliRun r = CliRun.of("train", "--method", c[2], c[0], c[1]);
            assertEquals(2, r.code(), r.err());
            assertTrue(r.err().contains(c[3]), r.err());
        }
        CliRun progress = CliRun.of("train", "--progress", "foo");
        assertEquals(2, progress.code());
        assertTrue(progress.err().contains("--progress") && progress.err().contains("foo") && progress.err().contains("lines"), progress.err());
    }

    @Test
    void aDivergingFirstOrderRunEndsWithExitOne(@TempDir Path dir) {
        CliRun r = CliRun.of("train", "--data", "data/fashion-mnist-subset", "--method", "sgd", "--lr", "1e308", "--epochs", "5", "--out",
                dir.toString(), "--progress", "lines");
        assertEquals(1, r.code(), r.err() + r.out());
        assertTrue(r.out().contains("ended early") && r.out().contains("first-order steps in a row had a non-finite loss or gradient"), r.out());
        // too short for 20 invalid steps in a row, but it ends on NaN: not "completed" either
        CliRun shortRun = CliRun.of("train", "--data", "data/fashion-mnist-subset", "--method", "sgd", "--lr", "1e308", "--epochs", "1",
                "--train-samples", "500", "--out", dir.resolve("short").toString(), "--progress", "lines");
        assertEquals(1, shortRun.code(), shortRun.err() + shortRun.out());
        assertTrue(shortRun.out().contains("the run diverged"), shortRun.out());
    }

    @Test
    void theShortRunNoteNeedsATrustRegionRunWhoseRadiusBarelyGrew() {
        TrainConfig tr = TrainConfig.of(Preset.get("fmnist-mlp"), MethodSpec.parse("tr-rmsprop"), 1);
        TrainConfig adam = TrainConfig.of(Preset.get("fmnist-mlp"), MethodSpec.parse("adam"), 1);
        assertNotNull(TrainCommand.shortRunNote(tr, row(2e-4)));
        assertNull(TrainCommand.shortRunNote(tr, row(0.5)), "a radius 5000x its start is a run that shows the method");
        assertNull(TrainCommand.shortRunNote(adam, row(0)));
        assertNull(TrainCommand.shortRunNote(TrainConfig.of(Preset.get("fmnist-mlp"), MethodSpec.parse("arc-rmsprop"), 1), row(2e-4)),
                "ARC's column is sigma, not a radius");
        assertNull(TrainCommand.shortRunNote(tr, null));
    }

    private static MetricsLog.Row row(double radius) {
        return new MetricsLog.Row(1, 10, 10, 30, 40, 50, 1, 0.5, 0.8, 0.6, 0.8, radius, 512);
    }
}
