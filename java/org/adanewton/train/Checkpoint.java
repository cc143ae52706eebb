package org.adanewton.train;

import com.google.gson.Gson;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.adanewton.data.HeapBudget;
import org.adanewton.nn.Network;

/**
 * A checkpoint directory: weights.safetensors (the network's tensors as {@link Weights} names them,
 * "I.weight" ([out, in] for dense, [out, in, k, k] for conv2d layers) and "I.bias" [out], I the
 * layer's index in the equivalent PyTorch nn.Sequential, so that
 * {@code model.load_state_dict(safetensors.torch.load_file(...))} loads it; a batch norm layer's
 * running statistics and num_batches_tracked are there too, as PyTorch names them; formats 1 and 2
 * named them "layers.L.weight", L the network layer's index), optimizer.safetensors (every other
 * vector of the optimizer state) and state.json (configuration and scalars). Written into a
 * temporary directory and moved into place, so a crash mid-write leaves the previous checkpoint
 * intact.
 *
 * <p>Thread safety: stateless: safe to use from any thread, but not on one directory from two
 * threads or processes at once: {@code write} removes the temporaries it finds beside the directory
 * (a run holds the lock OUT/.adanewton.lock for this).
 */
public final class Checkpoint {
    /**
     * 4: weights.safetensors holds the batch norm running statistics (M.running_mean,
     * M.running_var, F64) and M.num_batches_tracked; optimizer.safetensors the pivot's running
     * statistics (pivot.statistics); state.json's network field is {@link #describe} (the layers'
     * own records, not the native spec). 3: weights.safetensors names its tensors as PyTorch's
     * nn.Sequential does ("0.weight"; the state.json is as in 2); its network field is "layers"
     * and the native spec of the time ({@link #legacyDescribe}). 2: strict JSON, nulls written, the
     * data source and the first-order failure counters recorded; its weights named
     * "layers.L.weight". 1 to 3 are still read.
     */
    public static final int FORMAT_VERSION = 4;
    /** The oldest format read. */
    static final int OLDEST_FORMAT = 1;
    /** A state.json larger than this is not one of ours. */
    static final long MAX_STATE_BYTES = 1 << 20;
    static final Gson GSON = StrictJson.GSON;

    /** The JSON part. */
    /** The JSON part; data is null in checkpoints written before it was recorded. */
    public record State(int formatVersion, String network, int parameters, TrainConfig config, TrainerState trainer, DataSource data) {}

    private Checkpoint() {}

    /**
     * A network's identity for the foreign-checkpoint check (format 4 on): its input shape, each
     * layer's record (kind, sizes, activation, parameter offsets; locale-independent) with the
     * layers it reads when not the one before, the loss and the regularization. It does not depend
     * on the native spec's format.
     */
    public static String describe(Network net) {
        StringBuilder b = new StringBuilder("input ").append(Arrays.toString(net.inputShape()));
        for (int l = 0; l < net.layers().size(); l++) {
            b.append("; ").append(l).append(' ').append(net.layers().get(l));
            int[] in = net.inputs(l);
            if (!(in.length == 1 && in[0] == l - 1)) b.append(" <- ").append(Arrays.toString(in));
        }
        return b.append("; ").append(lossAndRegularization(net)).toString();
    }

    private static String lossAndRegularization(Network net) {
        return "loss " + net.loss() + ", " + net.regularization().kind() + " " + net.regularization().lambda();
    }

