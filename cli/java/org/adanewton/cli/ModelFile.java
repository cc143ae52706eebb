package org.adanewton.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.adanewton.data.Dataset;
import org.adanewton.nn.Network;
import org.adanewton.onnx.OnnxImport;
import org.adanewton.onnx.OnnxModel;
import org.adanewton.train.Weights;

/**
 * train's --model-file FILE.onnx: the network to train is the ONNX model's ({@link OnnxImport}),
 * under the preset's loss and regularization; its initializers are the starting weights and its
 * batch norm initializers the starting running statistics. The preset still gives the data and
 * the hyper-parameters. Every refusal names the flag and the file.
 */
final class ModelFile {
    static final String FLAG = "--model-file";

    private final Path file;
    private final OnnxModel model;
    private final OnnxImport.Imported imported;
    private final Network network;

    private ModelFile(Path file, OnnxModel model, OnnxImport.Imported imported, Network network) {
        this.file = file;
        this.model = model;
        this.imported = imported;
        this.network = network;
    }

    /** The refusal "--model-file = FILE: why" (the library's messages start with the file: named once). */
    private static IllegalArgumentException refused(Path file, String why) {
        String w = String.valueOf(why);
        return new IllegalArgumentException(FLAG + " = " + file + (w.startsWith(file.toString()) ? w.substring(file.toString().length()) : ": " + w));
    }

    /**
     * Reads and imports the file, the network taking the preset network's loss and regularization.
     *
     * @throws IllegalArgumentException "--model-file = FILE: ..." when the file is missing,
     *     unreadable, truncated or corrupt, or its graph is not supported
     */
    static ModelFile read(Path file, Network preset) {
        if (!Files.isRegularFile(file)) throw refused(file, file + " is not a file" + (Files.exists(file) ? "" : " (it does not exist)"));
        try {
            OnnxModel model = OnnxModel.read(file);
            OnnxImport.Imported imported = OnnxImport.toNetwork(model, preset.loss());
            return new ModelFile(file, model, imported, imported.network().with(preset.loss(), preset.regularization()));
        } catch (IOException | IllegalArgumentException e) {
            throw refused(file, e.getMessage());
        }
    }

    /** The network to train. */
    Network network() {
        return network;
    }

    /** The starting state: the initializers as the weights and the batch norm running statistics (no batch counted yet). */
    Weights.StateDict state() {
        return new Weights.StateDict(imported.weights(), imported.statistics(), 0);
    }

    /** The file's name without .onnx (the default output directory's). */
    String name() {
        String n = file.getFileName().toString();
        return n.toLowerCase(Locale.ROOT).endsWith(".onnx") ? n.substring(0, n.length() - 5) : n;
    }

    /** The model's sample shape: "784" or "1x28x28". */
    private static String shape(int[] s) {
        return s.length == 1 ? Integer.toString(s[0]) : s[0] + "x" + s[1] + "x" + s[2];
    }

    /**
     * The model must read the data's samples (a flat input: their C H W values; a C x H x W input:
     * their shape) and give one output per class (or target value).
     *
     * @throws IllegalArgumentException naming the flag, the file and both shapes
     */
    void check(Dataset data) {
        int[] in = network.inputShape();
        boolean reads = in.length == 1 ? in[0] == data.inputDim() : in[0] == data.channels() && in[1] == data.height() && in[2] == data.width();
        boolean labels = network.loss().usesLabels();
        int outputs = labels ? data.classes() : data.targetDim();
        if (reads && network.outputDim() == outputs) return;
        throw refused(file, String.format(Locale.ROOT, "the model takes samples of %s and gives %d outputs, but the data (%s, from %s) have samples of %s "
                + "and %d %s; give a model for these data, or the --preset of the model's data", shape(in), network.outputDim(), data.name(), data.source(),
                data.shape(), outputs, labels ? "classes" : "target values"));
    }

    /** One line: what was read. */
    String summary() {
        int bn = network.statistics().size() / 2;
        return String.format(Locale.ROOT, "model: %s (ONNX opset %d, %s-mode export): %d tensors as the starting weights%s", file, model.opset(),
                imported.training() ? "training" : "evaluation", network.parameters().size(),
                bn == 0 ? "" : ", the running statistics of " + bn + " batch norm layer" + (bn == 1 ? "" : "s"));
    }
}
