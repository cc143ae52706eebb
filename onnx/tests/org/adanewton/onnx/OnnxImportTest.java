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
import org.adanewton.nn.Loss;
import org.adanewton.nn.Network;
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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OnnxImportTest {
    /** PyTorch computes in float32, the Java backend in double: |got - expected| <= FLOAT32_TOL * (1 + |expected|). */
    static final double FLOAT32_TOL = 1e-5;
    static final Path FIXTURES = Path.of("tests", "fixtures", "onnx");

    @TempDir
    Path tmp;

    // ---- fixtures exported by bench/onnx_fixtures.py

    private static void checkAgainstPyTorch(String name, String expectedNet) throws IOException {
        OnnxModel model = OnnxModel.read(FIXTURES.resolve(name + ".onnx"));
        assertEquals(13, model.opset());
        OnnxImport.Imported imported = OnnxImport.toNetwork(model, Loss.SQUARED_ERROR_SUM);
        Network net = imported.network();
        assertEquals(expectedNet, net.shortName(), name);
        JsonObject json = JsonParser.parseString(Files.readString(FIXTURES.resolve(name + ".json"))).getAsJsonObject();
        float[] x = floats(json.getAsJsonArray("input"));
        float[] expected = floats(json.getAsJsonArray("output"));
        int rows = json.getAsJsonArray("shape").get(0).getAsInt();
        assertEquals(rows * net.inputDim(), x.length);
        assertEquals(rows * net.outputDim(), expected.length);
        Backend be = new JavaBackend();
        try (NetworkModel m = be.model(net, rows); Batch b = be.batch(net, rows); Vector w = be.vector(imported.weights())) {
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
        checkAgainstPyTorch("mlp", Network.builder(6).dense(5).tanh().dense(3).build().shortName());
        OnnxModel model = OnnxModel.read(FIXTURES.resolve("mlp.onnx"));
        List<String> names = OnnxImport.toNetwork(model, Loss.SQUARED_ERROR_SUM).network().parameters().stream().map(Network.Parameter::name).toList();
        // the same names as the initializers PyTorch wrote (its Sequential's state_dict)
        assertEquals(List.of("0.weight", "0.bias", "2.weight", "2.bias"), names);
        assertTrue(model.initializers().keySet().containsAll(names), model.initializers().keySet().toString());
    }

    @Test
    void convnetFixtureMatchesPyTorch() throws IOException {
        checkAgainstPyTorch("convnet", Network.builder(2, 6, 6).conv2d(2, 3, 3, 1, 1).relu().maxPool2d(2).flatten().dense(4).build().shortName());
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
                node("add", "Add", List.of("b", "m"), List.of("h")), node("act", "Sigmoid", List.of("h"), List.of("d")),
                node("drop", "Dropout", List.of("d"), List.of("y"))),
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
    void nonChainAndMisplacedActivationAreRefused() throws IOException {
        Path branch = model("branch.onnx", 13, List.of(node("fc", "Gemm", List.of("x", "W", "b"), List.of("h"), intAttr("transB", 1)),
                node("skip", "Tanh", List.of("x"), List.of("y"))), gemmInits(), "y");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OnnxImport.toNetwork(OnnxModel.read(branch)));
        assertTrue(e.getMessage().contains("node 'skip' (Tanh)") && e.getMessage().contains("only chain graphs"), e.getMessage());
        Path twice = model("twice.onnx", 13, List.of(node("fc", "Gemm", List.of("x", "W", "b"), List.of("h"), intAttr("transB", 1)),
                node("t1", "Tanh", List.of("h"), List.of("h2")), node("t2", "Relu", List.of("h2"), List.of("y"))), gemmInits(), "y");
        e = assertThrows(IllegalArgumentException.class, () -> OnnxImport.toNetwork(OnnxModel.read(twice)));
        assertTrue(e.getMessage().contains("node 't2' (Relu)") && e.getMessage().contains("must follow"), e.getMessage());
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
}
