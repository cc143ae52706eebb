package org.adanewton.train;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.adanewton.nn.Network;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Weights in the layout PyTorch's nn.Sequential state_dict has: the names follow the Sequential's
 * module indices, a file written as PyTorch would write it loads into the right offsets, and every
 * mismatch is refused naming the tensor, the expected and the found shape.
 */
class WeightsTest {
    static final Network MLP = Network.builder(784).dense(128).tanh().dense(10).build();

    /** A file as safetensors.torch.save_file(model.state_dict()) writes it for `net`: PyTorch's names and shapes, seeded values. */
    static Map<String, Safetensors.Tensor> pytorchStateDict(Network net, long seed, String dtype) {
        Random r = new Random(seed);
        Map<String, Safetensors.Tensor> t = new LinkedHashMap<>();
        for (Network.Parameter p : net.parameters()) {
            double[] v = new double[p.count()];
            for (int i = 0; i < v.length; i++) v[i] = dtype.equals("F32") ? (float) (r.nextGaussian() * 0.05) : r.nextGaussian() * 0.05;
            t.put(p.name(), new Safetensors.Tensor(dtype, p.shape(), v));
        }
        return t;
    }

    @Test
    void namesFollowTheSequentialModuleIndex() {
        // Sequential(Linear, Tanh, Linear)
        assertEquals(List.of("0.weight", "0.bias", "2.weight", "2.bias"), MLP.parameters().stream().map(Network.Parameter::name).toList());
        assertArrayEquals(new long[] {128, 784}, MLP.parameters().get(0).shape());
        assertArrayEquals(new long[] {10}, MLP.parameters().get(3).shape());
        // Sequential(Conv2d, ReLU, MaxPool2d, Conv2d, ReLU, MaxPool2d, Flatten, Linear, ReLU, Linear)
        Network conv = Preset.get("fmnist-conv").network();
        assertEquals(List.of("0.weight", "0.bias", "3.weight", "3.bias", "7.weight", "7.bias", "9.weight", "9.bias"),
                conv.parameters().stream().map(Network.Parameter::name).toList());
        assertArrayEquals(new long[] {20, 1, 5, 5}, conv.parameters().get(0).shape());
        assertArrayEquals(new long[] {500, 800}, conv.parameters().get(4).shape());
        assertEquals(List.of(0, 2, 3, 5, 6, 7, 9), java.util.stream.IntStream.range(0, conv.layers().size()).map(conv::sequentialIndex).boxed().toList());
        // an identity activation adds no module: Sequential(Linear, Linear, Sigmoid, Linear)
        Network plain = Network.builder(4).dense(3).dense(3).sigmoid().dense(2).build();
        assertEquals(List.of("0.weight", "0.bias", "1.weight", "1.bias", "3.weight", "3.bias"),
                plain.parameters().stream().map(Network.Parameter::name).toList());
        // an average pool is a module too: Sequential(Conv2d, Tanh, AvgPool2d, Flatten, Linear)
        Network avg = Network.builder(1, 6, 6).conv2d(1, 2, 3).tanh().avgPool2d(2).flatten().dense(2).build();
        assertEquals(List.of("0.weight", "0.bias", "4.weight", "4.bias"), avg.parameters().stream().map(Network.Parameter::name).toList());
        int total = 0;
        for (Network.Parameter p : conv.parameters()) total += p.count();
        assertEquals(conv.parameterCount(), total);
    }

