package org.adanewton.train;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.adanewton.backend.BackendKind;
import org.adanewton.backend.cpu.CpuBackend;
import org.adanewton.data.DataLocator;
import org.adanewton.nn.Network;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A checkpoint is verified, not trusted: each mutation a user (or a crash, or another tool) can make
 * is refused with a message naming the file and the tensor or field, never accepted and never a raw
 * exception.
 */
class CheckpointVerificationTest {
    static Path good;
    static Network net;
    static TrainConfig small;
    static DataLocator.Located data;

    @BeforeAll
    static void write(@TempDir Path dir) throws Exception {
        data = DataLocator.fashionMnist(Path.of("data/fashion-mnist-subset"));
        Preset p = Preset.get("fmnist-mlp");
        net = p.network();
        TrainConfig c = TrainConfig.of(p, MethodSpec.parse("tr-rmsprop"), 2);
        small = c.toBuilder().epochs(2).batch(100).hessianBatch(0).seed(3).warmEpochs(1).pivotEvery(1).evalEvery(1).checkpointEvery(0)
                .trainSamples(500).threads(1).backend(BackendKind.CPU).build();
        try (CpuBackend be = new CpuBackend(1); Trainer t = new Trainer(small, net, data.train(), data.test(), be, dir, (row, tr) -> {})) {
            assertEquals("completed", t.run(null).status());
        }
        good = dir.resolve("checkpoint");
        Checkpoint.read(good, net); // the unmodified checkpoint is accepted
    }

    /** A copy of the good checkpoint with one file changed. */
    private static Path mutate(Path tmp, String file, UnaryOperator<byte[]> change) throws IOException {
        Path copy = Files.createTempDirectory(tmp, "ckpt");
        for (String f : new String[] {"state.json", "weights.safetensors", "optimizer.safetensors"})
            Files.write(copy.resolve(f), f.equals(file) ? change.apply(Files.readAllBytes(good.resolve(f))) : Files.readAllBytes(good.resolve(f)));
        return copy;
    }

    private static void refused(Path ckpt, String file, String... phrases) {
        IOException e = assertThrows(IOException.class, () -> Checkpoint.read(ckpt, net));
        assertTrue(e.getMessage().contains(file), "the message must name " + file + ": " + e.getMessage());
        for (String phrase : phrases) assertTrue(e.getMessage().contains(phrase), "'" + phrase + "' missing in: " + e.getMessage());
    }

    /** The safetensors header as text, edited, with its length field rewritten. */
    private static UnaryOperator<byte[]> header(UnaryOperator<String> edit) {
        return bytes -> {
            ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
            int length = (int) b.getLong();
            String h = edit.apply(new String(bytes, 8, length, StandardCharsets.UTF_8).stripTrailing());
            byte[] json = h.getBytes(StandardCharsets.UTF_8);
            ByteBuffer out = ByteBuffer.allocate(8 + json.length + bytes.length - 8 - length).order(ByteOrder.LITTLE_ENDIAN);
            out.putLong(json.length).put(json).put(bytes, 8 + length, bytes.length - 8 - length);
            return out.array();
        };
    }

    @Test
    void tensorsAreComparedWithTheNetwork(@TempDir Path tmp) throws IOException {
        refused(mutate(tmp, "weights.safetensors", header(h -> h.replace("\"0.weight", "\"0.weighs"))), "weights.safetensors",
                "lacks the tensor '0.weight'");
        refused(mutate(tmp, "weights.safetensors", header(h -> h.replace("[128,784]", "[784,128]"))), "weights.safetensors",
                "'0.weight' has shape [784, 128]; the network's is [128, 784]");
        refused(mutate(tmp, "optimizer.safetensors", header(h -> h.replace("norm.accumulator", "norm.accumulater"))), "optimizer.safetensors",
                "unknown tensor 'norm.accumulater'");
    }

