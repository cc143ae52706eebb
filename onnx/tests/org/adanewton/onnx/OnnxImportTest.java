package org.adanewton.onnx;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.protobuf.CodedOutputStream;
import org.adanewton.backend.Backend;
import org.adanewton.backend.Batch;
import org.adanewton.backend.NetworkModel;
import org.adanewton.backend.Vector;
import org.adanewton.backend.java.JavaBackend;
import org.adanewton.nn.Activation;
import org.adanewton.nn.Loss;
import org.adanewton.nn.Network;
import org.adanewton.train.Weights;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OnnxImportTest {
    /**
     * The fixtures' values are float32-precision decimals (9 digits, computed by PyTorch in float64
     * from the float32 weights), the Java backend computes in double: |got - expected| <=
     * FLOAT32_TOL * (1 + |expected|).
     */
    static final double FLOAT32_TOL = 1e-5;
    static final Path FIXTURES = Path.of("tests", "fixtures", "onnx");

    @TempDir
    Path tmp;

    // ---- fixtures exported by bench/onnx_fixtures.py

    static JsonObject json(String name) throws IOException {
        return JsonParser.parseString(Files.readString(FIXTURES.resolve(name + ".json"))).getAsJsonObject();
    }

    static OnnxImport.Imported fixture(String name, int opset) throws IOException {
        OnnxModel model = OnnxModel.read(FIXTURES.resolve(name + ".onnx"));
        assertEquals(opset, model.opset(), name);
        return OnnxImport.toNetwork(model);
    }

    /** The imported network's parameters have the shapes of PyTorch's, in the fixture's order (that of its gradient). */
    private static void assertShapes(String name, Network net, JsonObject json) {
        JsonArray params = json.getAsJsonArray("parameters");
        assertEquals(params.size(), net.parameters().size(), name + " parameter count");
        for (int i = 0; i < params.size(); i++) {
            JsonArray shape = params.get(i).getAsJsonArray().get(1).getAsJsonArray();
            long[] s = new long[shape.size()];
            for (int j = 0; j < s.length; j++) s[j] = shape.get(j).getAsLong();
            assertEquals(Arrays.toString(s), Arrays.toString(net.parameters().get(i).shape()), name + " parameter " + i + " (PyTorch's "
                    + params.get(i).getAsJsonArray().get(0).getAsString() + ")");
        }
    }

    /** PyTorch's names of the fixture's parameters, in order. */
    private static List<String> pytorchNames(JsonObject json) {
        List<String> names = new java.util.ArrayList<>();
        for (var p : json.getAsJsonArray("parameters")) names.add(p.getAsJsonArray().get(0).getAsString());
        return names;
    }

    private static void checkAgainstPyTorch(String name, int opset, String expectedNet) throws IOException {
        OnnxModel model = OnnxModel.read(FIXTURES.resolve(name + ".onnx"));
        assertEquals(opset, model.opset());
        OnnxImport.Imported imported = OnnxImport.toNetwork(model, Loss.SQUARED_ERROR_SUM);
        Network net = imported.network();
        assertEquals(expectedNet, net.shortName(), name);
        JsonObject json = json(name);
        boolean training = json.get("training").getAsBoolean();
        assertEquals(training, imported.training(), name + " mode");
        assertShapes(name, net, json);
        assertClose(name + " running statistics", floats(json.getAsJsonArray("statistics")), imported.statistics());
        float[] x = floats(json.getAsJsonArray("input"));
        float[] expected = floats(json.getAsJsonArray("output"));
        int rows = json.getAsJsonArray("shape").get(0).getAsInt();
        assertEquals(rows * net.inputDim(), x.length);
        assertEquals(rows * net.outputDim(), expected.length);
        Backend be = new JavaBackend();
        try (NetworkModel m = be.model(net, rows); Batch b = be.batch(net, rows); Vector w = be.vector(imported.weights())) {
            m.setTraining(training);
            m.setRunningStatistics(imported.statistics());
            b.set(x, new float[rows * net.outputDim()], rows);
            double[] got = m.forward(w, b);
            assertEquals(expected.length, got.length);
            for (int i = 0; i < got.length; i++)
                assertTrue(Math.abs(got[i] - expected[i]) <= FLOAT32_TOL * (1 + Math.abs(expected[i])),
                        name + " output " + i + ": Java " + got[i] + ", PyTorch " + expected[i]);
        }
        // the loss, gradient and HVP at the imported weights, under the softmax cross-entropy, against PyTorch's autograd
        Network ce = OnnxImport.toNetwork(model, Loss.SOFTMAX_CROSS_ENTROPY).network();
        JsonArray labelArray = json.getAsJsonArray("labels");
        int[] labels = new int[labelArray.size()];
        for (int i = 0; i < labels.length; i++) labels[i] = labelArray.get(i).getAsInt();
        float[] v = floats(json.getAsJsonArray("v"));
        try (NetworkModel m = be.model(ce, rows); Batch b = be.batch(ce, rows); Vector w = be.vector(imported.weights());
                Vector g = be.allocate(ce.parameterCount()); Vector dv = be.vector(toDoubles(v)); Vector hv = be.allocate(ce.parameterCount())) {
            m.setTraining(training);
            m.setRunningStatistics(imported.statistics());
            b.set(x, labels, rows);
            double loss = m.gradient(w, b, g);
            assertEquals(json.get("loss").getAsDouble(), loss, FLOAT32_TOL * (1 + Math.abs(loss)), name + " loss");
            assertClose(name + " gradient", floats(json.getAsJsonArray("gradient")), g.toArray());
            m.hvp(w, b, dv, hv);
            assertClose(name + " HVP", floats(json.getAsJsonArray("hvp")), hv.toArray());
        }
    }

    private static void assertClose(String what, float[] expected, double[] got) {
        assertEquals(expected.length, got.length, what + " length");
        for (int i = 0; i < got.length; i++)
            assertTrue(Math.abs(got[i] - expected[i]) <= FLOAT32_TOL * (1 + Math.abs(expected[i])),
                    what + " [" + i + "]: Java " + got[i] + ", PyTorch " + expected[i]);
    }

    private static double[] toDoubles(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }

    private static float[] floats(JsonArray a) {
        float[] f = new float[a.size()];
        for (int i = 0; i < f.length; i++) f[i] = a.get(i).getAsFloat();
        return f;
    }

    @Test
    void mlpFixtureMatchesPyTorch() throws IOException {
        checkAgainstPyTorch("mlp", 13, Network.builder(6).dense(5).tanh().dense(3).build().shortName());
        OnnxModel model = OnnxModel.read(FIXTURES.resolve("mlp.onnx"));
        List<String> names = OnnxImport.toNetwork(model, Loss.SQUARED_ERROR_SUM).network().parameters().stream().map(Network.Parameter::name).toList();
        // the same names as the initializers PyTorch wrote (its Sequential's state_dict)
        assertEquals(List.of("0.weight", "0.bias", "2.weight", "2.bias"), names);
        assertTrue(model.initializers().keySet().containsAll(names), model.initializers().keySet().toString());
    }

    @Test
    void convnetFixtureMatchesPyTorch() throws IOException {
        checkAgainstPyTorch("convnet", 13, Network.builder(2, 6, 6).conv2d(2, 3, 3, 1, 1).relu().maxPool2d(2).flatten().dense(4).build().shortName());
    }

    // ---- models built here with CodedOutputStream

    /** A protobuf message under construction. */
    static final class Msg {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final CodedOutputStream out = CodedOutputStream.newInstance(bytes);

        Msg varint(int field, long v) throws IOException {
            out.writeInt64(field, v);
            return this;
        }

        Msg string(int field, String s) throws IOException {
            out.writeString(field, s);
            return this;
        }

        Msg bytes(int field, byte[] b) throws IOException {
            out.writeByteArray(field, b);
            return this;
        }

        Msg msg(int field, Msg m) throws IOException {
            return bytes(field, m.done());
        }

        byte[] done() throws IOException {
            out.flush();
            return bytes.toByteArray();
        }
    }

    static Msg tensor(String name, int type, long[] dims, double[] values) throws IOException {
        Msg t = new Msg();
        for (long d : dims) t.varint(1, d);
        t.varint(2, type).string(8, name);
        ByteBuffer b = ByteBuffer.allocate(values.length * (type == OnnxModel.DOUBLE ? 8 : 4)).order(ByteOrder.LITTLE_ENDIAN);
        for (double v : values) if (type == OnnxModel.DOUBLE) b.putDouble(v); else b.putFloat((float) v);
        return t.bytes(9, b.array());
    }

    static Msg valueInfo(String name, long... dims) throws IOException {
        Msg shape = new Msg();
        for (long d : dims) shape.msg(1, d < 0 ? new Msg().string(2, "N") : new Msg().varint(1, d));
        return new Msg().string(1, name).msg(2, new Msg().msg(1, new Msg().varint(1, OnnxModel.FLOAT).msg(2, shape)));
    }

    static Msg node(String name, String op, List<String> in, List<String> out, Msg... attrs) throws IOException {
        Msg n = new Msg();
        for (String s : in) n.string(1, s);
        for (String s : out) n.string(2, s);
        n.string(3, name).string(4, op);
        for (Msg a : attrs) n.msg(5, a);
        return n;
    }

    static Msg intAttr(String name, long v) throws IOException {
        return new Msg().string(1, name).varint(20, 2).varint(3, v);
    }

    static double[] ramp(int n, double scale) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = scale * ((i * 7 % 11) - 5);
        return v;
    }

    /** ir 8, opset given, the graph's nodes and initializers, input x (N x 4), output y. */
    Path model(String file, long opset, List<Msg> nodes, List<Msg> inits, String output) throws IOException {
        Msg graph = new Msg();
        for (Msg n : nodes) graph.msg(1, n);
        graph.string(2, "g");
        for (Msg t : inits) graph.msg(5, t);
        graph.msg(11, valueInfo("x", -1, 4)).msg(12, valueInfo(output, -1, 3));
        Msg model = new Msg().varint(1, 8).string(2, "test").msg(8, new Msg().string(1, "").varint(2, opset)).msg(7, graph);
        Path p = tmp.resolve(file);
        Files.write(p, model.done());
        return p;
    }

    List<Msg> gemmInits() throws IOException {
        return List.of(tensor("W", OnnxModel.FLOAT, new long[] {3, 4}, ramp(12, 0.1)), tensor("b", OnnxModel.DOUBLE, new long[] {3}, ramp(3, 0.5)));
    }

    @Test
    void gemmAndMatMulAddGiveTheSameNetwork() throws IOException {
        Path gemm = model("gemm.onnx", 13, List.of(node("fc", "Gemm", List.of("x", "W", "b"), List.of("h"), intAttr("transB", 1)),
                node("act", "Sigmoid", List.of("h"), List.of("y"))), gemmInits(), "y");
        // W' (4 x 3) for MatMul: the transpose of W
        double[] w = ramp(12, 0.1), wt = new double[12];
        for (int i = 0; i < 3; i++) for (int j = 0; j < 4; j++) wt[j * 3 + i] = w[i * 4 + j];
        Path matmul = model("matmul.onnx", 17, List.of(node("mm", "MatMul", List.of("x", "Wt"), List.of("m")),
                node("add", "Add", List.of("b", "m"), List.of("h")), node("act", "Sigmoid", List.of("h"), List.of("y"))),
                List.of(tensor("Wt", OnnxModel.FLOAT, new long[] {4, 3}, wt), tensor("b", OnnxModel.DOUBLE, new long[] {3}, ramp(3, 0.5))), "y");
        OnnxImport.Imported a = OnnxImport.toNetwork(OnnxModel.read(gemm)), b = OnnxImport.toNetwork(OnnxModel.read(matmul));
        assertEquals(Network.builder(4).dense(3).sigmoid().build().shortName(), a.network().shortName());
        assertEquals(a.network().shortName(), b.network().shortName());
        double[] expected = new double[15];
        for (int i = 0; i < 12; i++) expected[i] = (float) w[i];
        double[] bias = ramp(3, 0.5);
        System.arraycopy(bias, 0, expected, 12, 3);
        assertEquals(Arrays.toString(expected), Arrays.toString(a.weights()));
        assertEquals(Arrays.toString(expected), Arrays.toString(b.weights()));
    }

    @Test
    void unsupportedOpIsRefusedByName() throws IOException {
        Path p = model("lrelu.onnx", 13, List.of(node("fc", "Gemm", List.of("x", "W", "b"), List.of("h"), intAttr("transB", 1)),
                node("leaky", "LeakyRelu", List.of("h"), List.of("y"))), gemmInits(), "y");
        OnnxModel model = OnnxModel.read(p);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OnnxImport.toNetwork(model));
        assertTrue(e.getMessage().contains(p.toString()) && e.getMessage().contains("node 'leaky' (LeakyRelu)")
                && e.getMessage().contains("not supported") && e.getMessage().contains(OnnxImport.SUPPORTED), e.getMessage());
    }

    @Test
    void deadBranchIsRefusedAndASecondActivationIsALayer() throws IOException {
        Path branch = model("branch.onnx", 13, List.of(node("fc", "Gemm", List.of("x", "W", "b"), List.of("h"), intAttr("transB", 1)),
                node("skip", "Tanh", List.of("x"), List.of("y"))), gemmInits(), "y");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OnnxImport.toNetwork(OnnxModel.read(branch)));
        assertTrue(e.getMessage().contains("node 'fc' (Gemm)") && e.getMessage().contains("its output 'h' is read by no node"), e.getMessage());
        Path twice = model("twice.onnx", 13, List.of(node("fc", "Gemm", List.of("x", "W", "b"), List.of("h"), intAttr("transB", 1)),
                node("t1", "Tanh", List.of("h"), List.of("h2")), node("t2", "Relu", List.of("h2"), List.of("y"))), gemmInits(), "y");
        Network net = OnnxImport.toNetwork(OnnxModel.read(twice)).network();
        assertEquals(2, net.layers().size(), net.describe());
        assertEquals(Activation.TANH, net.layers().get(0).activation());
        assertTrue(net.layers().get(1) instanceof Network.Activate a && a.activation() == Activation.RELU, net.describe());
    }

    static Msg int64Tensor(String name, long... values) throws IOException {
        Msg t = new Msg().varint(1, values.length).varint(2, OnnxModel.INT64).string(8, name);
        for (long v : values) t.varint(7, v);
        return t;
    }

    @Test
    void reshapeIsAcceptedOnlyWhenItFlattens() throws IOException {
        List<Msg> inits = new java.util.ArrayList<>(gemmInits());
        inits.add(int64Tensor("flat", 0, -1));
        inits.add(int64Tensor("square", 2, 2));
        Path ok = model("reshape.onnx", 13, List.of(node("r", "Reshape", List.of("x", "flat"), List.of("f")),
                node("fc", "Gemm", List.of("f", "W", "b"), List.of("y"), intAttr("transB", 1))), inits, "y");
        assertEquals(Network.builder(4).dense(3).build().shortName(), OnnxImport.toNetwork(OnnxModel.read(ok)).network().shortName());
        Path bad = model("reshape2.onnx", 13, List.of(node("r", "Reshape", List.of("x", "square"), List.of("f")),
                node("fc", "Gemm", List.of("f", "W", "b"), List.of("y"), intAttr("transB", 1))), inits, "y");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OnnxImport.toNetwork(OnnxModel.read(bad)));
        assertTrue(e.getMessage().contains("node 'r' (Reshape)") && e.getMessage().contains("[2, 2] does not flatten"), e.getMessage());
    }

    // ---- the reader's refusals

    @Test
    void truncatedFileIsRefusedWithTheOffset() throws IOException {
        byte[] full = Files.readAllBytes(FIXTURES.resolve("mlp.onnx"));
        for (int cut : new int[] {full.length / 2, full.length - 1, 3}) {
            Path p = tmp.resolve("cut" + cut + ".onnx");
            Files.write(p, Arrays.copyOf(full, cut));
            OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> OnnxModel.read(p));
            assertTrue(e.offset() >= 0 && e.offset() <= cut, cut + ": offset " + e.offset());
            assertTrue(e.getMessage().startsWith(p.toString()) && e.getMessage().contains("at byte " + e.offset())
                    && e.getMessage().contains("truncated") && e.getMessage().contains("while reading"), e.getMessage());
        }
    }

    @Test
    void corruptFieldIsRefused() throws IOException {
        // ModelProto.graph (field 7) written as a varint instead of a message
        Msg bad = new Msg().varint(1, 8).msg(8, new Msg().string(1, "").varint(2, 13)).varint(7, 5);
        Path p = tmp.resolve("badgraph.onnx");
        Files.write(p, bad.done());
        OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> OnnxModel.read(p));
        assertTrue(e.getMessage().contains("ModelProto.graph") && e.getMessage().contains("wire type 0") && e.getMessage().contains("corrupt field"),
                e.getMessage());
        // a tensor whose raw_data is shorter than its dims need
        Msg t = new Msg().varint(1, 3).varint(1, 4).varint(2, OnnxModel.FLOAT).string(8, "W").bytes(9, new byte[40]);
        Path q = model("shortraw.onnx", 13, List.of(), List.of(t), "y");
        e = assertThrows(OnnxFormatException.class, () -> OnnxModel.read(q));
        assertTrue(e.getMessage().contains("tensor 'W'") && e.getMessage().contains("needs 48 bytes of raw_data, has 40"), e.getMessage());
        // a message length running past its enclosing message
        byte[] bytes = Files.readAllBytes(FIXTURES.resolve("mlp.onnx"));
        bytes[bytes.length - 1] = (byte) 0xff; // the last byte ends a field: now an unfinished varint
        Path r = tmp.resolve("tail.onnx");
        Files.write(r, bytes);
        e = assertThrows(OnnxFormatException.class, () -> OnnxModel.read(r));
        assertTrue(e.getMessage().contains("at byte "), e.getMessage());
    }

    @Test
    void oldOpsetAndOtherTensorTypesAreRefused() throws IOException {
        Path old = model("old.onnx", 11, List.of(), gemmInits(), "y");
        OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> OnnxModel.read(old));
        assertTrue(e.getMessage().contains("opset is 11") && e.getMessage().contains("13") && e.offset() < Files.size(old), e.getMessage());
        Msg int32 = new Msg().varint(1, 2).varint(2, 6).string(8, "counts").bytes(9, new byte[8]);
        Path p = model("int32.onnx", 13, List.of(), List.of(int32), "y");
        e = assertThrows(OnnxFormatException.class, () -> OnnxModel.read(p));
        assertTrue(e.getMessage().contains("tensor 'counts'") && e.getMessage().contains("INT32 (6)"), e.getMessage());
    }

    // ---- graphs and the new layers: PyTorch-exported fixtures (the structure; the values are compared below)

    /** Each named parameter holds the initializer of its name. */
    private static void assertInitializers(OnnxModel model, OnnxImport.Imported im) {
        double[] w = im.weights();
        for (Network.Parameter p : im.network().parameters()) {
            OnnxModel.Tensor t = model.initializers().get(p.name());
            if (t == null) continue;
            assertEquals(Arrays.toString(t.values()), Arrays.toString(Arrays.copyOfRange(w, p.offset(), p.offset() + p.count())), p.name());
        }
    }

    @Test
    void residualNetEvalExportImportsAsAGraph() throws IOException {
        OnnxModel model = OnnxModel.read(FIXTURES.resolve("resnet_eval.onnx"));
        OnnxImport.Imported im = OnnxImport.toNetwork(model);
        Network net = im.network();
        assertFalse(net.isChain());
        assertFalse(im.training());
        List<Network.Layer> l = net.layers();
        assertEquals(9, l.size(), net.describe());
        // torch folded the BNs after the stem and block convs into them: convs with a bias
        for (int i : new int[] {0, 1, 2}) assertTrue(l.get(i) instanceof Network.Conv2d c && c.biasOffset() >= 0, net.describe());
        assertEquals(Activation.IDENTITY, l.get(2).activation());
        // the residual: relu(conv2(...) + stem output), read by the 1x1 conv and the concat
        assertTrue(l.get(3) instanceof Network.Add a && a.activation() == Activation.RELU, net.describe());
        assertArrayEquals(new int[] {2, 0}, net.inputs(3));
        assertTrue(l.get(4) instanceof Network.Conv2d c && c.kernel() == 1 && c.activation() == Activation.RELU, net.describe());
        assertTrue(l.get(5) instanceof Network.Concat c && Arrays.equals(c.channels(), new int[] {3, 2}) && c.spatial(), net.describe());
        assertArrayEquals(new int[] {3, 4}, net.inputs(5));
        assertTrue(l.get(6) instanceof Network.BatchNorm b && b.channels() == 5 && b.eps() == 1e-5 && b.momentum() == 0.1
                && b.activation() == Activation.RELU, net.describe());
        assertTrue(l.get(7) instanceof Network.GlobalAvgPool, net.describe());
        assertTrue(l.get(8) instanceof Network.Dense d && d.in() == 5 && d.out() == 3, net.describe());
        // the folded convs' initializers are onnx::Conv_N: default names; the others keep the model's
        assertEquals(List.of("0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias", "side.weight", "side.bias", "bn3.weight", "bn3.bias",
                "fc.weight", "fc.bias"), net.parameters().stream().map(Network.Parameter::name).toList());
        assertEquals(List.of("bn3.running_mean", "bn3.running_var"), net.statistics().stream().map(Network.Parameter::name).toList());
        assertInitializers(model, im);
        double[] stats = im.statistics();
        assertEquals(Arrays.toString(model.initializers().get("bn3.running_mean").values()), Arrays.toString(Arrays.copyOfRange(stats, 0, 5)));
        assertEquals(Arrays.toString(model.initializers().get("bn3.running_var").values()), Arrays.toString(Arrays.copyOfRange(stats, 5, 10)));
        assertShapes("resnet_eval", net, json("resnet_eval"));
    }

    @Test
    void residualNetTrainingExportImportsInTrainingModeWithTheModelsNames() throws IOException {
        OnnxModel model = OnnxModel.read(FIXTURES.resolve("resnet_train.onnx"));
        assertEquals(15, model.opset());
        OnnxImport.Imported im = OnnxImport.toNetwork(model);
        Network net = im.network();
        assertTrue(im.training());
        JsonObject json = json("resnet_train");
        // every tensor under PyTorch's state_dict name: the parameters, then (as state) the running statistics
        assertEquals(pytorchNames(json), net.parameters().stream().map(Network.Parameter::name).toList());
        assertEquals(List.of("stem.1.running_mean", "stem.1.running_var", "bn1.running_mean", "bn1.running_var", "bn2.running_mean", "bn2.running_var",
                "bn3.running_mean", "bn3.running_var"), net.statistics().stream().map(Network.Parameter::name).toList());
        // the written state_dict: each module's parameters, a batch norm's buffers after its bias (PyTorch's order)
        List<String> keys = List.copyOf(Weights.tensors(net, new Weights.StateDict(im.weights(), im.statistics(), 0), true).keySet());
        assertEquals(pytorchNames(json), keys.stream().filter(k -> !k.contains(".running_") && !k.endsWith(".num_batches_tracked")).toList());
        assertEquals(List.of("stem.1.weight", "stem.1.bias", "stem.1.running_mean", "stem.1.running_var", "stem.1.num_batches_tracked"),
                keys.subList(keys.indexOf("stem.1.weight"), keys.indexOf("stem.1.weight") + 5));
        assertInitializers(model, im);
        for (Network.Parameter p : net.statistics())
            assertEquals(Arrays.toString(model.initializers().get(p.name()).values()),
                    Arrays.toString(Arrays.copyOfRange(im.statistics(), p.offset(), p.offset() + p.count())), p.name());
        long batchNorms = net.layers().stream().filter(x -> x instanceof Network.BatchNorm b && b.momentum() == 0.1 && b.eps() == 1e-5).count();
        assertEquals(4, batchNorms, net.describe());
        long biasFree = net.layers().stream().filter(x -> x instanceof Network.Conv2d c && c.biasOffset() < 0).count();
        assertEquals(3, biasFree, "the convs before a BN have no bias: " + net.describe());
        assertShapes("resnet_train", net, json);
    }

    @Test
    void layerNormGeluMlpImportsWithTheGeluPatternAsOneActivation() throws IOException {
        OnnxModel model = OnnxModel.read(FIXTURES.resolve("mlp_ln_gelu.onnx"));
        assertEquals(17, model.opset());
        assertTrue(model.nodes().stream().anyMatch(n -> n.opType().equals("Erf")), "torch 1.13 writes GELU as Erf and arithmetic");
        OnnxImport.Imported im = OnnxImport.toNetwork(model);
        Network net = im.network();
        assertEquals(3, net.layers().size(), net.describe());
        assertTrue(net.layers().get(1) instanceof Network.LayerNorm n && n.size() == 6 && n.groups() == 1 && n.eps() == 1e-5
                && n.activation() == Activation.GELU, net.describe());
        assertEquals(pytorchNames(json("mlp_ln_gelu")), net.parameters().stream().map(Network.Parameter::name).toList());
        assertInitializers(model, im);
        assertFalse(im.training());
        // the training-mode export of the same model keeps its dropout, with PyTorch's p
        OnnxImport.Imported train = fixture("mlp_ln_gelu_train", 17);
        assertTrue(train.training());
        assertTrue(train.network().layers().get(2) instanceof Network.Dropout d && d.p() == 0.25, train.network().describe());
        assertEquals(Arrays.toString(im.weights()), Arrays.toString(train.weights()));
    }

    // ---- the values against PyTorch's (Java backend)

    @Test
    void residualNetEvalExportMatchesPyTorch() throws IOException {
        checkAgainstPyTorch("resnet_eval", 13, "2x5x5 graph of 9 layers");
    }

    @Test
    void residualNetTrainingExportMatchesPyTorchWithBatchStatistics() throws IOException {
        checkAgainstPyTorch("resnet_train", 15, "2x5x5 graph of 12 layers");
    }

    @Test
    void layerNormGeluMlpMatchesPyTorch() throws IOException {
        checkAgainstPyTorch("mlp_ln_gelu", 17, "5x1x1 chain of 3 layers");
        // the training-mode export, in evaluation mode (dropout off), computes the same outputs
        OnnxImport.Imported train = OnnxImport.toNetwork(OnnxModel.read(FIXTURES.resolve("mlp_ln_gelu_train.onnx")), Loss.SQUARED_ERROR_SUM);
        JsonObject json = json("mlp_ln_gelu");
        float[] x = floats(json.getAsJsonArray("input"));
        int rows = json.getAsJsonArray("shape").get(0).getAsInt();
        Network net = train.network();
        Backend be = new JavaBackend();
        try (NetworkModel m = be.model(net, rows); Batch b = be.batch(net, rows); Vector w = be.vector(train.weights())) {
            m.setTraining(false);
            b.set(x, new float[rows * net.outputDim()], rows);
            assertClose("mlp_ln_gelu_train output in evaluation mode", floats(json.getAsJsonArray("output")), m.forward(w, b));
        }
    }

    // ---- graphs built here

    static Msg floatAttr(String name, float v) throws IOException {
        Msg m = new Msg().string(1, name).varint(20, 1);
        m.out.writeFloat(2, v);
        return m;
    }

    static Msg stringAttr(String name, String v) throws IOException {
        return new Msg().string(1, name).varint(20, 3).string(4, v);
    }

    static Msg constant(String out, double value) throws IOException {
        return node("", "Constant", List.of(), List.of(out), new Msg().string(1, "value").varint(20, 4)
                .msg(5, tensor("", OnnxModel.FLOAT, new long[0], new double[] {value})));
    }

    static Msg boolConstant(String out, boolean value) throws IOException {
        Msg t = new Msg().varint(2, OnnxModel.BOOL).bytes(9, new byte[] {(byte) (value ? 1 : 0)});
        return node("", "Constant", List.of(), List.of(out), new Msg().string(1, "value").varint(20, 4).msg(5, t));
    }

    /** Torch's GELU of `in` as Div, Erf, Add, Mul, Mul (with its constants), its last Mul by `half`. */
    static List<Msg> erfGelu(String in, String out, double half) throws IOException {
        return List.of(constant("sqrt2", Math.sqrt(2)), node("div", "Div", List.of(in, "sqrt2"), List.of("d")), node("erf", "Erf", List.of("d"), List.of("e")),
                constant("one", 1), node("plus", "Add", List.of("e", "one"), List.of("p")), node("times", "Mul", List.of(in, "p"), List.of("t")),
                constant("half", half), node("halve", "Mul", List.of("t", "half"), List.of(out)));
    }

    static List<Msg> with(List<Msg> a, Msg... b) {
        List<Msg> all = new java.util.ArrayList<>(a);
        all.addAll(List.of(b));
        return all;
    }

    static Msg gemm(String name, String in, String out) throws IOException {
        return node(name, "Gemm", List.of(in, "W", "b"), List.of(out), intAttr("transB", 1));
    }

    @Test
    void geluOpAndTorchsErfFormGiveOneGelu() throws IOException {
        Path op = model("gelu.onnx", 20, List.of(gemm("fc", "x", "h"), node("act", "Gelu", List.of("h"), List.of("y"))), gemmInits(), "y");
        Path erf = model("erf.onnx", 17, with(erfGelu("h", "y", 0.5), gemm("fc", "x", "h")), gemmInits(), "y");
        String expected = Network.builder(4).dense(3).gelu().build().describe();
        assertEquals(expected, OnnxImport.toNetwork(OnnxModel.read(op)).network().describe());
        IllegalArgumentException order = assertThrows(IllegalArgumentException.class, () -> OnnxImport.toNetwork(OnnxModel.read(erf)));
        assertTrue(order.getMessage().contains("node 'div' (Div)") && order.getMessage().contains("topological order"), order.getMessage());
        Path sorted = model("erf2.onnx", 17, with(List.of(gemm("fc", "x", "h")), erfGelu("h", "y", 0.5).toArray(new Msg[0])), gemmInits(), "y");
        assertEquals(expected, OnnxImport.toNetwork(OnnxModel.read(sorted)).network().describe());
    }

    @Test
    void otherErfFormsAndTheTanhGeluAreRefused() throws IOException {
        Path tanh = model("tanh.onnx", 20, List.of(gemm("fc", "x", "h"), node("act", "Gelu", List.of("h"), List.of("y"), stringAttr("approximate", "tanh"))),
                gemmInits(), "y");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OnnxImport.toNetwork(OnnxModel.read(tanh)));
        assertTrue(e.getMessage().contains("node 'act' (Gelu)") && e.getMessage().contains("approximate = tanh"), e.getMessage());
        Path off = model("off.onnx", 17, with(List.of(gemm("fc", "x", "h")), erfGelu("h", "y", 0.4).toArray(new Msg[0])), gemmInits(), "y");
        e = assertThrows(IllegalArgumentException.class, () -> OnnxImport.toNetwork(OnnxModel.read(off)));
        assertTrue(e.getMessage().contains("node 'div' (Div)") && e.getMessage().contains("the Mul 'halve' (Mul)") && e.getMessage().contains("0.5"),
                e.getMessage());
        Path lone = model("lone.onnx", 13, List.of(gemm("fc", "x", "h"), node("erf", "Erf", List.of("h"), List.of("y"))), gemmInits(), "y");
        e = assertThrows(IllegalArgumentException.class, () -> OnnxImport.toNetwork(OnnxModel.read(lone)));
        assertTrue(e.getMessage().contains("node 'erf' (Erf)") && e.getMessage().contains("only inside the GELU"), e.getMessage());
        Path mul = model("mul.onnx", 13, List.of(gemm("fc", "x", "h"), constant("two", 2), node("twice", "Mul", List.of("h", "two"), List.of("y"))),
                gemmInits(), "y");
        e = assertThrows(IllegalArgumentException.class, () -> OnnxImport.toNetwork(OnnxModel.read(mul)));
        assertTrue(e.getMessage().contains("node 'twice' (Mul)") && e.getMessage().contains("not supported") && e.getMessage().contains(OnnxImport.SUPPORTED),
                e.getMessage());
    }

    @Test
    void anActivationOfAValueReadElsewhereIsALayerOfItsOwn() throws IOException {
        Path p = model("preact.onnx", 13, List.of(gemm("fc", "x", "h"), node("act", "Relu", List.of("h"), List.of("r")),
                node("sum", "Add", List.of("r", "h"), List.of("y"))), gemmInits(), "y");
        Network net = OnnxImport.toNetwork(OnnxModel.read(p)).network();
        assertEquals(3, net.layers().size(), net.describe());
        assertEquals(Activation.IDENTITY, net.layers().get(0).activation(), "the Add reads the Gemm's output without the relu");
        assertTrue(net.layers().get(1) instanceof Network.Activate a && a.activation() == Activation.RELU, net.describe());
        assertTrue(net.layers().get(2) instanceof Network.Add, net.describe());
        assertArrayEquals(new int[] {1, 0}, net.inputs(2));
    }

    @Test
    void flatConcatAndBiasFreeMatMul() throws IOException {
        double[] w = ramp(12, 0.1), wt = new double[12];
        for (int i = 0; i < 3; i++) for (int j = 0; j < 4; j++) wt[j * 3 + i] = w[i * 4 + j];
        List<Msg> inits = with(gemmInits(), tensor("Wt", OnnxModel.FLOAT, new long[] {4, 3}, wt), tensor("W2", OnnxModel.FLOAT, new long[] {3, 7}, ramp(21, 0.2)));
        Path p = model("cat.onnx", 13, List.of(node("mm", "MatMul", List.of("x", "Wt"), List.of("m")), node("cat", "Concat", List.of("x", "m"), List.of("c"),
                intAttr("axis", -1)), node("fc", "Gemm", List.of("c", "W2"), List.of("y"), intAttr("transB", 1))), inits, "y");
        OnnxImport.Imported im = OnnxImport.toNetwork(OnnxModel.read(p));
        Network net = im.network();
        assertTrue(net.layers().get(0) instanceof Network.Dense d && d.biasOffset() < 0, net.describe());
        assertTrue(net.layers().get(1) instanceof Network.Concat c && Arrays.equals(c.channels(), new int[] {4, 3}) && !c.spatial(), net.describe());
        assertArrayEquals(new int[] {Network.NETWORK_INPUT, 0}, net.inputs(1));
        assertTrue(net.layers().get(2) instanceof Network.Dense d && d.in() == 7 && d.biasOffset() < 0, net.describe());
        assertEquals(12 + 21, net.parameterCount());
        double[] got = im.weights();
        for (int i = 0; i < 12; i++) assertEquals((float) w[i], got[i], 0.0, "the MatMul's weight, transposed to out x in, at " + i);
    }

    static List<Msg> bnInits(String prefix, int c) throws IOException {
        double[] var = ramp(c, 0.1);
        for (int i = 0; i < c; i++) var[i] = 1 + Math.abs(var[i]);
        return List.of(tensor(prefix + ".weight", OnnxModel.FLOAT, new long[] {c}, ramp(c, 0.2)), tensor(prefix + ".bias", OnnxModel.FLOAT, new long[] {c}, ramp(c, 0.3)),
                tensor(prefix + ".running_mean", OnnxModel.FLOAT, new long[] {c}, ramp(c, 0.4)), tensor(prefix + ".running_var", OnnxModel.FLOAT, new long[] {c}, var));
    }

    static Msg batchNorm(String in, String out, List<String> extra, Msg... attrs) throws IOException {
        List<String> outs = new java.util.ArrayList<>(List.of(out));
        outs.addAll(extra);
        return node("bn", "BatchNormalization", List.of(in, "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var"), outs, attrs);
    }

    @Test
    void batchNormModeComesFromTrainingModeOrTheExtraOutputs() throws IOException {
        List<Msg> inits = with(gemmInits(), bnInits("bn", 4).toArray(new Msg[0]));
        Path opset15 = model("bn15.onnx", 15, List.of(batchNorm("x", "n", List.of("rm", "rv"), intAttr("training_mode", 1), floatAttr("momentum", 0.8f),
                floatAttr("epsilon", 1e-3f)), gemm("fc", "n", "y")), inits, "y");
        OnnxImport.Imported a = OnnxImport.toNetwork(OnnxModel.read(opset15));
        assertTrue(a.training());
        assertTrue(a.network().layers().get(0) instanceof Network.BatchNorm b && b.channels() == 4 && !b.spatial() && b.momentum() == 0.2
                && b.eps() == 1e-3, a.network().describe());
        assertEquals(List.of("bn.weight", "bn.bias", "1.weight", "1.bias"), a.network().parameters().stream().map(Network.Parameter::name).toList());
        Path opset13 = model("bn13.onnx", 13, List.of(batchNorm("x", "n", List.of("rm", "rv", "sm", "sv")), gemm("fc", "n", "y")), inits, "y");
        assertTrue(OnnxImport.toNetwork(OnnxModel.read(opset13)).training(), "opset 13: the running-statistics outputs mean training mode");
        Path eval13 = model("bneval.onnx", 13, List.of(batchNorm("x", "n", List.of()), gemm("fc", "n", "y")), inits, "y");
        OnnxImport.Imported e = OnnxImport.toNetwork(OnnxModel.read(eval13));
        assertFalse(e.training());
        double[] s = e.statistics(), mean = ramp(4, 0.4), var = ramp(4, 0.1);
        for (int i = 0; i < 4; i++) {
            assertEquals((float) mean[i], s[i], 0.0, "running mean " + i);
            assertEquals((float) (1 + Math.abs(var[i])), s[4 + i], 0.0, "running var " + i);
        }
        // the updated statistics must not be read
        Path read = model("bnread.onnx", 15, List.of(batchNorm("x", "n", List.of("rm", "rv"), intAttr("training_mode", 1)), gemm("fc", "n", "h"),
                node("sum", "Add", List.of("h", "rm"), List.of("y"))), inits, "y");
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> OnnxImport.toNetwork(OnnxModel.read(read)));
        assertTrue(ex.getMessage().contains("node 'bn' (BatchNormalization)") && ex.getMessage().contains("'rm'")
                && ex.getMessage().contains("only its first output"), ex.getMessage());
    }

    @Test
    void dropoutTakesItsRatioAndModeAndMixedModesAreRefused() throws IOException {
        Path train = model("drop.onnx", 13, List.of(constant("ratio", 0.3), boolConstant("on", true), node("drop", "Dropout", List.of("x", "ratio", "on"),
                List.of("d", "mask")), gemm("fc", "d", "y")), gemmInits(), "y");
        OnnxImport.Imported t = OnnxImport.toNetwork(OnnxModel.read(train));
        assertTrue(t.training());
        assertTrue(t.network().layers().get(0) instanceof Network.Dropout d && Math.abs(d.p() - 0.3) < 1e-7, t.network().describe());
        Path plain = model("drop2.onnx", 13, List.of(node("drop", "Dropout", List.of("x"), List.of("d")), gemm("fc", "d", "y")), gemmInits(), "y");
        OnnxImport.Imported p = OnnxImport.toNetwork(OnnxModel.read(plain));
        assertFalse(p.training());
        assertTrue(p.network().layers().get(0) instanceof Network.Dropout d && d.p() == 0.5, "ONNX's default ratio: " + p.network().describe());
        Path none = model("drop3.onnx", 13, List.of(constant("zero", 0), node("drop", "Dropout", List.of("x", "zero"), List.of("d")), gemm("fc", "d", "y")),
                gemmInits(), "y");
        assertEquals(1, OnnxImport.toNetwork(OnnxModel.read(none)).network().layers().size(), "ratio 0 computes nothing");
        List<Msg> inits = with(gemmInits(), bnInits("bn", 4).toArray(new Msg[0]));
        Path mixed = model("mixed.onnx", 15, List.of(batchNorm("x", "n", List.of()), boolConstant("on", true), constant("ratio", 0.3),
                node("drop", "Dropout", List.of("n", "ratio", "on"), List.of("d")), gemm("fc", "d", "y")), inits, "y");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OnnxImport.toNetwork(OnnxModel.read(mixed)));
        assertTrue(e.getMessage().contains("node 'drop' (Dropout)") && e.getMessage().contains("training mode") && e.getMessage().contains("node 'bn'")
                && e.getMessage().contains("one mode"), e.getMessage());
    }

    @Test
    void layerNormAxisAndScaleShapeAreChecked() throws IOException {
        List<Msg> inits = with(gemmInits(), tensor("ln.weight", OnnxModel.FLOAT, new long[] {4}, ramp(4, 0.2)), tensor("ln.bias", OnnxModel.FLOAT, new long[] {4},
                ramp(4, 0.1)), tensor("s3", OnnxModel.FLOAT, new long[] {3}, ramp(3, 0.2)));
        Path ok = model("ln.onnx", 17, List.of(node("ln", "LayerNormalization", List.of("x", "ln.weight", "ln.bias"), List.of("n"), intAttr("axis", 1)),
                gemm("fc", "n", "y")), inits, "y");
        Network net = OnnxImport.toNetwork(OnnxModel.read(ok)).network();
        assertTrue(net.layers().get(0) instanceof Network.LayerNorm n && n.size() == 4, net.describe());
        assertEquals(List.of("ln.weight", "ln.bias", "1.weight", "1.bias"), net.parameters().stream().map(Network.Parameter::name).toList());
        Path bad = model("ln2.onnx", 17, List.of(node("ln", "LayerNormalization", List.of("x", "s3"), List.of("n")), gemm("fc", "n", "y")), inits, "y");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OnnxImport.toNetwork(OnnxModel.read(bad)));
        assertTrue(e.getMessage().contains("node 'ln' (LayerNormalization)") && e.getMessage().contains("'s3' has shape [3]") && e.getMessage().contains("[4]"),
                e.getMessage());
    }

    @Test
    void graphRulesAreEnforcedByNode() throws IOException {
        // a constant added to a computed value that is not a MatMul's bias
        Path bias = model("bias.onnx", 13, List.of(gemm("fc", "x", "h"), node("act", "Relu", List.of("h"), List.of("r")),
                node("shift", "Add", List.of("r", "b"), List.of("y"))), gemmInits(), "y");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OnnxImport.toNetwork(OnnxModel.read(bias)));
        assertTrue(e.getMessage().contains("node 'shift' (Add)") && e.getMessage().contains("adds the constant 'b'"), e.getMessage());
        // concat along another axis
        Path axis = model("axis.onnx", 13, List.of(gemm("fc", "x", "h"), node("act", "Relu", List.of("h"), List.of("r")),
                node("cat", "Concat", List.of("h", "r"), List.of("y"), intAttr("axis", 0))), gemmInits(), "y");
        e = assertThrows(IllegalArgumentException.class, () -> OnnxImport.toNetwork(OnnxModel.read(axis)));
        assertTrue(e.getMessage().contains("node 'cat' (Concat)") && e.getMessage().contains("axis = 0"), e.getMessage());
        // an input no earlier node computes
        Path order = model("order.onnx", 13, List.of(node("act", "Relu", List.of("h"), List.of("y")), gemm("fc", "x", "h")), gemmInits(), "y");
        e = assertThrows(IllegalArgumentException.class, () -> OnnxImport.toNetwork(OnnxModel.read(order)));
        assertTrue(e.getMessage().contains("node 'act' (Relu)") && e.getMessage().contains("input 'h'") && e.getMessage().contains("DAG in topological order"),
                e.getMessage());
        // one initializer as two layers' weight
        List<Msg> square = List.of(tensor("W", OnnxModel.FLOAT, new long[] {4, 4}, ramp(16, 0.1)), tensor("b", OnnxModel.FLOAT, new long[] {4}, ramp(4, 0.1)),
                tensor("W3", OnnxModel.FLOAT, new long[] {3, 4}, ramp(12, 0.1)));
        Path tied = model("tied.onnx", 13, List.of(gemm("fc1", "x", "h"), gemm("fc2", "h", "h2"), node("out", "Gemm", List.of("h2", "W3"), List.of("y"),
                intAttr("transB", 1))), square, "y");
        e = assertThrows(IllegalArgumentException.class, () -> OnnxImport.toNetwork(OnnxModel.read(tied)));
        assertTrue(e.getMessage().contains("node 'fc2' (Gemm)") && e.getMessage().contains("'W' is also a parameter of node 'fc1' (Gemm)")
                && e.getMessage().contains("tied"), e.getMessage());
    }

    /** The parameter names of Gemm(first layer's tensors PREFIX.weight, PREFIX.bias) then Gemm(W, b). */
    private List<String> namesWithFirstLayer(String prefix) throws IOException {
        List<Msg> inits = List.of(tensor(prefix + ".weight", OnnxModel.FLOAT, new long[] {4, 4}, ramp(16, 0.1)), tensor(prefix + ".bias", OnnxModel.FLOAT,
                new long[] {4}, ramp(4, 0.1)), tensor("W", OnnxModel.FLOAT, new long[] {3, 4}, ramp(12, 0.1)), tensor("b", OnnxModel.FLOAT, new long[] {3},
                ramp(3, 0.1)));
        Path p = model(prefix + ".onnx", 13, List.of(node("fc1", "Gemm", List.of("x", prefix + ".weight", prefix + ".bias"), List.of("h"),
                intAttr("transB", 1)), gemm("fc2", "h", "y")), inits, "y");
        return OnnxImport.toNetwork(OnnxModel.read(p)).network().parameters().stream().map(Network.Parameter::name).toList();
    }

    @Test
    void modulesAreNamedFromTheInitializersOrAllByDefault() throws IOException {
        assertEquals(List.of("fc1.weight", "fc1.bias", "1.weight", "1.bias"), namesWithFirstLayer("fc1"), "W and b: the default name");
        // "1.weight" for layer 0 would meet layer 1's default name "1": every layer takes its default name
        assertEquals(List.of("0.weight", "0.bias", "1.weight", "1.bias"), namesWithFirstLayer("1"));
    }

    @Test
    void boolTensorsAreReadAndCheckedAsFlags() throws IOException {
        Msg bad = new Msg().varint(2, OnnxModel.BOOL).string(8, "flag").bytes(9, new byte[] {2});
        Path p = model("bool.onnx", 13, List.of(), List.of(bad), "y");
        OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> OnnxModel.read(p));
        assertTrue(e.getMessage().contains("tensor 'flag' (BOOL) holds 2") && e.getMessage().contains("at byte "), e.getMessage());
        Msg ok = new Msg().varint(1, 2).varint(2, OnnxModel.BOOL).string(8, "flags").varint(5, 1).varint(5, 0);
        Path q = model("bool2.onnx", 13, List.of(), List.of(ok), "y");
        assertEquals("[1, 0]", Arrays.toString(OnnxModel.read(q).initializers().get("flags").longs()));
    }
}