    @Test
    void aPyTorchStateDictLoadsIntoTheRightOffsets(@TempDir Path dir) throws IOException {
        for (String dtype : new String[] {"F32", "F64"}) {
            Map<String, Safetensors.Tensor> sd = pytorchStateDict(MLP, 5, dtype);
            Path file = dir.resolve(dtype + ".safetensors");
            Safetensors.write(file, sd, Map.of("format", "pt"));
            double[] w = Weights.load(MLP, file);
            Network.Dense d0 = (Network.Dense) MLP.layers().get(0), d1 = (Network.Dense) MLP.layers().get(1);
            // weight[o][i] (row-major, out x in) and bias[o]
            assertEquals(sd.get("0.weight").values()[3 * 784 + 17], w[d0.weightOffset() + 3 * 784 + 17]);
            assertEquals(sd.get("0.bias").values()[127], w[d0.biasOffset() + 127]);
            assertEquals(sd.get("2.weight").values()[9 * 128 + 5], w[d1.weightOffset() + 9 * 128 + 5]);
            assertEquals(sd.get("2.bias").values()[0], w[d1.biasOffset()]);
            // and written back, the same tensors
            Path again = dir.resolve(dtype + "-again.safetensors");
            Weights.save(MLP, w, dtype.equals("F32"), again);
            Map<String, Safetensors.Tensor> back = Safetensors.read(again).tensors();
            assertEquals(List.copyOf(sd.keySet()), List.copyOf(back.keySet()));
            for (String k : sd.keySet()) assertArrayEquals(sd.get(k).values(), back.get(k).values(), k);
        }
        // mixed dtypes, as a state_dict may hold
        Map<String, Safetensors.Tensor> mixed = pytorchStateDict(MLP, 6, "F32");
        mixed.put("2.bias", pytorchStateDict(MLP, 6, "F64").get("2.bias"));
        Safetensors.write(dir.resolve("mixed.safetensors"), mixed, Map.of());
        assertEquals(MLP.parameterCount(), Weights.load(MLP, dir.resolve("mixed.safetensors")).length);
    }

    @Test
    void theOlderCheckpointNamesLoadToo(@TempDir Path dir) throws IOException {
        Map<String, Safetensors.Tensor> sd = pytorchStateDict(MLP, 7, "F32"), old = new LinkedHashMap<>();
        for (Network.Parameter p : MLP.parameters()) old.put("layers." + p.layer() + "." + p.kind(), sd.get(p.name()));
        Safetensors.write(dir.resolve("new.safetensors"), sd, Map.of());
        Safetensors.write(dir.resolve("old.safetensors"), old, Map.of("format", "adanewton"));
        assertArrayEquals(Weights.load(MLP, dir.resolve("new.safetensors")), Weights.load(MLP, dir.resolve("old.safetensors")));
    }

    @Test
    void aStateDictOfAModelHoldingTheSequentialIsNamedWithItsPrefix(@TempDir Path dir) throws IOException {
        // a PyTorch module with self.layers = nn.Sequential(...) saves "layers.0.weight", ...: not an adanewton checkpoint
        Map<String, Safetensors.Tensor> sd = pytorchStateDict(MLP, 8, "F32"), held = new LinkedHashMap<>();
        sd.forEach((k, v) -> held.put("layers." + k, v));
        Safetensors.write(dir.resolve("held.safetensors"), held, Map.of("format", "pt"));
        String m = refused(MLP, dir.resolve("held.safetensors"));
        assertTrue(m.contains("lacks the tensor '0.weight'") && m.contains("model.layers.state_dict()"), m);
    }

    private static String refused(Network net, Path file) {
        IOException e = assertThrows(IOException.class, () -> Weights.load(net, file));
        assertTrue(e.getMessage().contains(file.toString()), "the message names the file: " + e.getMessage());
        return e.getMessage();
    }