    /**
     * The identities formats 1 to 3 recorded: "layers" and the native spec of the time, 10 ints per
     * layer {kind, activation, parameters} for a chain of dense, conv2d (both with a bias) and
     * pooling layers (flatten omitted), the only networks those formats were written for; and, for
     * format-3 checkpoints written between the 16-int spec and format 4, that spec. Empty for a
     * network no earlier format could hold.
     */
    static List<String> legacyDescribe(Network net) {
        String sixteen = "layers " + Arrays.toString(net.nativeSpec()) + ", " + lossAndRegularization(net);
        if (!net.isChain()) return List.of(sixteen);
        List<int[]> rows = new ArrayList<>();
        for (Network.Layer layer : net.layers()) {
            int[] r = new int[10];
            r[1] = layer.activation().nativeCode;
            if (layer instanceof Network.Dense d && d.biasCount() > 0) {
                r[0] = 1;
                r[2] = d.out();
            } else if (layer instanceof Network.Conv2d c && c.biasCount() > 0) {
                r[0] = 2;
                int[] g = {c.inChannels(), c.inHeight(), c.inWidth(), c.outChannels(), c.kernel(), c.stride(), c.padding()};
                System.arraycopy(g, 0, r, 2, g.length);
            } else if (layer instanceof Network.Pool2d p) {
                r[0] = p.max() ? 3 : 4;
                int[] g = {p.channels(), p.inHeight(), p.inWidth(), p.kernel(), p.stride()};
                System.arraycopy(g, 0, r, 2, g.length);
            } else if (layer instanceof Network.Flatten) {
                continue;
            } else {
                return List.of(sixteen); // a layer the 10-int spec had no code for
            }
            rows.add(r);
        }
        int[] spec = new int[2 + 10 * rows.size()];
        spec[0] = net.inputDim();
        spec[1] = rows.size();
        for (int i = 0; i < rows.size(); i++) System.arraycopy(rows.get(i), 0, spec, 2 + 10 * i, 10);
        return List.of("layers " + Arrays.toString(spec) + ", " + lossAndRegularization(net), sixteen);
    }

    /** The optimizer vector that holds running statistics (the pivot's), not parameters; written in F64 as the others' statistics. */
    static final String PIVOT_STATISTICS = "pivot.statistics";

