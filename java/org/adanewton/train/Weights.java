package org.adanewton.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.adanewton.nn.Network;

/**
 * A network's weights as a safetensors file that PyTorch loads directly: the tensors of
 * {@link Network#parameters()}, named as the {@code state_dict} of the equivalent
 * {@code nn.Sequential} ("0.weight", "0.bias", "2.weight", ...; the rule is
 * {@link Network#sequentialIndex(int)}), in PyTorch's layout (dense out x in, conv2d
 * cout x cin x k x k). {@code model.load_state_dict(safetensors.torch.load_file(path))} reads one
 * that this class writes, and {@link #load} reads one that PyTorch's {@code save_file} wrote.
 *
 * <p>Checkpoints of format 1 and 2 named the tensors "layers.L.weight" and "layers.L.bias" (L the
 * network layer's index); {@link #load} reads that naming too.
 *
 * <p>Thread safety: stateless: safe to use from any thread.
 */
public final class Weights {
    private Weights() {}

    /** How a file names the network's tensors. */
    enum Naming {
        /** PyTorch's nn.Sequential state_dict: "I.weight", I the module index. */
        SEQUENTIAL,
        /** Checkpoint formats 1 and 2: "layers.L.weight", L the network layer's index. */
        LAYERS;

        String name(Network.Parameter p) {
            return this == SEQUENTIAL ? p.name() : "layers." + p.layer() + "." + p.kind();
        }
    }

    /**
     * The network's tensors, named as PyTorch names them, with their values from the flat vector
     * w, as F32 (float32) or F64.
     */
    public static Map<String, Safetensors.Tensor> tensors(Network net, double[] w, boolean float32) {
        if (w.length != net.parameterCount())
            throw new IllegalArgumentException("the vector has " + w.length + " values; the network has " + net.parameterCount() + " parameters");
        Map<String, Safetensors.Tensor> out = new LinkedHashMap<>();
        for (Network.Parameter p : net.parameters())
            out.put(p.name(), new Safetensors.Tensor(float32 ? "F32" : "F64", p.shape(), Arrays.copyOfRange(w, p.offset(), p.offset() + p.count())));
        return out;
    }

    /** Writes the network's weights w to file (metadata "format": "pt", as PyTorch's save_file writes). */
    public static void save(Network net, double[] w, boolean float32, Path file) throws IOException {
        Safetensors.write(file, tensors(net, w, float32), Map.of("format", "pt"));
    }

    /**
     * Reads a safetensors file of the network's weights into a new flat parameter vector, trusting
     * nothing: the file as {@link Safetensors#read} (a truncated or corrupt file refused); exactly
     * the network's tensors, by the Sequential names (or, in a file adanewton wrote (metadata format
     * "adanewton") that names its tensors "layers.*", by the older checkpoint names); each with the network's shape, F32 or F64; every
     * value finite. Each refusal names the file and the tensor: a missing one with its shape, a
     * shape mismatch with the expected and the found shape (the first in the network's order), a
     * non-finite value with its index, extra tensors by name. Returns nothing on any error.
     */
    public static double[] load(Network net, Path file) throws IOException {
        if (net == null) throw new NullPointerException("net is null: weights are read for a network");
        if (!Files.isRegularFile(file)) throw new IOException(file + " is not a file" + (Files.exists(file) ? "" : " (it does not exist)"));
        Safetensors.Contents contents = Safetensors.read(file);
        Map<String, Safetensors.Tensor> tensors = contents.tensors();
        boolean legacy = "adanewton".equals(contents.metadata().get("format")) && tensors.keySet().stream().anyMatch(k -> k.startsWith("layers."));
        return read(net, file, tensors, legacy ? Naming.LAYERS : Naming.SEQUENTIAL);
    }

    /** The vector from tensors named as naming says; refusals as for {@link #load}. */
    static double[] read(Network net, Path file, Map<String, Safetensors.Tensor> tensors, Naming naming) throws IOException {
        Map<String, Safetensors.Tensor> left = new LinkedHashMap<>(tensors);
        double[] w = new double[net.parameterCount()];
        for (Network.Parameter p : net.parameters()) {
            String name = naming.name(p);
            Safetensors.Tensor t = left.remove(name);
            if (t == null)
                throw new IOException(file + " lacks the tensor '" + name + "' " + Arrays.toString(p.shape()) + " (" + describe(net, naming) + ")"
                        + prefixHint(tensors.keySet()));
            copyChecked(file, t, name, p.shape(), " (" + describe(net, naming) + ")", w, p.offset());
        }
        if (!left.isEmpty())
            throw new IOException(file + ": tensors " + left.keySet() + " are not parameters of this network (" + describe(net, naming) + ")");
        return w;
    }

    /**
     * t's values (named name in file) into out at offset, after checking its shape (a mismatch
     * named with both shapes, then context) and that every value is finite (the index named).
     */
    static void copyChecked(Path file, Safetensors.Tensor t, String name, long[] shape, String context, double[] out, int offset) throws IOException {
        if (!Arrays.equals(t.shape(), shape))
            throw new IOException(file + ": tensor '" + name + "' has shape " + Arrays.toString(t.shape()) + "; the network's is " + Arrays.toString(shape)
                    + context);
        double[] v = t.values();
        for (int i = 0; i < v.length; i++)
            if (!Double.isFinite(v[i])) throw new IOException(file + ": tensor '" + name + "' holds " + v[i] + " at index " + i + "; values must be finite");
        System.arraycopy(v, 0, out, offset, v.length);
    }

    /** "784-128-10 tanh: 0.weight [128, 784], 0.bias [128], ...". */
    private static String describe(Network net, Naming naming) {
        List<String> names = new ArrayList<>();
        for (Network.Parameter p : net.parameters()) names.add(naming.name(p) + " " + Arrays.toString(p.shape()));
        return net.shortName() + ": " + String.join(", ", names);
    }

    /**
     * A hint when every name in the file starts with the same module prefix (a state_dict of a model
     * that holds the Sequential as an attribute, e.g. self.layers): "" otherwise.
     */
    static String prefixHint(java.util.Set<String> names) {
        String first = names.stream().findFirst().orElse("");
        int dot = first.indexOf('.');
        if (dot < 1 || Character.isDigit(first.charAt(0))) return "";
        String prefix = first.substring(0, dot + 1);
        if (!names.stream().allMatch(k -> k.startsWith(prefix))) return "";
        return "; every tensor in the file is named '" + prefix + "...': save the nn.Sequential's own state_dict (e.g. model."
                + prefix.substring(0, dot) + ".state_dict())";
    }
}