    @Test
    void anotherArchitectureIsRefusedNamingTheFirstMismatch(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("mlp.safetensors");
        Safetensors.write(file, pytorchStateDict(MLP, 1, "F32"), Map.of("format", "pt"));
        String m = refused(Network.builder(784).dense(64).tanh().dense(10).build(), file);
        assertTrue(m.contains("tensor '0.weight' has shape [128, 784]; the network's is [64, 784]"), m);
        m = refused(Network.builder(784).dense(128).tanh().dense(32).relu().dense(10).build(), file);
        assertTrue(m.contains("tensor '2.weight' has shape [10, 128]; the network's is [32, 128]"), m);
        // a deeper file into a shallower network: the extra tensors named
        Network deep = Network.builder(784).dense(128).tanh().dense(10).tanh().dense(10).build();
        Path deeper = dir.resolve("deep.safetensors");
        Safetensors.write(deeper, pytorchStateDict(deep, 1, "F32"), Map.of());
        m = refused(MLP, deeper);
        assertTrue(m.contains("tensors [4.weight, 4.bias] are not parameters of this network"), m);
        // a tanh net's file into the same sizes without the activation: the names differ (module 1, not 2)
        m = refused(Network.builder(784).dense(128).dense(10).build(), file);
        assertTrue(m.contains("lacks the tensor '1.weight' [10, 128]"), m);
        // the conv net's file into the MLP
        Path conv = dir.resolve("conv.safetensors");
        Safetensors.write(conv, pytorchStateDict(Preset.get("fmnist-conv").network(), 1, "F32"), Map.of());
        m = refused(MLP, conv);
        assertTrue(m.contains("tensor '0.weight' has shape [20, 1, 5, 5]; the network's is [128, 784]"), m);
    }

    @Test
    void missingExtraNonFiniteAndCorruptAreRefused(@TempDir Path dir) throws IOException {
        Map<String, Safetensors.Tensor> sd = pytorchStateDict(MLP, 2, "F32");
        Map<String, Safetensors.Tensor> missing = new LinkedHashMap<>(sd);
        missing.remove("2.bias");
        Path f = dir.resolve("missing.safetensors");
        Safetensors.write(f, missing, Map.of());
        String m = refused(MLP, f);
        assertTrue(m.contains("lacks the tensor '2.bias' [10]"), m);

        Map<String, Safetensors.Tensor> extra = new LinkedHashMap<>(sd);
        extra.put("num_batches_tracked", new Safetensors.Tensor("F32", new long[] {1}, new double[] {0}));
        f = dir.resolve("extra.safetensors");
        Safetensors.write(f, extra, Map.of());
        m = refused(MLP, f);
        assertTrue(m.contains("tensors [num_batches_tracked] are not parameters of this network"), m);

        for (double bad : new double[] {Double.NaN, Double.POSITIVE_INFINITY}) {
            Map<String, Safetensors.Tensor> nan = new LinkedHashMap<>(sd);
            double[] v = sd.get("2.weight").values().clone();
            v[7] = bad;
            nan.put("2.weight", new Safetensors.Tensor("F32", new long[] {10, 128}, v));
            f = dir.resolve("nan.safetensors");
            Safetensors.write(f, nan, Map.of());
            m = refused(MLP, f);
            assertTrue(m.contains("tensor '2.weight' holds " + bad + " at index 7; values must be finite"), m);
        }

        Path good = dir.resolve("good.safetensors");
        Safetensors.write(good, sd, Map.of());
        byte[] bytes = Files.readAllBytes(good);
        f = dir.resolve("truncated.safetensors");
        Files.write(f, java.util.Arrays.copyOf(bytes, bytes.length - 100));
        m = refused(MLP, f);
        assertTrue(m.contains("truncated or corrupt"), m);

        // a half-precision tensor, as torch saves a .half() model: refused by dtype
        int length = (int) ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
        String header = new String(bytes, 8, length, StandardCharsets.UTF_8).replaceFirst("\"F32\"", "\"F16\"");
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer out = ByteBuffer.allocate(8 + h.length + bytes.length - 8 - length).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(h.length).put(h).put(bytes, 8 + length, bytes.length - 8 - length);
        f = dir.resolve("half.safetensors");
        Files.write(f, out.array());
        m = refused(MLP, f);
        assertTrue(m.contains("dtype F16; only F32 and F64 are supported"), m);

        m = refused(MLP, dir.resolve("absent.safetensors"));
        assertTrue(m.contains("does not exist"), m);
    }

    /** Batch norm 1d (module 1) between dense layers: PyTorch's Sequential(Linear, BatchNorm1d, Tanh, Linear). */
    static final Network BN = Network.builder(4).dense(3).batchNorm().tanh().dense(2).build();