    @Test
    void offsetsMustTileTheDataExactly(@TempDir Path tmp) throws IOException {
        UnaryOperator<byte[]> offByOne = bytes -> {
            byte[] copy = bytes.clone();
            ByteBuffer.wrap(copy).order(ByteOrder.LITTLE_ENDIAN).putLong(0, ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong() + 1);
            return copy;
        };
        refused(mutate(tmp, "weights.safetensors", offByOne), "weights.safetensors", "is not one JSON object", "a wrong header length");
        refused(mutate(tmp, "weights.safetensors", bytes -> java.util.Arrays.copyOf(bytes, bytes.length + 4)), "weights.safetensors",
                "the tensors end at data offset");
        // 0.bias made to overlap the first tensor: begins where 0.weight begins
        refused(mutate(tmp, "weights.safetensors", header(h -> h.replaceFirst("(\"0\\.bias\":\\{[^}]*\"data_offsets\":\\[)(\\d+),(\\d+)",
                "$1" + 0 + "," + 4 * 128))), "weights.safetensors", "both start at data offset 0");
        refused(mutate(tmp, "weights.safetensors", header(h -> "[".repeat(5000) + "]".repeat(5000))), "weights.safetensors", "nests 5000 levels");
        refused(mutate(tmp, "weights.safetensors", bytes -> {
            byte[] copy = bytes.clone();
            copy[9] = (byte) 0xff; // invalid UTF-8 inside the header
            return copy;
        }), "weights.safetensors", "not UTF-8");
    }

    @Test
    void valuesMustBeFinite(@TempDir Path tmp) throws IOException {
        refused(mutate(tmp, "weights.safetensors", bytes -> {
            byte[] copy = bytes.clone();
            ByteBuffer.wrap(copy).order(ByteOrder.LITTLE_ENDIAN).putFloat(copy.length - 4, Float.NaN);
            return copy;
        }), "weights.safetensors", "NaN", "values must be finite");
        refused(mutate(tmp, "optimizer.safetensors", bytes -> {
            byte[] copy = bytes.clone();
            ByteBuffer.wrap(copy).order(ByteOrder.LITTLE_ENDIAN).putFloat(copy.length - 4, Float.POSITIVE_INFINITY);
            return copy;
        }), "optimizer.safetensors", "Infinity");
    }

    @Test
    void stateFieldsAreCheckedWithTheirRule(@TempDir Path tmp) throws IOException {
        Map<String, String[]> cases = new LinkedHashMap<>();
        cases.put("\"nextEval\": ", new String[] {"-5.0", "nextEval = -5.0; must be finite and >= 0"});
        cases.put("\"iterations\": ", new String[] {"-3", "iterations = -3; must be >= 0"});
        cases.put("\"evalEvery\": ", new String[] {"\"Infinity\"", "evalEvery = Infinity; must be finite"});
        cases.put("\"pivotLoss\": ", new String[] {"\"-Infinity\"", "pivotLoss = -Infinity"});
        cases.put("\"parameters\": ", new String[] {"2000000000", "parameters = 2000000000; the network has 101770"});
        for (Map.Entry<String, String[]> c : cases.entrySet()) {
            Path ckpt = mutate(tmp, "state.json", bytes -> new String(bytes, StandardCharsets.UTF_8)
                    .replaceFirst(java.util.regex.Pattern.quote(c.getKey()) + "[^,\\n]+", c.getKey() + c.getValue()[0]).getBytes(StandardCharsets.UTF_8));
            refused(ckpt, "state.json", c.getValue()[1]);
        }
        refused(mutate(tmp, "state.json", bytes -> new byte[] {(byte) 0xc3, (byte) 0x28}), "state.json", "not UTF-8");
    }

    /**
     * The good state.json as an older format recorded it: that formatVersion and the network's
     * identity of the time ("layers" and the 10-int native spec).
     */
    static String olderFormat(String json, int version) {
        String network = Checkpoint.describe(net), legacy = Checkpoint.legacyDescribe(net).get(0);
        assertTrue(json.contains("\"network\": \"" + network + "\""), json);
        assertTrue(legacy.startsWith("layers [784, 2, 1, 1, 128, 0, 0, 0, 0, 0, 0, 0, 1, 0, 10,"), legacy);
        return json.replace("\"formatVersion\": " + Checkpoint.FORMAT_VERSION, "\"formatVersion\": " + version)
                .replace("\"network\": \"" + network + "\"", "\"network\": \"" + legacy + "\"");
    }

