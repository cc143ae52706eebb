package org.adanewton.train;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.adanewton.nn.Network;

/**
 * A checkpoint directory: weights.safetensors (the network's tensors "layers.L.weight" ([out, in]
 * for dense, [out, in, k, k] for conv2d layers, L the layer's index) and "layers.L.bias" [out],
 * loadable from Python), optimizer.safetensors (every other vector of the
 * optimizer state) and state.json (configuration and scalars). Written into a temporary directory
 * and moved into place, so a crash mid-write leaves the previous checkpoint intact.
 */
public final class Checkpoint {
    public static final int FORMAT_VERSION = 1;
    static final Gson GSON = new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues().create();

    /** The JSON part. */
    public record State(int formatVersion, String network, int parameters, TrainConfig config, TrainerState trainer) {}

    private Checkpoint() {}

    /** A network's identity for the foreign-checkpoint check. */
    public static String describe(Network net) {
        return "layers " + Arrays.toString(net.nativeSpec()) + ", loss " + net.loss() + ", " + net.regularization().kind() + " "
                + net.regularization().lambda();
    }

    /** Writes the checkpoint atomically into dir (replacing an existing one). */
    public static void write(Path dir, Network net, State state, double[] weights, boolean float32, Map<String, double[]> vectors) throws IOException {
        Path parent = dir.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path tmp = Files.createTempDirectory(parent, dir.getFileName() + ".tmp");
        try {
            String dtype = float32 ? "F32" : "F64";
            Map<String, Safetensors.Tensor> w = new LinkedHashMap<>();
            for (int l = 0; l < net.layers().size(); l++) {
                Network.Layer d = net.layers().get(l);
                if (!d.hasParameters()) continue;
                w.put("layers." + l + ".weight", new Safetensors.Tensor(dtype, d.weightShape(),
                        Arrays.copyOfRange(weights, d.weightOffset(), d.weightOffset() + d.weightCount())));
                w.put("layers." + l + ".bias", new Safetensors.Tensor(dtype, new long[] {d.biasCount()},
                        Arrays.copyOfRange(weights, d.biasOffset(), d.biasOffset() + d.biasCount())));
            }
            Map<String, String> meta = new LinkedHashMap<>();
            meta.put("format", "adanewton");
            meta.put("network", state.network());
            Safetensors.write(tmp.resolve("weights.safetensors"), w, meta);
            Map<String, Safetensors.Tensor> o = new LinkedHashMap<>();
            vectors.forEach((k, v) -> o.put(k, new Safetensors.Tensor(dtype, new long[] {v.length}, v)));
            Safetensors.write(tmp.resolve("optimizer.safetensors"), o, Map.of("format", "adanewton"));
            Files.writeString(tmp.resolve("state.json"), GSON.toJson(state), StandardCharsets.UTF_8);
            Path old = parent.resolve(dir.getFileName() + ".old");
            deleteTree(old);
            if (Files.exists(dir)) Files.move(dir, old);
            try {
                Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, dir);
            }
            deleteTree(old);
        } finally {
            deleteTree(tmp);
        }
    }

    /** What a checkpoint holds. */
    public record Loaded(State state, double[] weights, Map<String, double[]> vectors) {}

    /**
     * Reads a checkpoint and checks it belongs to `net` (when net is non-null): a checkpoint of
     * another network is refused with both descriptions in the message.
     */
    public static Loaded read(Path dir, Network net) throws IOException {
        Path json = dir.resolve("state.json");
        if (!Files.isRegularFile(json))
            throw new IOException(dir + " is not a checkpoint: " + json.getFileName() + " is missing (expected state.json, weights.safetensors, "
                    + "optimizer.safetensors)");
        State state;
        try {
            state = GSON.fromJson(Files.readString(json, StandardCharsets.UTF_8), State.class);
        } catch (RuntimeException e) { // JsonParseException, or the records' own refusals (IllegalArgumentException) as Gson wraps them
            throw new IOException(json + " is not a valid checkpoint state: " + reason(e));
        }
        if (state == null || state.formatVersion() != FORMAT_VERSION)
            throw new IOException(json + ": format version " + (state == null ? "missing" : state.formatVersion()) + "; this version reads " + FORMAT_VERSION);
        if (net != null) requireNetwork(dir, state, net);
        Safetensors.Contents w = Safetensors.read(dir.resolve("weights.safetensors"));
        int n = state.parameters();
        double[] weights = new double[n];
        int offset = 0;
        java.util.TreeSet<Integer> indices = new java.util.TreeSet<>();
        for (String name : w.tensors().keySet()) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("layers\\.(\\d+)\\.weight").matcher(name);
            if (m.matches()) indices.add(Integer.parseInt(m.group(1)));
        }
        for (int l : indices) {
            for (String part : new String[] {"weight", "bias"}) {
                Safetensors.Tensor t = w.tensors().get("layers." + l + "." + part);
                if (t == null) throw new IOException(dir + ": weights.safetensors lacks layers." + l + "." + part);
                if (offset + t.values().length > n) throw new IOException(dir + ": weights.safetensors holds more than the " + n + " parameters in state.json");
                System.arraycopy(t.values(), 0, weights, offset, t.values().length);
                offset += t.values().length;
            }
        }
        if (offset != n) throw new IOException(dir + ": weights.safetensors holds " + offset + " parameters; state.json says " + n);
        Map<String, double[]> vectors = new LinkedHashMap<>();
        Safetensors.read(dir.resolve("optimizer.safetensors")).tensors().forEach((k, t) -> vectors.put(k, t.values()));
        return new Loaded(state, weights, vectors);
    }

    /** The innermost refusal of a value (a record's IllegalArgumentException), else the parser's own message. */
    private static String reason(RuntimeException e) {
        String message = e.getMessage();
        for (Throwable t = e; t != null; t = t.getCause())
            if (t instanceof IllegalArgumentException && !(t instanceof NumberFormatException) && t.getMessage() != null) message = t.getMessage();
        return message;
    }

    /** Throws unless the checkpoint's state was saved for this network. */
    public static void requireNetwork(Path dir, State state, Network net) {
        if (!describe(net).equals(state.network()))
            throw new IllegalArgumentException("the checkpoint in " + dir + " is for a different network (" + state.network() + "), not for this one ("
                    + describe(net) + ")");
    }

    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(q);
        }
    }
}