    /**
     * Writes the checkpoint atomically into dir (replacing an existing one): the network's state
     * (parameters F32 when float32, else F64; running statistics F64), the optimizer vectors (the
     * same dtype as the parameters; the pivot's statistics F64) and the state.
     */
    public static void write(Path dir, Network net, State state, Weights.StateDict values, boolean float32, Map<String, double[]> vectors)
            throws IOException {
        Path parent = dir.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path tmp = Files.createTempDirectory(parent, dir.getFileName() + ".tmp");
        try {
            String dtype = float32 ? "F32" : "F64";
            Map<String, Safetensors.Tensor> w = Weights.tensors(net, values, float32);
            Map<String, String> meta = new LinkedHashMap<>();
            meta.put("format", "adanewton");
            meta.put("network", state.network());
            Safetensors.write(tmp.resolve("weights.safetensors"), w, meta);
            Map<String, Safetensors.Tensor> o = new LinkedHashMap<>();
            vectors.forEach((k, v) -> o.put(k, new Safetensors.Tensor(k.equals(PIVOT_STATISTICS) ? "F64" : dtype, new long[] {v.length}, v)));
            Safetensors.write(tmp.resolve("optimizer.safetensors"), o, Map.of("format", "adanewton"));
            Files.writeString(tmp.resolve("state.json"), GSON.toJson(state), StandardCharsets.UTF_8);
            // on disk before the moves: after a power loss the moved directory holds complete files
            for (String f : new String[] {"weights.safetensors", "optimizer.safetensors", "state.json"}) sync(tmp.resolve(f), false);
            sync(tmp, true);
            // dir -> dir.old, tmp -> dir: at every moment one complete checkpoint is dir, dir.old or a
            // temporary, and locate() finds it; an existing dir.old goes only when a newer dir replaces it
            Path old = parent.resolve(dir.getFileName() + OLD);
            if (Files.exists(dir)) {
                deleteTree(old);
                Files.move(dir, old);
            }
            try {
                Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, dir);
            }
            sync(parent, true);
            deleteTree(old);
            for (Path stale : temporaries(dir)) deleteTree(stale); // left by runs killed mid-write
        } finally {
            deleteTree(tmp);
        }
    }

    static final String OLD = ".old", TMP = ".tmp";

    /** Forces a file's (or a directory's entries') writes to the device; a directory that cannot be opened for it is skipped. */
    private static void sync(Path p, boolean directory) throws IOException {
        try (java.nio.channels.FileChannel c = java.nio.channels.FileChannel.open(p, java.nio.file.StandardOpenOption.READ)) {
            c.force(true);
        } catch (IOException e) {
            if (!directory) throw e; // some file systems do not sync directories: the files are synced all the same
        }
    }

    /** The temporaries beside dir (dir.tmp*). */
    private static java.util.List<Path> temporaries(Path dir) throws IOException {
        Path parent = dir.toAbsolutePath().getParent();
        String prefix = dir.getFileName() + TMP;
        try (Stream<Path> s = Files.list(parent)) {
            return s.filter(p -> p.getFileName().toString().startsWith(prefix) && Files.isDirectory(p)).toList();
        }
    }

    /** Where a checkpoint was found, and a note when it was not the directory asked for. */
    public record Location(Path dir, String note) {}

    /**
     * The newest complete checkpoint for the directory asked for: the directory itself when it holds
     * a state.json, else (a run killed between the write's two moves) a complete temporary dir.tmp*
     * (newer than dir.old by the write's order; of several, the furthest on), else dir.old; a note
     * says which was taken. Throws when there is none, saying what was looked at.
     */
    public static Location locate(Path dir) throws IOException {
        if (Files.isRegularFile(dir.resolve("state.json"))) return new Location(dir, null);
        Path parent = dir.toAbsolutePath().getParent();
        java.util.List<Path> candidates = new java.util.ArrayList<>();
        Path old = parent == null ? null : parent.resolve(dir.getFileName() + OLD);
        if (parent != null && Files.isDirectory(parent)) {
            candidates.addAll(temporaries(dir));
            if (Files.isDirectory(old)) candidates.add(old);
        }
        Path best = null;
        long bestIterations = -1;
        for (Path c : candidates) {
            if (c.equals(old) && best != null) break; // a complete temporary is newer than dir.old
            try {
                if (!Files.isRegularFile(c.resolve("weights.safetensors")) || !Files.isRegularFile(c.resolve("optimizer.safetensors"))) continue;
                long it = readState(c).trainer().iterations();
                if (it > bestIterations) {
                    best = c;
                    bestIterations = it;
                }
            } catch (IOException incomplete) {
                // cut by the kill: not a candidate
            }
        }
        if (best == null)
            throw new IOException(dir + " is not a checkpoint: state.json is missing (expected state.json, weights.safetensors, optimizer.safetensors)"
                    + (candidates.isEmpty() ? "" : "; " + candidates + " hold no complete one either"));
        return new Location(best, dir + " is missing (a run stopped while writing it); resuming from " + best + ", the newest complete checkpoint ("
                + bestIterations + " iterations)");
    }

    /**
     * What a checkpoint holds: the state, the parameters, the batch norm running statistics
     * (Network#statistics order; empty without batch norm; a checkpoint of format 3 or earlier
     * holds none) and the optimizer vectors.
     */
    public record Loaded(State state, double[] weights, double[] statistics, Map<String, double[]> vectors) {
        /** The same checkpoint, continued on other data on purpose (an explicit --data that differs from the recorded one). */
        public Loaded onData(DataSource data) {
            State s = state;
            return new Loaded(new State(s.formatVersion(), s.network(), s.parameters(), s.config(), s.trainer(), data), weights, statistics, vectors);
        }
    }

    /** The optimizer vectors a checkpoint may hold (each as long as the parameter vector, but pivot.statistics: as the running statistics). */
    static final Set<String> VECTORS = Set.of("norm.accumulator", "optimizer.m", "optimizer.v", "warm.m", "warm.v", "pivot.weights", PIVOT_STATISTICS);

    /** The JSON part alone (to learn the preset before the network is built); the refusals as for {@link #read}. */
    public static State readState(Path dir) throws IOException {
        Path json = dir.resolve("state.json");
        if (!Files.isRegularFile(json))
            throw new IOException(dir + " is not a checkpoint: " + json.getFileName() + " is missing (expected state.json, weights.safetensors, "
                    + "optimizer.safetensors)");
        long size = Files.size(json);
        if (size > MAX_STATE_BYTES) throw new IOException(json + ": " + HeapBudget.size(size) + "; a checkpoint's state is a few KB");
        State state;
        try {
            String text = Files.readString(json, StandardCharsets.UTF_8);
            int version = formatVersion(text);
            if (version < OLDEST_FORMAT || version > FORMAT_VERSION)
                throw new IOException(json + ": format version " + version + "; this version reads " + OLDEST_FORMAT + " to " + FORMAT_VERSION);
            state = (version == 1 ? StrictJson.LEGACY : GSON).fromJson(text, State.class);
        } catch (java.nio.charset.MalformedInputException e) {
            throw new IOException(json + " is not UTF-8 text");
        } catch (RuntimeException e) { // JsonParseException, or the records' own refusals (IllegalArgumentException) as Gson wraps them
            throw new IOException(json + " is not a valid checkpoint state: " + reason(e));
        }
        if (state == null) throw new IOException(json + " is empty");
        if (state.config() == null || state.trainer() == null || state.network() == null)
            throw new IOException(json + ": the " + (state.config() == null ? "config" : state.trainer() == null ? "trainer" : "network")
                    + " field is missing");
        return state;
    }

    /**
     * Reads a checkpoint of `net` and verifies it, trusting nothing: the state as {@link #readState};
     * the network's description and parameter count; in weights.safetensors exactly the network's
     * tensors (formats 3 and 4: "I.weight", "I.bias" as {@link Weights} names them, and from format
     * 4 on every running statistic of its batch norm layers; formats 1 and 2: "layers.L.weight",
     * "layers.L.bias"), each with the layer's shape and a float dtype; in optimizer.safetensors only
     * known vectors of their length; every value finite. A checkpoint of another network is refused
     * with both descriptions in the message.
     */
    public static Loaded read(Path dir, Network net) throws IOException {
        State state = readState(dir);
        if (net == null) throw new NullPointerException("net is null: a checkpoint is read for a network");
        requireNetwork(dir, state, net);
        int n = net.parameterCount();
        if (state.parameters() != n)
            throw new IOException(dir.resolve("state.json") + ": parameters = " + state.parameters() + "; the network has " + n);
        Path weightsFile = dir.resolve("weights.safetensors"), optimizerFile = dir.resolve("optimizer.safetensors");
        // format 3 names the tensors as PyTorch's nn.Sequential, 1 and 2 "layers.L.*": each format its own naming
        Weights.StateDict values = Weights.read(net, weightsFile, Safetensors.read(weightsFile).tensors(),
                state.formatVersion() >= 3 ? Weights.Naming.SEQUENTIAL : Weights.Naming.LAYERS, state.formatVersion() >= 4);
        Map<String, double[]> vectors = new LinkedHashMap<>();
        for (Map.Entry<String, Safetensors.Tensor> e : Safetensors.read(optimizerFile).tensors().entrySet()) {
            if (!VECTORS.contains(e.getKey())) throw new IOException(optimizerFile + ": unknown tensor '" + e.getKey() + "'; expected some of " + VECTORS);
            int length = e.getKey().equals(PIVOT_STATISTICS) ? net.statisticsCount() : n;
            double[] v = new double[length];
            copy(optimizerFile, e.getValue(), e.getKey(), new long[] {length}, v, 0);
            vectors.put(e.getKey(), v);
        }
        return new Loaded(state, values.parameters(), values.statistics(), vectors);
    }

    /** t (named name in file) into out at offset, after checking its presence, shape and values. */
    private static void copy(Path file, Safetensors.Tensor t, String name, long[] shape, double[] out, int offset) throws IOException {
        if (t == null) throw new IOException(file + " lacks the tensor '" + name + "' " + Arrays.toString(shape));
        Weights.copyChecked(file, t, name, shape, "", out, offset);
    }

    /**
     * The formatVersion field of a state.json text, read leniently (version 1 wrote NaN as a bare
     * word); a JsonParseException when the text is not JSON or the field is missing.
     */
    private static int formatVersion(String text) {
        com.google.gson.JsonElement root = com.google.gson.JsonParser.parseString(text);
        com.google.gson.JsonElement v = root.isJsonObject() ? root.getAsJsonObject().get("formatVersion") : null;
        if (v == null || !v.isJsonPrimitive() || !v.getAsJsonPrimitive().isNumber())
            throw new com.google.gson.JsonParseException("$: no numeric formatVersion field");
        return v.getAsInt();
    }

    /** " (at line L column C path P)" from a parser's message, or "". */
    static String position(String message) {
        java.util.regex.Matcher at = java.util.regex.Pattern.compile("line \\d+ column \\d+( path \\S+)?").matcher(message);
        return at.find() ? " (at " + at.group() + ")" : "";
    }

    /**
     * Why the state was refused: the strict reader's own words (a JSON path and the rule), or where
     * the text stops being JSON.
     */
    private static String reason(RuntimeException e) {
        String message = String.valueOf(e.getMessage());
        if (e instanceof com.google.gson.JsonSyntaxException || message.contains("MalformedJsonException")) return "not valid JSON" + position(message);
        return message;
    }

    /**
     * Throws unless the checkpoint's state was saved for this network: its network field is
     * {@link #describe} (format 4 on) or one of {@link #legacyDescribe} (formats 1 to 3).
     */
    public static void requireNetwork(Path dir, State state, Network net) {
        boolean same = state.formatVersion() >= 4 ? describe(net).equals(state.network()) : legacyDescribe(net).contains(state.network());
        if (!same)
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
