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
 * <p>A network with batch norm also has its running statistics in the file, as PyTorch's buffers
 * "M.running_mean" and "M.running_var" (F64: they are kept in double on every backend) and
 * "M.num_batches_tracked" (an I64 scalar), each after the layer's weight and bias as in PyTorch's
 * state_dict, so that {@code load_state_dict(..., strict=True)} of the PyTorch model takes the file
 * ({@link StateDict}, {@link #save(Network, StateDict, boolean, Path)}, {@link #loadStateDict}).
 *
 * <p>Checkpoints of format 1 and 2 named the tensors "layers.L.weight" and "layers.L.bias" (L the
 * network layer's index); {@link #load} reads that naming too.
 *
 * <p>Thread safety: stateless: safe to use from any thread.
 */
public final class Weights {
    private Weights() {}

    /**
     * What a PyTorch state_dict holds of a network: its parameters (the flat vector), its batch norm
     * running statistics ({@link Network#statistics()} order; empty without batch norm) and the
     * batches those have seen (num_batches_tracked, the same for every batch norm layer).
     */
    public record StateDict(double[] parameters, double[] statistics, long batchesTracked) {
        public StateDict {
            if (parameters == null || statistics == null) throw new NullPointerException("parameters and statistics must not be null");
            if (batchesTracked < 0) throw new IllegalArgumentException("batchesTracked = " + batchesTracked + "; must be >= 0");
        }

        /** Parameters with the network's initial running statistics (means 0, variances 1) and no batch seen. */
        public static StateDict initial(Network net, double[] parameters) {
            return new StateDict(parameters, net.initialStatistics(), 0);
        }
    }

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
     * w, as F32 (float32) or F64. A network with batch norm keeps running statistics: give them
     * with {@link #tensors(Network, StateDict, boolean)}.
     */
    public static Map<String, Safetensors.Tensor> tensors(Network net, double[] w, boolean float32) {
        requireNoStatistics(net);
        return tensors(net, StateDict.initial(net, w), float32);
    }

    /**
     * The network's state as PyTorch's state_dict names it: each layer's weight and bias (F32 or
     * F64), then, for a batch norm layer, its running_mean and running_var (F64) and its
     * num_batches_tracked (I64, a scalar).
     */
    public static Map<String, Safetensors.Tensor> tensors(Network net, StateDict state, boolean float32) {
        double[] w = state.parameters(), s = state.statistics();
        if (w.length != net.parameterCount())
            throw new IllegalArgumentException("the vector has " + w.length + " values; the network has " + net.parameterCount() + " parameters");
        if (s.length != net.statisticsCount())
            throw new IllegalArgumentException("the running statistics hold " + s.length + " values; the network's batch norm layers keep "
                    + net.statisticsCount());
        Map<String, Safetensors.Tensor> out = new LinkedHashMap<>();
        for (Network.Parameter p : net.parameters()) {
            out.put(p.name(), new Safetensors.Tensor(float32 ? "F32" : "F64", p.shape(), Arrays.copyOfRange(w, p.offset(), p.offset() + p.count())));
            if (p.kind().equals("bias") && net.layers().get(p.layer()) instanceof Network.BatchNorm) {
                for (Network.Parameter q : net.statistics())
                    if (q.layer() == p.layer()) out.put(q.name(), new Safetensors.Tensor("F64", q.shape(), Arrays.copyOfRange(s, q.offset(), q.offset() + q.count())));
                out.put(tracked(net, p.layer()), new Safetensors.Tensor("I64", new long[0], new double[] {state.batchesTracked()}));
            }
        }
        return out;
    }

    /** "M.num_batches_tracked" of batch norm layer l. */
    private static String tracked(Network net, int layer) {
        return net.module(layer) + ".num_batches_tracked";
    }

    private static void requireNoStatistics(Network net) {
        if (net.statisticsCount() > 0)
            throw new IllegalArgumentException(net.shortName() + " has batch norm layers, whose running statistics are part of its state: save a "
                    + "Weights.StateDict");
    }

    /**
     * Writes the network's weights w to file (metadata "format": "pt", as PyTorch's save_file
     * writes); a network with batch norm: {@link #save(Network, StateDict, boolean, Path)}.
     */
    public static void save(Network net, double[] w, boolean float32, Path file) throws IOException {
        requireNoStatistics(net);
        save(net, StateDict.initial(net, w), float32, file);
    }

    /** Writes the network's state (parameters F32 or F64, running statistics) to file, as {@link #tensors(Network, StateDict, boolean)} names it. */
    public static void save(Network net, StateDict state, boolean float32, Path file) throws IOException {
        Safetensors.write(file, tensors(net, state, float32), Map.of("format", "pt"));
    }

    /** The parameters of {@link #loadStateDict} (a file's running statistics are checked and left out). */
    public static double[] load(Network net, Path file) throws IOException {
        return loadStateDict(net, file).parameters();
    }

    /**
     * Reads a safetensors file of the network's state, trusting nothing: the file as
     * {@link Safetensors#read} (a truncated or corrupt file refused); exactly the network's
     * tensors, by the Sequential names (or, in a file adanewton wrote (metadata format "adanewton")
     * that names its tensors "layers.*", by the older checkpoint names); each with the network's
     * shape, F32 or F64; every value finite. A batch norm network's running statistics
     * (M.running_mean, M.running_var, variances >= 0) are read when the file has them (all of them,
     * or none: then they start as PyTorch's, means 0 and variances 1), and M.num_batches_tracked
     * (an I64 scalar >= 0) when present. Each refusal names the file and the tensor: a missing one
     * with its shape, a shape mismatch with the expected and the found shape (the first in the
     * network's order), a non-finite value with its index, extra tensors by name. Returns nothing on
     * any error.
     */
    public static StateDict loadStateDict(Network net, Path file) throws IOException {
        if (net == null) throw new NullPointerException("net is null: weights are read for a network");
        if (!Files.isRegularFile(file)) throw new IOException(file + " is not a file" + (Files.exists(file) ? "" : " (it does not exist)"));
        Safetensors.Contents contents = Safetensors.read(file);
        Map<String, Safetensors.Tensor> tensors = contents.tensors();
        boolean legacy = "adanewton".equals(contents.metadata().get("format")) && tensors.keySet().stream().anyMatch(k -> k.startsWith("layers."));
        return read(net, file, tensors, legacy ? Naming.LAYERS : Naming.SEQUENTIAL, false);
    }

    /**
     * The state from tensors named as naming says; statisticsRequired: the running statistics must
     * be there (a checkpoint of format 4 and later); refusals as for {@link #loadStateDict}.
     */
    static StateDict read(Network net, Path file, Map<String, Safetensors.Tensor> tensors, Naming naming, boolean statisticsRequired)
            throws IOException {
        Map<String, Safetensors.Tensor> left = new LinkedHashMap<>(tensors);
        double[] w = new double[net.parameterCount()];
        for (Network.Parameter p : net.parameters()) {
            String name = naming.name(p);
            Safetensors.Tensor t = left.remove(name);
            if (t == null) throw new IOException(lacks(net, file, naming, name, p, tensors));
            copyChecked(file, t, name, p.shape(), " (" + describe(net, naming) + ")", w, p.offset());
        }
        double[] statistics = net.initialStatistics();
        List<Network.Parameter> absent = new ArrayList<>();
        for (Network.Parameter p : net.statistics()) {
            String name = naming.name(p);
            Safetensors.Tensor t = left.remove(name);
            if (t == null) {
                absent.add(p);
                continue;
            }
            copyChecked(file, t, name, p.shape(), " (" + describe(net, naming) + ")", statistics, p.offset());
            if (p.kind().equals("running_var"))
                for (int i = 0; i < p.count(); i++)
                    if (statistics[p.offset() + i] < 0)
                        throw new IOException(file + ": tensor '" + name + "' holds " + statistics[p.offset() + i] + " at index " + i
                                + "; a running variance is >= 0");
        }
        if (!absent.isEmpty() && (statisticsRequired || absent.size() < net.statistics().size()))
            throw new IOException(lacks(net, file, naming, naming.name(absent.get(0)), absent.get(0), tensors)
                    + (statisticsRequired ? "" : "; a file holds the batch norm running statistics all or none"));
        long batches = -1;
        for (int l = 0; l < net.layers().size(); l++) {
            if (!(net.layers().get(l) instanceof Network.BatchNorm)) continue;
            String name = tracked(net, l);
            Safetensors.Tensor t = left.remove(name);
            if (t == null) continue;
            if (t.isFloat() || t.shape().length != 0 || t.values()[0] < 0)
                throw new IOException(file + ": tensor '" + name + "' is " + t.dtype() + " " + Arrays.toString(t.shape())
                        + (t.values().length == 1 ? " holding " + t.values()[0] : "") + "; num_batches_tracked is an I64 scalar >= 0, as PyTorch saves it");
            if (batches < 0) batches = (long) t.values()[0];
        }
        if (!left.isEmpty())
            throw new IOException(file + ": tensors " + left.keySet() + " are not parameters of this network (" + describe(net, naming) + ")");
        return new StateDict(w, statistics, Math.max(0, batches));
    }

    /** "FILE lacks the tensor 'NAME' [SHAPE] (the network's tensors)", and the prefix hint. */
    private static String lacks(Network net, Path file, Naming naming, String name, Network.Parameter p, Map<String, Safetensors.Tensor> tensors) {
        return file + " lacks the tensor '" + name + "' " + Arrays.toString(p.shape()) + " (" + describe(net, naming) + ")" + prefixHint(tensors.keySet());
    }

    /**
     * t's values (named name in file) into out at offset, after checking its dtype (F32 or F64),
     * its shape (a mismatch named with both shapes, then context) and that every value is finite
     * (the index named).
     */
    static void copyChecked(Path file, Safetensors.Tensor t, String name, long[] shape, String context, double[] out, int offset) throws IOException {
        if (!t.isFloat()) throw new IOException(file + ": tensor '" + name + "' has dtype " + t.dtype() + "; it must be F32 or F64");
        if (!Arrays.equals(t.shape(), shape))
            throw new IOException(file + ": tensor '" + name + "' has shape " + Arrays.toString(t.shape()) + "; the network's is " + Arrays.toString(shape)
                    + context);
        double[] v = t.values();
        for (int i = 0; i < v.length; i++)
            if (!Double.isFinite(v[i])) throw new IOException(file + ": tensor '" + name + "' holds " + v[i] + " at index " + i + "; values must be finite");
        System.arraycopy(v, 0, out, offset, v.length);
    }

    /** "784-128-10 tanh: 0.weight [128, 784], 0.bias [128], ..." (and a batch norm's running statistics). */
    private static String describe(Network net, Naming naming) {
        List<String> names = new ArrayList<>();
        for (Network.Parameter p : net.parameters()) names.add(naming.name(p) + " " + Arrays.toString(p.shape()));
        for (Network.Parameter p : net.statistics()) names.add(naming.name(p) + " " + Arrays.toString(p.shape()));
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