    @Test
    void aFormatOneStateStillReads(@TempDir Path tmp) throws IOException {
        // as the format-1 writer wrote it: nulls and the newer fields left out, non-finite doubles as bare words
        String v1 = olderFormat(Files.readString(good.resolve("state.json")), 1)
                .replaceAll(",\\s*\"[A-Za-z]+\": null", "").replaceAll("\"[A-Za-z]+\": null,\\s*", "")
                .replaceAll(",\\s*\"firstOrderInvalid(Streak)?\": \\d+", "").replaceAll("\"(NaN|-?Infinity)\"", "$1")
                .replaceAll(",\\s*\"data\": \\{[^}]*\\}", "");
        assertFalse(v1.contains("null") || v1.contains("firstOrderInvalid") || v1.contains("\"data\""), v1);
        Path ckpt = mutate(tmp, "state.json", bytes -> v1.getBytes(StandardCharsets.UTF_8));
        layerNames(ckpt); // and its weights named as format 1 named them
        Checkpoint.Loaded loaded = Checkpoint.read(ckpt, net);
        assertEquals(1, loaded.state().formatVersion());
        assertArrayEquals(Checkpoint.read(good, net).weights(), loaded.weights());
        assertNull(loaded.state().data(), "format 1 recorded no data source");
        assertEquals(Checkpoint.read(good, net).state().trainer().iterations(), loaded.state().trainer().iterations());
    }

    /**
     * Renames the tensors of ckpt/weights.safetensors as checkpoint formats 1 and 2 wrote them
     * ("layers.L.weight", L the network layer), the values, dtypes, order and metadata kept: the
     * file the format-2 writer wrote for the same weights.
     */
    private static void layerNames(Path ckpt) throws IOException {
        Path file = ckpt.resolve("weights.safetensors");
        Safetensors.Contents c = Safetensors.read(file);
        Map<String, Safetensors.Tensor> renamed = new LinkedHashMap<>();
        for (Network.Parameter p : net.parameters()) renamed.put("layers." + p.layer() + "." + p.kind(), c.tensors().get(p.name()));
        assertEquals(c.tensors().size(), renamed.size());
        Safetensors.write(file, renamed, c.metadata());
    }

    /** A copy of the good checkpoint as the format-2 writer wrote it: formatVersion 2, tensors "layers.L.*". */
    private static Path formatTwo(Path tmp) throws IOException {
        Path ckpt = mutate(tmp, "state.json", bytes -> olderFormat(new String(bytes, StandardCharsets.UTF_8), 2).getBytes(StandardCharsets.UTF_8));
        layerNames(ckpt);
        return ckpt;
    }

    @Test
    void aFormatTwoCheckpointWithLayerNamesStillResumes(@TempDir Path tmp) throws IOException {
        Path v2 = formatTwo(tmp);
        assertTrue(Safetensors.read(v2.resolve("weights.safetensors")).tensors().containsKey("layers.1.bias"));
        Checkpoint.Loaded loaded = Checkpoint.read(v2, net);
        assertEquals(2, loaded.state().formatVersion());
        assertArrayEquals(Checkpoint.read(good, net).weights(), loaded.weights());
        // resumed for one more epoch, it writes the current format with PyTorch's names
        Path out = tmp.resolve("resumed");
        try (CpuBackend be = new CpuBackend(1);
                Trainer t = new Trainer(small.withEpochs(3), net, data.train(), data.test(), be, out, (row, tr) -> {})) {
            assertEquals("completed", t.run(loaded).status());
        }
        Checkpoint.Loaded after = Checkpoint.read(out.resolve("checkpoint"), net);
        assertEquals(Checkpoint.FORMAT_VERSION, after.state().formatVersion());
        assertTrue(after.state().trainer().iterations() > loaded.state().trainer().iterations());
        assertEquals(java.util.List.of("0.weight", "0.bias", "2.weight", "2.bias"),
                java.util.List.copyOf(Safetensors.read(out.resolve("checkpoint").resolve("weights.safetensors")).tensors().keySet()));
    }

