package org.adanewton.train;

import static org.junit.jupiter.api.Assertions.*;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.adanewton.backend.Batch;
import org.adanewton.backend.NetworkModel;
import org.adanewton.backend.Vector;
import org.adanewton.backend.java.JavaBackend;
import org.adanewton.nn.Network;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cifar-resnet20 preset is the PyTorch ResNet-20 of bench/torch_resnet.py: the same parameter
 * count, the same state_dict (names, order, shapes, buffers included), and, at the same values
 * (tests/fixtures/torch-resnet20.json, written by bench/torch_weights.py resnet20), the same
 * outputs in evaluation and in training mode.
 */
class Resnet20PresetTest {
    static final Network NET = Preset.get("cifar-resnet20").network();
    /** Our double-precision reference and PyTorch's float64 agree to this (relative to the outputs' size). */
    static final double SAME_FLOAT64 = 1e-9;
    static JsonObject fixture;

    @BeforeAll
    static void read() throws Exception {
        fixture = JsonParser.parseString(Files.readString(Path.of("tests/fixtures/torch-resnet20.json"))).getAsJsonObject();
    }

    @Test
    void theParameterCountAndTheTensorNamesArePyTorchs() {
        // conv1 432 + bn1 32; stage 1: 3 x (2 x 2,304 + 2 x 32); stage 2: 4,608 + 9,216 + 2 x 64 + shortcut 512 + 64, then 2 x (2 x 9,216 + 2 x 64);
        // stage 3: 18,432 + 36,864 + 2 x 128 + shortcut 2,048 + 128, then 2 x (2 x 36,864 + 2 x 128); linear 640 + 10
        assertEquals(272_474, NET.parameterCount());
        // 2 statistics per channel of the 22 batch norms: 16 + 6 x 16 + 7 x 32 + 7 x 64 = 784 channels
        assertEquals(2 * 784, NET.statisticsCount());
        Map<String, Safetensors.Tensor> ours = Weights.tensors(NET, Weights.StateDict.initial(NET, new double[NET.parameterCount()]), true);
        List<String> keys = new ArrayList<>();
        for (JsonElement k : fixture.getAsJsonArray("keys")) keys.add(k.getAsString());
        assertEquals(128, keys.size());
        assertEquals(keys, List.copyOf(ours.keySet()), "the state_dict keys of torch_resnet.ResNet20, in its order");
        JsonArray shapes = fixture.getAsJsonArray("shapes");
        for (int i = 0; i < keys.size(); i++)
            assertEquals(shapes.get(i).toString(), Arrays.toString(ours.get(keys.get(i)).shape()).replace(" ", ""), keys.get(i));
        for (String name : List.of("conv1.weight", "bn1.running_var", "layer1.0.conv1.weight", "layer1.2.bn2.bias", "layer2.0.shortcut.0.weight",
                "layer2.0.shortcut.1.num_batches_tracked", "layer3.0.shortcut.1.running_mean", "linear.weight", "linear.bias"))
            assertTrue(ours.containsKey(name), name);
        assertFalse(ours.containsKey("layer1.0.shortcut.0.weight"), "stage 1 has identity shortcuts");
    }

    /** Element j of tensor k (num_batches_tracked not counted) by torch_weights.resnet20_value's formula. */
    static double value(String name, long[] shape, int k, int j) {
        double b = Math.sin(0.7 * j + 1.3 * k + 1);
        if (name.endsWith("running_var")) return 1 + 0.5 * b * b;
        if (name.endsWith("running_mean") || name.endsWith("bias")) return 0.1 * b;
        if (shape.length == 1) return 1 + 0.1 * b;
        long fanIn = 1;
        for (int i = 1; i < shape.length; i++) fanIn *= shape[i];
        return b / Math.sqrt(fanIn);
    }

    @Test
    void itComputesPyTorchsOutputsFromPyTorchsStateDict(@TempDir Path dir) throws Exception {
        // the state_dict PyTorch evaluated, as a file: it loads with every name and shape checked
        Map<String, Safetensors.Tensor> sd = new LinkedHashMap<>();
        int k = 0;
        for (Map.Entry<String, Safetensors.Tensor> e : Weights.tensors(NET, Weights.StateDict.initial(NET, new double[NET.parameterCount()]), false)
                .entrySet()) {
            long[] shape = e.getValue().shape();
            if (e.getKey().endsWith("num_batches_tracked")) {
                sd.put(e.getKey(), new Safetensors.Tensor("I64", shape, new double[] {0}));
                continue;
            }
            double[] v = new double[e.getValue().values().length];
            for (int j = 0; j < v.length; j++) v[j] = value(e.getKey(), shape, k, j);
            sd.put(e.getKey(), new Safetensors.Tensor("F64", shape, v));
            k++;
        }
        Path file = dir.resolve("resnet20.safetensors");
        Safetensors.write(file, sd, Map.of("format", "pt"));
        Weights.StateDict state = Weights.loadStateDict(NET, file);
        int rows = 2;
        float[] x = new float[rows * NET.inputDim()];
        for (int i = 0; i < x.length; i++) x[i] = (float) Math.sin(0.3 * i);
        try (JavaBackend be = new JavaBackend(); NetworkModel m = be.model(NET, rows); Batch b = be.batch(NET, rows); Vector w = be.vector(state.parameters())) {
            b.set(x, new int[rows], rows);
            m.setRunningStatistics(state.statistics());
            m.setTraining(false);
            compare("evaluation", m.forward(w, b));
            m.setTraining(true);
            compare("training", m.forward(w, b));
        }
    }

    private static void compare(String mode, double[] got) {
        JsonArray want = fixture.getAsJsonArray(mode);
        assertEquals(want.size(), got.length, mode);
        double scale = 0;
        for (JsonElement e : want) scale = Math.max(scale, Math.abs(e.getAsDouble()));
        for (int i = 0; i < got.length; i++) assertEquals(want.get(i).getAsDouble(), got[i], SAME_FLOAT64 * scale, mode + " output " + i);
    }

    @Test
    void thePresetSitsBesideThePapersAndRunsOnCifar10() {
        Preset p = Preset.get("cifar-resnet20");
        assertTrue(Preset.NAMES.contains("cifar-resnet20"));
        assertEquals("cifar-10", p.dataset());
        assertTrue(p.description().contains("not from arXiv 1905.09201"), p.description());
        assertTrue(NET.hasModes());
        assertEquals(1e-3, p.firstOrderLr().get(org.adanewton.minimizer.FirstOrderOptions.Kind.ADAM));
        // the TR method's settings are complete for every norm
        for (String m : List.of("tr-uniform", "tr-adagrad", "tr-rmsprop", "tr-adam", "adam", "sgd"))
            assertNotNull(TrainConfig.of(p, MethodSpec.parse(m), 3), m);
    }
}
