package org.adanewton.train;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.zip.GZIPOutputStream;
import org.adanewton.backend.BackendKind;
import org.adanewton.backend.cpu.CpuBackend;
import org.adanewton.data.Cifar10Reader;
import org.adanewton.data.DataLocator;
import org.adanewton.data.Dataset;
import org.adanewton.data.IdxReader;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded mutations of every file the library reads (IDX raw and gzip, CIFAR-10 batches,
 * safetensors, state.json): bit flips, truncations, extensions, header-field and JSON-token
 * mutations. Each case's outcome is classified: accepted and valid (the result checked against the
 * file's own claims), or refused with an IOException whose message names the file. Anything else (a
 * RuntimeException, an Error, a result that breaks its own header) fails the test with the seed and
 * case. {@value #CASES_PROPERTY} multiplies the case counts for longer runs
 * (-Dadanewton.fuzzFactor=20).
 */
class FuzzTest {
    static final String CASES_PROPERTY = "adanewton.fuzzFactor";
    static final int FACTOR = Integer.getInteger(CASES_PROPERTY, 1);
    static final long SEED = 20261202;

    /** Counts per outcome, printed at the end of each case family. */
    static final class Outcomes {
        int accepted, refused;

        void report(String family) {
            System.out.printf("fuzz %s: %d cases, %d accepted and valid, %d refused naming the file%n", family, accepted + refused, accepted, refused);
        }
    }

    static byte[] mutate(byte[] valid, Random r, int headerBytes) {
        byte[] b = valid.clone();
        switch (r.nextInt(6)) {
            case 0 -> { // a few bit flips, mostly in the header
                int flips = 1 + r.nextInt(4);
                for (int i = 0; i < flips; i++) {
                    int at = r.nextInt(4) == 0 ? r.nextInt(b.length) : r.nextInt(Math.min(headerBytes, b.length));
                    b[at] ^= (byte) (1 << r.nextInt(8));
                }
            }
            case 1 -> b = java.util.Arrays.copyOf(b, r.nextInt(b.length)); // truncation
            case 2 -> { // bytes appended
                b = java.util.Arrays.copyOf(b, b.length + 1 + r.nextInt(64));
                for (int i = valid.length; i < b.length; i++) b[i] = (byte) r.nextInt(256);
            }
            case 3 -> { // one 4-byte header field set to an extreme
                int[] extremes = {0, -1, 1, Integer.MAX_VALUE, Integer.MIN_VALUE, 1 << 20, 65535};
                int field = r.nextInt(Math.max(1, Math.min(headerBytes, b.length) / 4));
                if (4 * field + 4 <= b.length) ByteBuffer.wrap(b).putInt(4 * field, extremes[r.nextInt(extremes.length)]);
            }
            case 4 -> { // a random byte anywhere
                b[r.nextInt(b.length)] = (byte) r.nextInt(256);
            }
            default -> { // a run of bytes zeroed
                int from = r.nextInt(b.length), to = Math.min(b.length, from + 1 + r.nextInt(32));
                for (int i = from; i < to; i++) b[i] = 0;
            }
        }
        return b;
    }

    static byte[] gzip(byte[] data) throws IOException {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(data);
        }
        return out.toByteArray();
    }

    static byte[] idxImages(int n, int rows, int cols, Random r) {
        ByteBuffer b = ByteBuffer.allocate(16 + n * rows * cols);
        b.putInt(IdxReader.IMAGES_MAGIC).putInt(n).putInt(rows).putInt(cols);
        for (int i = 0; i < n * rows * cols; i++) b.put((byte) r.nextInt(256));
        return b.array();
    }

    static byte[] idxLabels(int n, Random r) {
        ByteBuffer b = ByteBuffer.allocate(8 + n);
        b.putInt(IdxReader.LABELS_MAGIC).putInt(n);
        for (int i = 0; i < n; i++) b.put((byte) r.nextInt(10));
        return b.array();
    }

    /** An IOException naming the file, or a failure with the case. */
    static void refusedNaming(IOException e, String file, String what) {
        assertNotNull(e.getMessage(), what + ": a refusal without a message");
        assertTrue(e.getMessage().contains(file), what + ": the refusal does not name " + file + ": " + e.getMessage());
        inWords(e.getMessage(), what);
    }

    /** A message for a person: no exception class names or JVM phrases. */
    static void inWords(String message, String what) {
        assertFalse(message.matches("(?s).*(Cannot invoke|Exception|java\\.lang|com\\.google|setStrictness).*"), what + ": raw text in: " + message);
    }

    @Test
    void idxFiles() {
        Random r = new Random(SEED);
        Outcomes o = new Outcomes();
        for (int c = 0; c < 1500 * FACTOR; c++) {
            boolean images = r.nextBoolean(), gz = r.nextInt(3) == 0;
            String name = (images ? "train-images-idx3-ubyte" : "train-labels-idx1-ubyte") + (gz ? ".gz" : "");
            byte[] valid = images ? idxImages(1 + r.nextInt(6), 1 + r.nextInt(5), 1 + r.nextInt(5), r) : idxLabels(1 + r.nextInt(20), r);
            String what = "idx case " + c + " (seed " + SEED + ", " + name + ")";
            try {
                byte[] file = gz ? mutate(gzip(valid), r, 24) : mutate(valid, r, images ? 16 : 8);
                try {
                    if (images) {
                        IdxReader.Images im = IdxReader.readImages(new ByteArrayInputStream(file), name, file.length);
                        assertEquals((long) im.count() * im.rows() * im.cols(), im.pixels().length, what);
                        for (float v : im.pixels()) assertTrue(v >= 0 && v <= 1, what + ": pixel " + v);
                    } else {
                        int[] labels = IdxReader.readLabels(new ByteArrayInputStream(file), name, file.length);
                        for (int l : labels) assertTrue(l >= 0 && l < IdxReader.CLASSES, what + ": label " + l);
                    }
                    o.accepted++;
                } catch (IOException e) {
                    refusedNaming(e, name, what);
                    o.refused++;
                }
            } catch (IOException e) {
                throw new AssertionError(what + ": could not make the case", e);
            }
        }
        o.report("IDX");
        assertTrue(o.refused > 0 && o.accepted > 0, "the mutations must produce both outcomes");
    }

    @Test
    void cifarBatches(@TempDir Path dir) throws IOException {
        Random r = new Random(SEED + 1);
        Outcomes o = new Outcomes();
        for (int c = 0; c < 200 * FACTOR; c++) {
            int n = 1 + r.nextInt(3);
            byte[] valid = new byte[n * Cifar10Reader.RECORD_BYTES];
            r.nextBytes(valid);
            for (int i = 0; i < n; i++) valid[i * Cifar10Reader.RECORD_BYTES] = (byte) r.nextInt(10);
            byte[] file = mutate(valid, r, Cifar10Reader.RECORD_BYTES);
            Path p = dir.resolve("data_batch_" + c + ".bin");
            Files.write(p, file);
            String what = "cifar case " + c + " (seed " + (SEED + 1) + ")";
            try {
                Dataset d = Cifar10Reader.read(List.of(p), false, "fuzz");
                assertEquals(file.length / Cifar10Reader.RECORD_BYTES, d.size(), what);
                for (int l : d.labels()) assertTrue(l >= 0 && l < 10, what + ": label " + l);
                o.accepted++;
            } catch (IOException e) {
                refusedNaming(e, p.toString(), what);
                o.refused++;
            }
            Files.delete(p);
        }
        o.report("CIFAR-10");
        assertTrue(o.refused > 0 && o.accepted > 0);
    }

    @Test
    void safetensorsFiles(@TempDir Path dir) throws IOException {
        Random r = new Random(SEED + 2);
        Outcomes o = new Outcomes();
        for (int c = 0; c < 1000 * FACTOR; c++) {
            Map<String, Safetensors.Tensor> tensors = new LinkedHashMap<>();
            int count = 1 + r.nextInt(3);
            for (int t = 0; t < count; t++) {
                long[] shape = {1 + r.nextInt(4), 1 + r.nextInt(3)};
                double[] v = new double[(int) (shape[0] * shape[1])];
                for (int i = 0; i < v.length; i++) v[i] = r.nextGaussian();
                tensors.put("layers." + t + ".weight", new Safetensors.Tensor(r.nextBoolean() ? "F32" : "F64", shape, v));
            }
            Path p = dir.resolve("case.safetensors");
            Safetensors.write(p, tensors, Map.of("format", "adanewton"));
            byte[] valid = Files.readAllBytes(p);
            int headerBytes = 8 + (int) ByteBuffer.wrap(valid).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
            Files.write(p, mutate(valid, r, headerBytes));
            String what = "safetensors case " + c + " (seed " + (SEED + 2) + ")";
            try {
                Safetensors.Contents read = Safetensors.read(p);
                long bytes = 0;
                for (Safetensors.Tensor t : read.tensors().values()) {
                    long n = 1;
                    for (long d : t.shape()) n *= d;
                    assertEquals(n, t.values().length, what);
                    bytes += n * (t.dtype().equals("F32") ? 4 : 8);
                }
                long header = ByteBuffer.wrap(Files.readAllBytes(p)).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
                assertEquals(Files.size(p), 8 + header + bytes, what + ": accepted, but the tensors do not fill the file");
                o.accepted++;
            } catch (IOException e) {
                refusedNaming(e, p.toString(), what);
                o.refused++;
            }
        }
        o.report("safetensors");
        assertTrue(o.refused > 0 && o.accepted > 0);
    }

    static String stateJson;
    static Path checkpoint;
    static DataLocator.Located data;

    @BeforeAll
    static void checkpointState(@TempDir Path dir) throws Exception {
        data = DataLocator.fashionMnist(Path.of("data/fashion-mnist-subset"));
        Preset p = Preset.get("fmnist-mlp");
        TrainConfig c = TrainConfig.of(p, MethodSpec.parse("tr-rmsprop"), 2);
        TrainConfig small = c.toBuilder().epochs(2).batch(100).hessianBatch(0).seed(3).warmEpochs(1).pivotEvery(1).evalEvery(1).checkpointEvery(0)
                .trainSamples(300).threads(1).backend(BackendKind.CPU).build();
        try (CpuBackend be = new CpuBackend(1); Trainer t = new Trainer(small, p.network(), data.train(), data.test(), be, dir, (row, tr) -> {})) {
            t.run(null);
        }
        checkpoint = dir.resolve("checkpoint");
        stateJson = Files.readString(checkpoint.resolve("state.json"));
    }

    /** A JSON text with one token changed: a value swapped for another kind, a field renamed or removed, a character changed. */
    static String mutateJson(String json, Random r) {
        List<int[]> values = new ArrayList<>(); // [start, end) of each value after a colon
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(":\\s*(\"[^\"]*\"|[^,\\n\\[\\]{}]+)").matcher(json);
        while (m.find()) values.add(new int[] {m.start(1), m.end(1)});
        String[] replacements = {"null", "true", "\"abc\"", "-1", "0", "1e308", "-1e308", "NaN", "Infinity", "-Infinity", "2147483648", "1.5", "[]",
                "{}", "\"\"", "9223372036854775808", "\"HESSIAN\"", "1e-300"};
        switch (r.nextInt(5)) {
            case 0, 1 -> {
                int[] v = values.get(r.nextInt(values.size()));
                return json.substring(0, v[0]) + replacements[r.nextInt(replacements.length)] + json.substring(v[1]);
            }
            case 2 -> { // a field renamed
                java.util.regex.Matcher f = java.util.regex.Pattern.compile("\"(\\w+)\":").matcher(json);
                List<int[]> names = new ArrayList<>();
                while (f.find()) names.add(new int[] {f.start(1), f.end(1)});
                int[] n = names.get(r.nextInt(names.size()));
                return json.substring(0, n[0]) + json.substring(n[0], n[1]) + "x" + json.substring(n[1]);
            }
            case 3 -> { // a line removed
                String[] lines = json.split("\n", -1);
                int drop = r.nextInt(lines.length);
                StringBuilder b = new StringBuilder();
                for (int i = 0; i < lines.length; i++) if (i != drop) b.append(lines[i]).append('\n');
                return b.toString();
            }
            default -> { // a character changed
                char[] chars = json.toCharArray();
                chars[r.nextInt(chars.length)] = "{}[]:,\"0-.e ".charAt(r.nextInt(12));
                return new String(chars);
            }
        }
    }

    /** Accepted state.json mutants resumed for real, at most this many per run (each builds a trainer). */
    static final int RESUMED = 40;

    @Test
    void stateJsonFiles(@TempDir Path dir) throws IOException {
        Random r = new Random(SEED + 3);
        Outcomes o = new Outcomes();
        Path file = dir.resolve("state.json");
        for (String f : new String[] {"weights.safetensors", "optimizer.safetensors"}) Files.copy(checkpoint.resolve(f), dir.resolve(f));
        org.adanewton.nn.Network net = Preset.get("fmnist-mlp").network();
        int resumed = 0;
        for (int c = 0; c < 1000 * FACTOR; c++) {
            String mutated = mutateJson(stateJson, r);
            Files.writeString(file, mutated, StandardCharsets.UTF_8);
            String what = "state.json case " + c + " (seed " + (SEED + 3) + ")";
            try {
                Checkpoint.State s = Checkpoint.readState(dir);
                assertNotNull(s.config(), what);
                assertNotNull(s.trainer(), what);
                o.accepted++;
                if (resumed++ < RESUMED) resume(dir, net, what);
            } catch (IOException e) {
                refusedNaming(e, file.toString(), what);
                o.refused++;
            }
        }
        o.report("state.json");
        assertTrue(o.refused > 0 && o.accepted > 0);
    }

    /**
     * An accepted state resumed (to the 2 epochs the run had already done, so restoring, evaluating
     * and writing are exercised, not training): it runs or is refused in words; nothing else.
     */
    private static void resume(Path dir, org.adanewton.nn.Network net, String what) {
        Path out = dir.resolve("out");
        try {
            Checkpoint.Loaded loaded = Checkpoint.read(dir, net);
            try (CpuBackend be = new CpuBackend(1);
                    Trainer t = new Trainer(loaded.state().config().withEpochs(2), net, data.train(), data.test(), be, out, (row, tr) -> {})) {
                t.run(loaded);
            }
        } catch (IOException | IllegalArgumentException e) {
            inWords(String.valueOf(e.getMessage()), what);
        } finally {
            try {
                Checkpoint.deleteTree(out);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
    }
}
