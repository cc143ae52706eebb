package org.adanewton.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import org.adanewton.backend.Backend;
import org.adanewton.backend.Batch;
import org.adanewton.backend.NetworkModel;
import org.adanewton.backend.Vector;
import org.adanewton.backend.java.JavaBackend;
import org.adanewton.data.DataLocator;
import org.adanewton.data.Dataset;
import org.adanewton.nn.Network;
import org.adanewton.onnx.OnnxImport;
import org.adanewton.onnx.OnnxModel;
import org.adanewton.train.MetricsLog;
import org.adanewton.train.Preset;
import org.adanewton.train.Safetensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** train --model-file FILE.onnx: the imported network trains from the file's weights and running statistics; what does not fit is refused by name. */
class ModelFileTest {
    /** A residual CNN with batch norm for 1 x 28 x 28 images and 10 classes, a torch training-mode export (bench/onnx_fixtures.py). */
    static final Path MODEL = Path.of("tests", "fixtures", "onnx", "fmnist_resnet_train.onnx");
    static final String DATA = "data/fashion-mnist-subset";
    /** The run's first evaluation against the same computation here: both in double on the Java backend, the CSV keeps 9 digits. */
    static final double CSV_TOL = 1e-7;

    /** The preset's objective (loss and regularizer) on the test set at the model file's weights, in evaluation mode with these running statistics. */
    private static double testObjective(OnnxImport.Imported im, double[] statistics) throws Exception {
        Network preset = Preset.get("fmnist-mlp").network();
        Network net = im.network().with(preset.loss(), preset.regularization());
        Dataset test = DataLocator.fashionMnist(Path.of(DATA)).test();
        Backend be = new JavaBackend();
        try (NetworkModel m = be.model(net, test.size()); Batch b = be.batch(net, test.size()); Vector w = be.vector(im.weights())) {
            m.setTraining(false);
            m.setRunningStatistics(statistics);
            b.set(test.inputs(), test.labels(), test.size());
            return m.loss(w, b);
        }
    }

    @Test
    void trainsTheImportedNetworkFromItsWeightsAndRunningStatistics(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("t");
        CliRun t = CliRun.of("train", "--model-file", MODEL.toString(), "--data", DATA, "--epochs", "1", "--train-samples", "200", "--batch", "100",
                "--max-krylov", "10", "--out", out.toString(), "--progress", "lines", "--backend", "java");
        assertEquals(0, t.code(), t.err() + t.out());
        assertTrue(t.out().contains("model: " + MODEL + " (ONNX opset 15, training-mode export): 15 tensors as the starting weights, the running "
                + "statistics of 4 batch norm layers"), t.out());
        assertTrue(t.out().contains("network: 1x28x28 graph of 12 layers (440 parameters)"), t.out());
        // the first evaluation (epoch 0, evaluation mode) is the file's model: its weights and its running statistics
        OnnxImport.Imported im = OnnxImport.toNetwork(OnnxModel.read(MODEL));
        double expected = testObjective(im, im.statistics()), initial = testObjective(im, im.network().initialStatistics());
        MetricsLog.Row first = MetricsLog.read(out.resolve("metrics.csv")).get(0);
        assertEquals(0.0, first.epoch());
        assertEquals(expected, first.testLoss(), CSV_TOL * (1 + Math.abs(expected)), "test objective at epoch 0");
        assertTrue(Math.abs(initial - expected) > 1000 * CSV_TOL * (1 + Math.abs(expected)),
                "the file's statistics change the objective (" + expected + ") from the initial ones' (" + initial + "), so the check above can fail");
        // the checkpoint names every tensor as the model does
        Set<String> names = Safetensors.read(out.resolve("checkpoint").resolve("weights.safetensors")).tensors().keySet();
        for (Network.Parameter p : im.network().parameters()) assertTrue(names.contains(p.name()), p.name() + " in " + names);
        for (Network.Parameter p : im.network().statistics()) assertTrue(names.contains(p.name()), p.name() + " in " + names);
        assertTrue(names.contains("stem.0.weight") && names.contains("bn3.running_var"), names.toString());
    }

    @Test
    void aModelForOtherDataIsRefusedWithBothShapes(@TempDir Path dir) {
        Path other = Path.of("tests", "fixtures", "onnx", "resnet_eval.onnx"), out = dir.resolve("never");
        CliRun r = CliRun.of("train", "--model-file", other.toString(), "--data", DATA, "--epochs", "1", "--out", out.toString());
        assertEquals(2, r.code(), r.err() + r.out());
        assertTrue(r.err().contains("--model-file = " + other + ": the model takes samples of 2x5x5 and gives 3 outputs, but the data (")
                && r.err().contains("have samples of 1x28x28 and 10 classes"), r.err());
        assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
        assertFalse(Files.exists(out), "a refused model writes nothing");
    }

    @Test
    void conflictsAndBadFilesAreRefusedByName(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("never");
        CliRun init = CliRun.of("train", "--model-file", MODEL.toString(), "--init", dir.resolve("w.safetensors").toString(), "--out", out.toString());
        assertEquals(2, init.code(), init.err());
        assertTrue(init.err().contains("--model-file and --init both give the starting weights"), init.err());
        CliRun resume = CliRun.of("train", "--resume", dir.resolve("whatever").toString(), "--model-file", MODEL.toString());
        assertEquals(2, resume.code(), resume.err());
        assertTrue(resume.err().contains("--model-file is not taken with --resume"), resume.err());
        Path absent = dir.resolve("absent.onnx");
        CliRun missing = CliRun.of("train", "--model-file", absent.toString(), "--out", out.toString());
        assertEquals(2, missing.code(), missing.err());
        assertTrue(missing.err().contains("--model-file = " + absent + " is not a file (it does not exist)"), missing.err());
        byte[] bytes = Files.readAllBytes(MODEL);
        Path cut = dir.resolve("cut.onnx");
        Files.write(cut, Arrays.copyOf(bytes, bytes.length / 2));
        CliRun truncated = CliRun.of("train", "--model-file", cut.toString(), "--out", out.toString());
        assertEquals(2, truncated.code(), truncated.err());
        assertTrue(truncated.err().contains("--model-file = " + cut + ": ") && truncated.err().contains("at byte ")
                && truncated.err().contains("truncated"), truncated.err());
        assertFalse(truncated.err().contains(cut + ": " + cut), "the file is named once: " + truncated.err());
        assertFalse(Files.exists(out));
        CliRun help = CliRun.of("train", "--help");
        assertEquals(0, help.code());
        assertTrue(help.out().contains("--model-file=FILE.onnx") && help.out().contains("not with --init or --resume"), help.out());
    }
}