    @Test
    void eachFormatReadsItsOwnNames(@TempDir Path tmp) throws IOException {
        // formats 3 and 4 with the old names, format 2 with the new: refused, naming the tensor the format expects
        Path v4old = mutate(tmp, "state.json", bytes -> bytes);
        layerNames(v4old);
        refused(v4old, "weights.safetensors", "lacks the tensor '0.weight' [128, 784]");
        Path v3old = mutate(tmp, "state.json", bytes -> olderFormat(new String(bytes, StandardCharsets.UTF_8), 3).getBytes(StandardCharsets.UTF_8));
        layerNames(v3old);
        refused(v3old, "weights.safetensors", "lacks the tensor '0.weight' [128, 784]");
        Path v2new = mutate(tmp, "state.json", bytes -> olderFormat(new String(bytes, StandardCharsets.UTF_8), 2).getBytes(StandardCharsets.UTF_8));
        refused(v2new, "weights.safetensors", "lacks the tensor 'layers.0.weight' [128, 784]");
    }

    @Test
    void stateJsonIsReadStrictly(@TempDir Path tmp) throws IOException {
        String json = Files.readString(good.resolve("state.json"));
        java.util.function.BiConsumer<UnaryOperator<String>, String> check = (edit, phrase) -> {
            try {
                String edited = edit.apply(json);
                assertNotEquals(json, edited, "the edit for '" + phrase + "' changed nothing");
                refused(mutate(tmp, "state.json", bytes -> edited.getBytes(StandardCharsets.UTF_8)), "state.json", phrase);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        };
        check.accept(j -> j.replaceFirst("\"nesterov\": (true|false)", "\"nesterov\": \"abc\""), "nesterov: expected true or false, found the string \"abc\"");
        check.accept(j -> j.replaceFirst("\"seed\": 3,", "\"seed\": 3, \"extra\": 1,"), "unknown field 'extra' in TrainConfig");
        check.accept(j -> j.replaceFirst("\"seed\": 3,", ""), "field 'seed' of TrainConfig is missing");
        check.accept(j -> j.replaceFirst("\"batch\": 100", "\"batch\": \"100\""), "batch: expected a number, found the string \"100\"");
        check.accept(j -> j.replaceFirst("\"curvature\": \"HESSIAN\"", "\"curvature\": \"CURVY\""), "'CURVY' is not one of [HESSIAN, GAUSS_NEWTON]");
        check.accept(j -> j.replaceFirst("\"batch\": 100", "\"batch\": 1.5"), "batch: a number out of range for int");
        check.accept(j -> j.replaceFirst("\"seed\": 3,", "\"seed\": null,"), "null where TrainConfig needs a value (long)");
        check.accept(j -> j.replaceFirst("\"method\": \"tr-rmsprop\"", "\"method\": null"), "null where TrainConfig needs a value (String)");
        check.accept(j -> j.replaceFirst("\"mainSampler\": \\{[^}]*\\}", "\"mainSampler\": null"), "null where TrainerState needs a value (State)");
        check.accept(j -> j.replaceFirst("\"formatVersion\": 4", "\"formatVersion\": 7"), "format version 7; this version reads 1 to 4");
        check.accept(j -> j.replaceFirst("\"formatVersion\": 4", "\"formatVersion\": 0"), "format version 0; this version reads 1 to 4");
        check.accept(j -> j.replaceFirst("\\{", "{ // a comment\n"), "not valid JSON");
        check.accept(j -> j.substring(0, j.length() / 2), "is not a valid checkpoint state"); // cut: refused, wherever the cut falls
        check.accept(j -> "[".repeat(100_000) + "]".repeat(100_000), "no numeric formatVersion field");
    }
}