    private static Weights.StateDict bnState() {
        double[] w = BN.initialize(3), s = BN.initialStatistics();
        for (int i = 0; i < s.length; i++) s[i] += 0.25 * (i + 1);
        return new Weights.StateDict(w, s, 17);
    }

    @Test
    void runningStatisticsAreSavedAndReadAsPyTorchsBuffers(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("bn.safetensors");
        Weights.save(BN, bnState(), true, file);
        Safetensors.Contents c = Safetensors.read(file);
        assertEquals(List.of("0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked", "3.weight", "3.bias"),
                List.copyOf(c.tensors().keySet()));
        assertEquals("I64", c.tensors().get("1.num_batches_tracked").dtype());
        assertEquals(0, c.tensors().get("1.num_batches_tracked").shape().length, "a scalar, as PyTorch's");
        Weights.StateDict back = Weights.loadStateDict(BN, file);
        assertArrayEquals(bnState().statistics(), back.statistics(), "F64: exactly");
        assertEquals(17, back.batchesTracked());
        for (int i = 0; i < back.parameters().length; i++) assertEquals((float) bnState().parameters()[i], back.parameters()[i], 0.0, "F32 weight " + i);
        // a file of parameters only (no buffers): the statistics start as PyTorch's
        Map<String, Safetensors.Tensor> params = new LinkedHashMap<>(c.tensors());
        params.keySet().removeIf(k -> k.contains("running") || k.contains("num_batches"));
        Path only = dir.resolve("params.safetensors");
        Safetensors.write(only, params, Map.of());
        assertArrayEquals(BN.initialStatistics(), Weights.loadStateDict(BN, only).statistics());
        // a network with batch norm saves its statistics with them, not without
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Weights.save(BN, bnState().parameters(), true, only));
        assertTrue(e.getMessage().contains("Weights.StateDict"), e.getMessage());
    }

    @Test
    void badBuffersAreRefusedByName(@TempDir Path dir) throws IOException {
        Map<String, Safetensors.Tensor> good = Weights.tensors(BN, bnState(), false);
        java.util.function.BiFunction<String, Safetensors.Tensor, String> with = (name, t) -> {
            try {
                Map<String, Safetensors.Tensor> m = new LinkedHashMap<>(good);
                if (t == null) m.remove(name);
                else m.put(name, t);
                Path f = dir.resolve("bad.safetensors");
                Safetensors.write(f, m, Map.of());
                return refused(BN, f);
            } catch (IOException x) {
                throw new java.io.UncheckedIOException(x);
            }
        };
        String m = with.apply("1.running_var", null);
        assertTrue(m.contains("lacks the tensor '1.running_var' [3]") && m.contains("all or none"), m);
        m = with.apply("1.running_var", new Safetensors.Tensor("F64", new long[] {3}, new double[] {1, -0.5, 1}));
        assertTrue(m.contains("tensor '1.running_var' holds -0.5 at index 1; a running variance is >= 0"), m);
        m = with.apply("1.running_mean", new Safetensors.Tensor("F64", new long[] {4}, new double[4]));
        assertTrue(m.contains("tensor '1.running_mean' has shape [4]; the network's is [3]"), m);
        m = with.apply("1.num_batches_tracked", new Safetensors.Tensor("F32", new long[] {1}, new double[] {3}));
        assertTrue(m.contains("tensor '1.num_batches_tracked' is F32 [1]") && m.contains("an I64 scalar >= 0"), m);
        m = with.apply("0.bias", new Safetensors.Tensor("I64", new long[] {3}, new double[] {1, 2, 3}));
        assertTrue(m.contains("tensor '0.bias' has dtype I64; it must be F32 or F64"), m);
        m = with.apply("3.num_batches_tracked", new Safetensors.Tensor("I64", new long[0], new double[] {1}));
        assertTrue(m.contains("tensors [3.num_batches_tracked] are not parameters of this network"), m);
    }
}
