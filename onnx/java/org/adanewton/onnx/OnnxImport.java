package org.adanewton.onnx;

import org.adanewton.nn.Activation;
import org.adanewton.nn.Loss;
import org.adanewton.nn.Network;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Maps an {@link OnnxModel} whose graph is a DAG of supported nodes to a {@link Network} built with
 * {@link Network#builder}, with the initializers as the starting weights in the network's
 * parameter order and the batch norm running statistics in its statistics order. (It lives here
 * and not as {@code Network.fromOnnx} because the library, core, does not depend on protobuf.)
 *
 * <p>The graph: the nodes are read in file order (ONNX keeps them topologically sorted) and the
 * tensor names are followed through them: a value read by several nodes, a residual Add of two
 * computed values and a Concat of several become the builder's {@code save/from/add/concat}. Each
 * node's data input must be the graph input or an earlier node's output, every node's output must
 * be read (or be the one graph output), and the graph must end flat.
 *
 * <p>Supported nodes: {@value #SUPPORTED}. Gemm needs alpha = beta = 1 and transA = 0 (transB 1,
 * PyTorch's Linear, or 0), its bias C is optional; MatMul takes the Add of an initializer that
 * alone reads its output as its bias (none: a dense layer without bias); Conv needs group 1, a
 * square kernel, equal strides, symmetric pads and dilations 1, its bias is optional; MaxPool and
 * AveragePool a square kernel, equal strides, no padding and ceil_mode 0; Flatten axis 1; Reshape
 * a constant shape that flattens ([N, -1], [0, -1], [-1, C*H*W]); Add two computed values of one
 * shape (the Add of an initializer is a bias, and only after a MatMul); Concat axis 1 of 2 to
 * {@value Network#MAX_INPUTS} computed values; BatchNormalization constant scale, B, mean and var
 * (epsilon and momentum are kept: ONNX's momentum m is PyTorch's 1 - m); LayerNormalization
 * constant Scale (and B; without it the bias starts at zero) over a trailing block of the sample;
 * Gelu approximate = none; GlobalAveragePool a C x H x W input (the output is flat); Dropout a
 * constant ratio (default 0.5) and training_mode. The Erf of torch's exported GELU,
 * x * 0.5 * (1 + Erf(x / sqrt 2)) as Div, Erf, Add, Mul, Mul with constants sqrt 2, 1 and 0.5, is
 * recognized as one GELU; any other use of Erf, Div or Mul is refused. An activation joins the
 * layer before it when nothing else reads that layer's output, and is a layer of its own
 * otherwise. Constant nodes are constants, as initializers.
 *
 * <p>Modes: a BatchNormalization with training_mode = 1 (opset 14 and later), or with its
 * running-statistics outputs (opset 13), and a Dropout whose training_mode input is true make the
 * model a training-mode export ({@link Imported#training()}); those extra outputs (the updated
 * running statistics, the dropout mask) must not be read. A model whose nodes disagree is refused.
 *
 * <p>Names: each layer's module ({@link Network.Builder#module}) is named from its initializers:
 * a weight "M.weight" (and a bias, when it has one, "M.bias") names the module M, so
 * {@link Network#parameters()} and {@code Weights.save} give the model's own tensor names
 * ("layer1.0.conv1.weight", "bn3.running_mean"). A layer whose initializers do not have that form
 * (torch names a conv with a folded batch norm "onnx::Conv_47") keeps the default name (its index
 * in the equivalent nn.Sequential, {@link Network#sequentialIndex}); when a default name would
 * equal another layer's given name, every layer keeps its default name.
 *
 * <p>Anything else is refused with an {@link IllegalArgumentException} that names the file, the
 * node, its op type and the rule (an unknown op: the supported list).
 *
 * <p>Thread safety: stateless: safe to call from any thread.
 */
public final class OnnxImport {
    /** The supported op types. */
    public static final String SUPPORTED = "Gemm, MatMul (+ Add of a bias), Conv, BatchNormalization, LayerNormalization, Relu, Tanh, Sigmoid, "
            + "Softplus, Gelu (and torch's Erf form of it), MaxPool, AveragePool, GlobalAveragePool, Flatten, Reshape (flattening), "
            + "Add (of two computed values), Concat (channels), Dropout, Identity, Constant";

    private OnnxImport() {}

    /**
     * A network, its starting weights and running statistics, and the mode it was exported in.
     *
     * @param network the network
     * @param weights its parameter vector (the initializers, in {@link Network#parameters()} order)
     * @param statistics its running statistics (the batch norm initializers' mean and var, in
     *     {@link Network#statistics()} order; empty without batch norm)
     * @param training whether the model was exported in training mode (see the class comment;
     *     false when no node says)
     */
    public record Imported(Network network, double[] weights, double[] statistics, boolean training) {
        /** Copies the arrays. */
        public Imported {
            weights = weights.clone();
            statistics = statistics.clone();
        }

        /** A copy of the weights. */
        @Override
        public double[] weights() {
            return weights.clone();
        }

        /** A copy of the running statistics. */
        @Override
        public double[] statistics() {
            return statistics.clone();
        }
    }

    /**
     * Maps the model with the default loss (softmax cross-entropy).
     *
     * @param model the model
     * @return the network, its weights and statistics
     * @throws IllegalArgumentException when the graph is not a DAG of supported nodes
     */
    public static Imported toNetwork(OnnxModel model) {
        return toNetwork(model, Loss.SOFTMAX_CROSS_ENTROPY);
    }

    /**
     * Maps the model; ONNX holds no loss, so the caller gives it.
     *
     * @param model the model
     * @param loss the network's loss
     * @return the network, its weights and statistics
     * @throws IllegalArgumentException when the graph is not a DAG of supported nodes
     */
    public static Imported toNetwork(OnnxModel model, Loss loss) {
        Imported named = new Mapper(model, true).map(loss);
        Set<String> seen = new HashSet<>();
        for (Network.Parameter p : named.network().parameters())
            if (!seen.add(p.name())) return new Mapper(model, false).map(loss); // a default name met a given one
        for (Network.Parameter p : named.network().statistics())
            if (!seen.add(p.name())) return new Mapper(model, false).map(loss);
        return named;
    }

    /**
     * A computed value as the builder sees it: the tag it is saved under, its shape in the builder
     * ({size} or {c, h, w}) and in ONNX (per sample; they differ after GlobalAveragePool, C x 1 x 1
     * in ONNX and flat here), and whether another name (Identity, a free Flatten) reads the same
     * layer output.
     */
    private static final class Value {
        final String tag;
        final int[] shape, onnx;
        boolean aliased;

        Value(String tag, int[] shape, int[] onnx) {
            this.tag = tag;
            this.shape = shape.clone();
            this.onnx = onnx.clone();
        }

        int size() {
            int n = 1;
            for (int d : shape) n *= d;
            return n;
        }
    }

    private static final class Mapper {
        private final OnnxModel model;
        private final boolean useNames;
        /** Initializers and Constant nodes' values. */
        private final Map<String, OnnxModel.Tensor> constants = new LinkedHashMap<>();
        private final Map<String, Value> values = new HashMap<>();
        /** Per value name, the nodes that read it (once per node). */
        private final Map<String, List<OnnxModel.Node>> readers = new HashMap<>();
        /** Nodes already mapped as part of another (a MatMul's bias Add, the GELU pattern). */
        private final Set<OnnxModel.Node> absorbed = new HashSet<>();
        /** Initializers already taken as some layer's parameter (a second use would tie weights). */
        private final Map<String, OnnxModel.Node> taken = new HashMap<>();
        private final List<double[]> weights = new ArrayList<>(), statistics = new ArrayList<>();
        private final String graphOutput;
        private String inputName;
        private Network.Builder builder;
        private OnnxModel.Node node;
        private Boolean training;
        private OnnxModel.Node modeNode;

        Mapper(OnnxModel model, boolean useNames) {
            this.model = model;
            this.useNames = useNames;
            this.constants.putAll(model.initializers());
            this.graphOutput = model.outputs().size() == 1 ? model.outputs().get(0).name() : null;
            for (OnnxModel.Node n : model.nodes())
                for (String in : new HashSet<>(n.inputs())) if (!in.isEmpty()) readers.computeIfAbsent(in, k -> new ArrayList<>()).add(n);
        }

        private IllegalArgumentException fail(String what) {
            return new IllegalArgumentException(model.path() + ": " + (node == null ? "" : "node " + node.describe() + ": ") + what);
        }

        private List<OnnxModel.Node> readersOf(String value) {
            return readers.getOrDefault(value, List.of());
        }

        Imported map(Loss loss) {
            if (graphOutput == null)
                throw fail("the graph has " + model.outputs().size() + " outputs " + model.outputs().stream().map(OnnxModel.ValueInfo::name).toList()
                        + "; need exactly one");
            dataInput();
            for (OnnxModel.Node n : model.nodes()) { // constants first: a pattern looks ahead at its constants
                node = n;
                if (n.opType().equals("Constant") && (n.domain().isEmpty() || n.domain().equals("ai.onnx"))) constant();
            }
            for (OnnxModel.Node n : model.nodes()) {
                node = n;
                if (absorbed.contains(n)) continue;
                if (!n.domain().isEmpty() && !n.domain().equals("ai.onnx"))
                    throw fail("domain '" + n.domain() + "' is not supported; only the default ONNX domain is (supported ops: " + SUPPORTED + ")");
                if (n.outputs().isEmpty() || n.outputs().get(0).isEmpty()) throw fail("it has no output");
                mapNode();
            }
            node = null;
            Value out = values.get(graphOutput);
            if (out == null) throw fail("the graph output '" + graphOutput + "' is not computed by any node");
            if (values.size() == 1) throw fail("the graph has no nodes");
            if (out.shape.length != 1)
                throw fail("the graph ends with a " + show(out.shape) + " output; it must end flat (Flatten, GlobalAveragePool or Gemm)");
            Network net;
            try {
                net = builder.from(out.tag).loss(loss).build();
            } catch (IllegalArgumentException e) {
                throw fail(e.getMessage());
            }
            return new Imported(net, flat(net.parameters(), weights, net.parameterCount(), "parameter"),
                    flat(net.statistics(), statistics, net.statisticsCount(), "statistic"), training != null && training);
        }

        /** The tensors, in the network's order, as one vector. */
        private static double[] flat(List<Network.Parameter> params, List<double[]> tensors, int count, String what) {
            if (params.size() != tensors.size()) throw new IllegalStateException("internal: " + params.size() + " " + what + "s, " + tensors.size() + " tensors");
            double[] w = new double[count];
            for (int i = 0; i < params.size(); i++) {
                Network.Parameter p = params.get(i);
                if (tensors.get(i).length != p.count())
                    throw new IllegalStateException("internal: " + what + " " + p.name() + " " + Arrays.toString(p.shape()) + " has " + p.count()
                            + " values, the tensor " + tensors.get(i).length);
                System.arraycopy(tensors.get(i), 0, w, p.offset(), p.count());
            }
            return w;
        }

        /** The one graph input that is not an initializer; it sets the builder's input shape. */
        private void dataInput() {
            List<OnnxModel.ValueInfo> data = model.inputs().stream().filter(v -> !constants.containsKey(v.name())).toList();
            if (data.size() != 1)
                throw fail("the graph has " + data.size() + " data inputs " + data.stream().map(OnnxModel.ValueInfo::name).toList() + "; need exactly one");
            OnnxModel.ValueInfo in = data.get(0);
            if (in.elemType() != OnnxModel.FLOAT && in.elemType() != OnnxModel.DOUBLE)
                throw fail("the graph input '" + in.name() + "' has element type " + OnnxModel.typeName(in.elemType()) + "; need FLOAT (or DOUBLE)");
            long[] d = in.dims();
            String rule = "; need N x F or N x C x H x W with fixed F, C, H, W (N may be symbolic)";
            if (d.length != 2 && d.length != 4) throw fail("the graph input '" + in.name() + "' has shape " + dims(in) + rule);
            for (int i = 1; i < d.length; i++)
                if (d[i] < 1 || d[i] > Integer.MAX_VALUE) throw fail("the graph input '" + in.name() + "' has shape " + dims(in) + rule);
            int[] shape = d.length == 2 ? new int[] {(int) d[1]} : new int[] {(int) d[1], (int) d[2], (int) d[3]};
            builder = shape.length == 1 ? Network.builder(shape[0]) : Network.builder(shape[0], shape[1], shape[2]);
            builder.save(in.name());
            inputName = in.name();
            values.put(in.name(), new Value(in.name(), shape, shape));
        }

        private static String dims(OnnxModel.ValueInfo v) {
            long[] d = v.dims();
            List<String> s = new ArrayList<>();
            for (int i = 0; i < d.length; i++) s.add(d[i] >= 0 ? Long.toString(d[i]) : v.dimParams().get(i).isEmpty() ? "?" : v.dimParams().get(i));
            return "[" + String.join(", ", s) + "]";
        }

        private static String show(int[] s) {
            return s.length == 1 ? "flat " + s[0] : s[0] + "x" + s[1] + "x" + s[2];
        }

        private void mapNode() {
            switch (node.opType()) {
                case "Constant" -> { } // read before the other nodes
                case "Gemm" -> gemm();
                case "MatMul" -> matmul();
                case "Conv" -> conv();
                case "BatchNormalization" -> batchNorm();
                case "LayerNormalization" -> layerNorm();
                case "Relu" -> activation(Activation.RELU);
                case "Tanh" -> activation(Activation.TANH);
                case "Sigmoid" -> activation(Activation.SIGMOID);
                case "Softplus" -> activation(Activation.SOFTPLUS);
                case "Gelu" -> {
                    OnnxModel.Attribute a = node.attributes().get("approximate");
                    if (a != null && !a.s().equals("none")) throw fail("approximate = " + a.s() + "; only the exact GELU (approximate = none) is supported");
                    activation(Activation.GELU);
                }
                case "Div" -> geluPattern();
                case "Erf" -> throw fail("Erf is supported only inside the GELU that torch exports, x * 0.5 * (1 + Erf(x / sqrt 2)) (Div, Erf, Add, Mul, "
                        + "Mul), which this Erf is not part of");
                case "MaxPool" -> pool(true);
                case "AveragePool" -> pool(false);
                case "GlobalAveragePool" -> {
                    Value x = dataValue(0);
                    requireSpatial(x);
                    push(x, () -> builder.globalAvgPool(), new int[] {x.shape[0]}, new int[] {x.shape[0], 1, 1});
                }
                case "Flatten" -> {
                    long axis = intAttr("axis", 1);
                    if (axis != 1) throw fail("axis = " + axis + "; only axis 1 (flatten each sample) is supported");
                    flatten(dataValue(0));
                }
                case "Reshape" -> reshape();
                case "Add" -> add();
                case "Concat" -> concat();
                case "Dropout" -> dropout();
                case "Identity" -> alias(dataValue(0));
                default -> throw fail("op type " + node.opType() + " is not supported; supported: " + SUPPORTED);
            }
        }

        // ---- values and constants

        /** The computed value read as input i (refused: an initializer, or a value no earlier node computes). */
        private Value dataValue(int i) {
            if (node.inputs().size() <= i || node.inputs().get(i).isEmpty()) throw fail("its data input " + i + " is missing");
            String name = node.inputs().get(i);
            Value v = values.get(name);
            if (v != null) return v;
            if (constants.containsKey(name))
                throw fail("its data input '" + name + "' is a constant; the data input must be computed from the graph input");
            throw fail("its input '" + name + "' is neither the graph input, an initializer nor the output of an earlier node: the nodes must form a "
                    + "DAG in topological order, as ONNX requires");
        }

        /** A constant input (an initializer or a Constant node's output), or null when the optional input is absent. */
        private OnnxModel.Tensor constantInput(int i, String role) {
            if (node.inputs().size() <= i || node.inputs().get(i).isEmpty()) return null;
            String name = node.inputs().get(i);
            OnnxModel.Tensor t = constants.get(name);
            if (t == null)
                throw fail(role + " '" + name + "' is " + (values.containsKey(name) ? "computed by the graph" : "not defined by an earlier node")
                        + "; it must be an initializer or a Constant");
            return t;
        }

        private OnnxModel.Tensor real(OnnxModel.Tensor t, String role) {
            if (t != null && !t.isReal())
                throw fail(role + " '" + t.name() + "' has element type " + OnnxModel.typeName(t.dataType()) + "; need FLOAT or DOUBLE");
            return t;
        }

        /** A constant that becomes a layer's parameter (or running statistic): real, used by one node only. */
        private OnnxModel.Tensor parameter(int i, String role) {
            OnnxModel.Tensor t = real(constantInput(i, role), role);
            if (t == null) return null;
            OnnxModel.Node other = taken.putIfAbsent(t.name(), node);
            if (other != null && other != node)
                throw fail(role + " '" + t.name() + "' is also a parameter of node " + other.describe() + ": shared (tied) weights are not supported");
            return t;
        }

        private double scalar(OnnxModel.Tensor t, String role) {
            if (t.isReal() && t.values().length == 1) return t.values()[0];
            throw fail(role + " '" + t.name() + "' must be one FLOAT or DOUBLE value; it is " + OnnxModel.typeName(t.dataType()) + " of shape "
                    + Arrays.toString(t.dims()));
        }

        private void constant() {
            OnnxModel.Tensor t;
            Map<String, OnnxModel.Attribute> a = node.attributes();
            String out = node.outputs().get(0);
            if (a.size() != 1) throw fail("a Constant needs exactly one value attribute; it has " + a.keySet());
            OnnxModel.Attribute v = a.values().iterator().next();
            if (out.isEmpty()) throw fail("it has no output");
            t = switch (v.name()) {
                case "value" -> v.t() == null ? null : new OnnxModel.Tensor(out, v.t().dataType(), v.t().dims(), v.t().values(), v.t().longs());
                case "value_float" -> new OnnxModel.Tensor(out, OnnxModel.FLOAT, new long[0], new double[] {v.f()}, new long[0]);
                case "value_floats" -> {
                    float[] f = v.floats();
                    double[] d = new double[f.length];
                    for (int i = 0; i < f.length; i++) d[i] = f[i];
                    yield new OnnxModel.Tensor(out, OnnxModel.FLOAT, new long[] {f.length}, d, new long[0]);
                }
                case "value_int" -> new OnnxModel.Tensor(out, OnnxModel.INT64, new long[0], new double[0], new long[] {v.i()});
                case "value_ints" -> new OnnxModel.Tensor(out, OnnxModel.INT64, new long[] {v.ints().length}, new double[0], v.ints());
                default -> null;
            };
            if (t == null) throw fail("attribute '" + v.name() + "' is not supported; a Constant needs value (a tensor), value_float(s) or value_int(s)");
            constants.put(out, t);
        }

        // ---- layers

        /**
         * Builds one layer on x (the builder reads x first) and names its output value `out`. The
         * layer call runs inside so that a builder refusal is named by the node.
         */
        private void push(Value x, String out, Runnable layer, int[] shape, int[] onnx) {
            requireRead(out);
            try {
                builder.from(x.tag);
                layer.run();
                builder.save(out);
            } catch (IllegalArgumentException | IllegalStateException e) {
                throw fail(e.getMessage());
            }
            values.put(out, new Value(out, shape, onnx));
        }

        /** {@link #push(Value, String, Runnable, int[], int[])} to the node's first output. */
        private void push(Value x, Runnable layer, int[] shape, int[] onnx) {
            push(x, node.outputs().get(0), layer, shape, onnx);
        }

        /** The node's output is read by a node or is the graph output: a value nothing reads would be a dead layer. */
        private void requireRead(String out) {
            if (readersOf(out).isEmpty() && !out.equals(graphOutput))
                throw fail("its output '" + out + "' is read by no node and is not the graph output '" + graphOutput + "'");
        }

        /** The node's other outputs (running statistics, a mask, ...) must not be read. */
        private void requireUnread(String what) {
            for (int i = 1; i < node.outputs().size(); i++) {
                String o = node.outputs().get(i);
                if (o.isEmpty()) continue;
                if (!readersOf(o).isEmpty() || o.equals(graphOutput))
                    throw fail("its output " + i + " '" + o + "' (" + what + ") is read " + (o.equals(graphOutput) ? "as the graph output" : "by node "
                            + readersOf(o).get(0).describe()) + "; only its first output can be used");
            }
        }

        /** The node's output is the same layer output as x (a node that computes nothing here). */
        private void alias(Value x) {
            String out = node.outputs().get(0);
            requireRead(out);
            x.aliased = true;
            values.put(out, x);
        }

        /** Names the layer from its weight ("M.weight") and bias ("M.bias") initializers; otherwise it keeps its default name. */
        private void module(OnnxModel.Tensor weight, OnnxModel.Tensor bias) {
            if (!useNames || weight == null || !weight.name().endsWith(".weight")) return;
            String m = weight.name().substring(0, weight.name().length() - ".weight".length());
            if (m.isEmpty() || m.startsWith(".") || m.endsWith(".") || (bias != null && !bias.name().equals(m + ".bias"))) return;
            builder.module(m);
        }

        private void requireFlat(Value x) {
            if (x.shape.length != 1) throw fail(node.opType() + " needs a flat input, but it receives " + show(x.shape) + ": add a Flatten before it");
        }

        private void requireSpatial(Value x) {
            if (x.shape.length != 3) throw fail(node.opType() + " needs a C x H x W input, but it receives a flat vector of " + x.shape[0]);
        }

        private long intAttr(String name, long dflt) {
            OnnxModel.Attribute a = node.attributes().get(name);
            return a == null ? dflt : a.i();
        }

        private long[] intsAttr(String name, long[] dflt) {
            OnnxModel.Attribute a = node.attributes().get(name);
            return a == null ? dflt : a.ints();
        }

        /** A float attribute as the decimal it was written from (1e-05f is 1e-5, not 9.99999974e-06). */
        private double floatAttr(String name, double dflt) {
            OnnxModel.Attribute a = node.attributes().get(name);
            return a == null ? dflt : Double.parseDouble(Float.toString(a.f()));
        }

        private void noAutoPad() {
            OnnxModel.Attribute a = node.attributes().get("auto_pad");
            if (a != null && !a.s().equals("NOTSET") && !a.s().equals("VALID") && !a.s().isEmpty())
                throw fail("auto_pad = " + a.s() + "; only explicit pads (auto_pad NOTSET) are supported");
        }

        private double[] vector(OnnxModel.Tensor c, int n, String role) {
            if (c == null) return null;
            if (c.values().length != n || c.dims().length != 1)
                throw fail(role + " '" + c.name() + "' has shape " + Arrays.toString(c.dims()) + "; need [" + n + "]");
            return c.values();
        }

        /** A dense layer on x whose output is the value `output` (the Add of a MatMul's bias writes it). */
        private void dense(Value x, double[] weight, OnnxModel.Tensor weightTensor, OnnxModel.Tensor biasTensor, double[] bias, int out, String output) {
            push(x, output, () -> builder.dense(out, bias != null), new int[] {out}, new int[] {out});
            module(weightTensor, biasTensor);
            weights.add(weight);
            if (bias != null) weights.add(bias);
        }

        private void gemm() {
            Value x = dataValue(0);
            requireFlat(x);
            OnnxModel.Attribute alpha = node.attributes().get("alpha"), beta = node.attributes().get("beta");
            if ((alpha != null && alpha.f() != 1f) || (beta != null && beta.f() != 1f))
                throw fail("alpha = " + (alpha == null ? 1 : alpha.f()) + ", beta = " + (beta == null ? 1 : beta.f()) + "; only alpha = beta = 1 is supported");
            if (intAttr("transA", 0) != 0) throw fail("transA = 1 is not supported");
            boolean transB = intAttr("transB", 0) != 0;
            OnnxModel.Tensor b = parameter(1, "the weight");
            if (b == null) throw fail("it has no weight input B");
            long[] d = b.dims();
            int in = x.shape[0];
            if (d.length != 2 || d[transB ? 1 : 0] != in)
                throw fail("weight '" + b.name() + "' has shape " + Arrays.toString(d) + "; with transB = " + (transB ? 1 : 0) + " and " + in + " inputs need "
                        + (transB ? "[out, " + in + "]" : "[" + in + ", out]"));
            int out = (int) d[transB ? 0 : 1];
            double[] w = transB ? b.values() : transpose(b.values(), in, out);
            OnnxModel.Tensor c = parameter(2, "the bias");
            dense(x, w, b, c, vector(c, out, "bias"), out, node.outputs().get(0));
        }

        private void matmul() {
            Value x = dataValue(0);
            requireFlat(x);
            if (node.inputs().size() < 2 || !constants.containsKey(node.inputs().get(1)))
                throw fail("its second input must be an initializer (the weight); MatMul of two computed values is not supported");
            OnnxModel.Tensor b = parameter(1, "the weight");
            long[] d = b.dims();
            int in = x.shape[0];
            if (d.length != 2 || d[0] != in) throw fail("weight '" + b.name() + "' has shape " + Arrays.toString(d) + "; with " + in + " inputs need [" + in + ", out]");
            int out = (int) d[1];
            // the Add of an initializer that alone reads the product is its bias
            String product = node.outputs().get(0);
            List<OnnxModel.Node> next = readersOf(product);
            OnnxModel.Tensor bias = null;
            String output = product;
            if (next.size() == 1 && !product.equals(graphOutput) && next.get(0).opType().equals("Add") && next.get(0).inputs().size() == 2) {
                OnnxModel.Node add = next.get(0);
                String other = add.inputs().get(0).equals(product) ? add.inputs().get(1) : add.inputs().get(0);
                OnnxModel.Tensor t = constants.get(other);
                if (t != null && !other.equals(product)) {
                    bias = real(t, "the bias of the following Add " + add.describe());
                    if (bias.values().length != out || bias.dims().length != 1)
                        throw fail("the following Add " + add.describe() + "'s bias '" + other + "' has shape " + Arrays.toString(bias.dims()) + "; need [" + out
                                + "] (a bias per output)");
                    OnnxModel.Node owner = taken.putIfAbsent(other, add);
                    if (owner != null) throw fail("bias '" + other + "' is also a parameter of node " + owner.describe() + ": shared (tied) weights are not supported");
                    output = add.outputs().get(0);
                    absorbed.add(add);
                }
            }
            dense(x, transpose(b.values(), in, out), b, bias, bias == null ? null : bias.values(), out, output);
        }

        /** [rows x cols] row-major to [cols x rows]. */
        private static double[] transpose(double[] a, int rows, int cols) {
            double[] t = new double[a.length];
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < cols; j++) t[j * rows + i] = a[i * cols + j];
            return t;
        }

        private int square(String attr, long[] v, long dflt, int count) {
            if (v.length == 0) return (int) dflt;
            for (long x : v)
                if (x != v[0] || v.length != count) throw fail(attr + " = " + Arrays.toString(v) + "; only equal values for height and width are supported");
            if (v[0] < 0 || v[0] > Integer.MAX_VALUE) throw fail(attr + " = " + Arrays.toString(v) + " is out of range");
            return (int) v[0];
        }

        private void conv() {
            Value x = dataValue(0);
            requireSpatial(x);
            if (intAttr("group", 1) != 1) throw fail("group = " + intAttr("group", 1) + "; only group 1 is supported");
            noAutoPad();
            OnnxModel.Tensor w = parameter(1, "the weight");
            if (w == null) throw fail("it has no weight input W");
            long[] d = w.dims();
            if (d.length != 4 || d[1] != x.shape[0] || d[2] != d[3])
                throw fail("weight '" + w.name() + "' has shape " + Arrays.toString(d) + "; need [cout, " + x.shape[0] + ", k, k] (a square kernel)");
            int k = (int) d[2], cout = (int) d[0];
            long[] ks = intsAttr("kernel_shape", new long[0]);
            if (ks.length != 0 && (ks.length != 2 || ks[0] != k || ks[1] != k))
                throw fail("kernel_shape = " + Arrays.toString(ks) + " does not match the weight's " + k + "x" + k);
            int stride = square("strides", intsAttr("strides", new long[0]), 1, 2);
            int pad = square("pads", intsAttr("pads", new long[0]), 0, 4);
            int dil = square("dilations", intsAttr("dilations", new long[0]), 1, 2);
            if (dil != 1) throw fail("dilations " + dil + "; only 1 is supported");
            OnnxModel.Tensor b = parameter(2, "the bias");
            double[] bias = vector(b, cout, "bias");
            int[] shape = {cout, (x.shape[1] + 2 * pad - k) / stride + 1, (x.shape[2] + 2 * pad - k) / stride + 1};
            push(x, () -> builder.conv2d(x.shape[0], cout, k, stride, pad, bias != null), shape, shape);
            module(w, b);
            weights.add(w.values());
            if (bias != null) weights.add(bias);
        }

        private void pool(boolean max) {
            Value x = dataValue(0);
            requireSpatial(x);
            noAutoPad();
            if (intAttr("ceil_mode", 0) != 0) throw fail("ceil_mode = 1; only ceil_mode 0 is supported");
            if (max && intAttr("storage_order", 0) != 0) throw fail("storage_order = 1 is not supported");
            int k = square("kernel_shape", intsAttr("kernel_shape", new long[0]), 0, 2);
            if (k < 1) throw fail("it has no kernel_shape");
            int stride = square("strides", intsAttr("strides", new long[0]), 1, 2);
            int pad = square("pads", intsAttr("pads", new long[0]), 0, 4);
            if (pad != 0) throw fail("pads " + pad + "; pooling with padding is not supported");
            if (max && square("dilations", intsAttr("dilations", new long[0]), 1, 2) != 1) throw fail("dilations other than 1 are not supported");
            int[] shape = {x.shape[0], (x.shape[1] - k) / stride + 1, (x.shape[2] - k) / stride + 1};
            push(x, () -> {
                if (max) builder.maxPool2d(k, stride);
                else builder.avgPool2d(k, stride);
            }, shape, shape);
        }

        private void flatten(Value x) {
            if (x.shape.length == 1) {
                alias(x); // already flat (a GlobalAveragePool's C x 1 x 1 is flat here)
                return;
            }
            int n = x.size();
            push(x, () -> builder.flatten(), new int[] {n}, new int[] {n});
        }

        private void reshape() {
            Value x = dataValue(0);
            OnnxModel.Tensor t = node.inputs().size() > 1 ? constants.get(node.inputs().get(1)) : null;
            if (t == null || t.dataType() != OnnxModel.INT64) throw fail("the target shape must be an INT64 initializer or Constant");
            long[] s = t.longs();
            int size = x.size();
            if (s.length != 2 || !(s[1] == -1 || s[1] == size))
                throw fail("target shape " + Arrays.toString(s) + " does not flatten the " + Arrays.toString(x.onnx) + " input; supported: [N, -1], [0, -1], [-1, "
                        + size + "]");
            if (s[1] == -1 && s[0] == -1) throw fail("target shape [-1, -1] is not a valid reshape");
            flatten(x);
        }

        /**
         * phi(x): joins the layer that computed x when nothing else reads x (the builder decides
         * whether that layer takes it: dense, conv, norms and add do), else a layer of its own.
         * within: the nodes that make up the activation (the GELU pattern reads x twice).
         */
        private void activation(Value x, Activation a, Set<OnnxModel.Node> within, String output) {
            boolean alone = x.aliased || x.tag.equals(inputName) || x.tag.equals(graphOutput) || !within.containsAll(readersOf(x.tag));
            push(x, output, () -> {
                if (alone) builder.activationLayer(a);
                else builder.activation(a);
            }, x.shape, x.onnx);
        }

        private void activation(Activation a) {
            activation(dataValue(0), a, Set.of(node), node.outputs().get(0));
        }

        /** Torch's GELU: Div(x, sqrt 2) -> Erf -> Add(., 1) -> Mul(x, .) -> Mul(., 0.5), each output read only by the next node. */
        private void geluPattern() {
            OnnxModel.Node div = node;
            List<OnnxModel.Node> next = readersOf(div.outputs().get(0));
            if (next.size() != 1 || !next.get(0).opType().equals("Erf"))
                throw fail("op type Div is not supported (only as the start of torch's GELU, x * 0.5 * (1 + Erf(x / sqrt 2))); supported: " + SUPPORTED);
            Value x = dataValue(0);
            String why = "is not the GELU that torch exports, x * 0.5 * (1 + Erf(x / sqrt 2)) as Div, Erf, Add, Mul, Mul: ";
            double c = constantOf(div, 1);
            if (!(Math.abs(c - Math.sqrt(2)) <= 1e-6)) throw fail("this Div by " + c + " before an Erf " + why + "the divisor must be sqrt 2");
            OnnxModel.Node erf = next.get(0);
            OnnxModel.Node plus = only(erf, "Add", why);
            if (constantOf(plus, otherInput(plus, erf.outputs().get(0), why)) != 1) throw fail("the Add " + plus.describe() + " " + why + "it must add 1");
            OnnxModel.Node times = only(plus, "Mul", why);
            int xi = otherInput(times, plus.outputs().get(0), why);
            if (!times.inputs().get(xi).equals(div.inputs().get(0)))
                throw fail("the Mul " + times.describe() + " " + why + "it must multiply by the Div's input '" + div.inputs().get(0) + "'");
            OnnxModel.Node half = only(times, "Mul", why);
            if (constantOf(half, otherInput(half, times.outputs().get(0), why)) != 0.5) throw fail("the Mul " + half.describe() + " " + why + "it must multiply by 0.5");
            for (OnnxModel.Node n : List.of(erf, plus, times, half))
                if (!n.domain().isEmpty() && !n.domain().equals("ai.onnx")) throw fail("node " + n.describe() + " " + why + "it is in domain " + n.domain());
            absorbed.addAll(List.of(erf, plus, times, half));
            activation(x, Activation.GELU, Set.of(div, times), half.outputs().get(0));
        }

        /** The one node that reads n's output, of this op type, else a refusal. */
        private OnnxModel.Node only(OnnxModel.Node n, String op, String why) {
            String out = n.outputs().get(0);
            List<OnnxModel.Node> r = readersOf(out);
            if (r.size() != 1 || !r.get(0).opType().equals(op) || out.equals(graphOutput) || r.get(0).inputs().size() != 2)
                throw fail("the output of " + n.describe() + " " + why + "it must be read by one " + op + " only, but it is read by "
                        + (r.isEmpty() ? "no node" : r.stream().map(OnnxModel.Node::describe).toList()) + (out.equals(graphOutput) ? " and is the graph output" : ""));
            return r.get(0);
        }

        /** The index of the input of the binary node n that is not `value`. */
        private int otherInput(OnnxModel.Node n, String value, String why) {
            if (n.inputs().size() != 2 || n.inputs().get(0).equals(n.inputs().get(1)))
                throw fail("node " + n.describe() + " " + why + "it must have two different inputs");
            return n.inputs().get(0).equals(value) ? 1 : 0;
        }

        /** The scalar constant input i of node n (a refusal names n). */
        private double constantOf(OnnxModel.Node n, int i) {
            OnnxModel.Node at = node;
            node = n;
            try {
                OnnxModel.Tensor t = constantInput(i, "input " + i);
                if (t == null) throw fail("input " + i + " is missing");
                return scalar(t, "input " + i);
            } finally {
                node = at;
            }
        }

        private void add() {
            if (node.inputs().size() != 2) throw fail("it has " + node.inputs().size() + " inputs; Add takes 2");
            for (String in : node.inputs())
                if (constants.containsKey(in))
                    throw fail("it adds the constant '" + in + "' to a computed value: a constant is added only as the bias of the MatMul before it, "
                            + "which this Add does not follow alone");
            Value a = dataValue(0), b = dataValue(1);
            push(a, () -> builder.add(b.tag), a.shape, a.onnx);
        }

        private void concat() {
            int n = node.inputs().size();
            if (n < 2 || n > Network.MAX_INPUTS) throw fail("it has " + n + " inputs; Concat of 2 to " + Network.MAX_INPUTS + " is supported");
            Value[] in = new Value[n];
            for (int i = 0; i < n; i++) {
                if (constants.containsKey(node.inputs().get(i)))
                    throw fail("it concatenates the constant '" + node.inputs().get(i) + "'; only computed values can be concatenated");
                in[i] = dataValue(i);
            }
            int rank = in[0].onnx.length + 1;
            long axis = intAttr("axis", Long.MIN_VALUE);
            if (axis != 1 && axis != 1 - rank)
                throw fail("axis = " + (axis == Long.MIN_VALUE ? "(none)" : axis) + "; only axis 1 (the channels of N x C x H x W, the features of N x F) is supported");
            String[] rest = new String[n - 1];
            int channels = 0;
            for (int i = 0; i < n; i++) {
                channels += in[i].shape[0];
                if (i > 0) rest[i - 1] = in[i].tag;
            }
            int[] shape = in[0].shape.clone(), onnx = in[0].onnx.clone();
            shape[0] = channels;
            onnx[0] = channels;
            push(in[0], () -> builder.concat(rest), shape, onnx);
        }

        /** Records the node's mode; a model whose nodes disagree is refused. */
        private void mode(boolean train) {
            if (training == null) {
                training = train;
                modeNode = node;
            } else if (training != train)
                throw fail("it is in " + (train ? "training" : "evaluation") + " mode but node " + modeNode.describe() + " is in " + (training ? "training" : "evaluation")
                        + " mode; export the model in one mode");
        }

        private void batchNorm() {
            Value x = dataValue(0);
            long ta = intAttr("training_mode", -1);
            if (ta > 1) throw fail("training_mode = " + ta + "; must be 0 or 1");
            boolean extra = node.outputs().stream().skip(1).anyMatch(o -> !o.isEmpty());
            mode(ta >= 0 ? ta == 1 : model.opset() < 14 && extra);
            requireUnread("the updated running statistics of a training-mode batch norm");
            int c = x.shape[0];
            OnnxModel.Tensor scale = parameter(1, "the scale"), b = parameter(2, "the bias B"), mean = parameter(3, "the running mean"),
                    var = parameter(4, "the running variance");
            if (scale == null || b == null || mean == null || var == null) throw fail("it needs all of X, scale, B, input_mean and input_var");
            double[] g = vector(scale, c, "scale"), beta = vector(b, c, "B"), mu = vector(mean, c, "input_mean"), s2 = vector(var, c, "input_var");
            for (int i = 0; i < c; i++)
                if (!(s2[i] >= 0) || !Double.isFinite(s2[i]) || !Double.isFinite(mu[i]))
                    throw fail("running statistics '" + mean.name() + "', '" + var.name() + "' hold mean " + mu[i] + ", variance " + s2[i] + " at channel " + i
                            + "; need finite values and variance >= 0");
            double eps = floatAttr("epsilon", 1e-5);
            // ONNX's running mean is m r + (1 - m) s; PyTorch's momentum is 1 - m (0.9 -> 0.1, kept as the decimals written)
            double m = floatAttr("momentum", 0.9);
            if (!(m >= 0 && m <= 1)) throw fail("momentum = " + m + "; must be in [0, 1]");
            double momentum = BigDecimal.ONE.subtract(new BigDecimal(Double.toString(m))).doubleValue();
            push(x, () -> builder.batchNorm(eps, momentum), x.shape, x.onnx);
            module(scale, b);
            weights.add(g);
            weights.add(beta);
            statistics.add(mu);
            statistics.add(s2);
        }

        private void layerNorm() {
            Value x = dataValue(0);
            requireUnread("the mean or inverse standard deviation");
            int rank = x.onnx.length + 1;
            long axis = intAttr("axis", -1);
            long a = axis < 0 ? axis + rank : axis;
            if (a < 1 || a >= rank) throw fail("axis = " + axis + " on a rank-" + rank + " input; only axes after the batch axis are supported");
            int[] normalized = Arrays.copyOfRange(x.onnx, (int) a - 1, x.onnx.length);
            int size = 1;
            for (int d : normalized) size *= d;
            OnnxModel.Tensor scale = parameter(1, "the scale"), b = parameter(2, "the bias B");
            if (scale == null) throw fail("it has no Scale input");
            for (OnnxModel.Tensor t : b == null ? List.of(scale) : List.of(scale, b)) {
                long[] d = t.dims();
                boolean ok = d.length == normalized.length;
                for (int i = 0; ok && i < d.length; i++) ok = d[i] == normalized[i];
                if (!ok) throw fail("'" + t.name() + "' has shape " + Arrays.toString(d) + "; with axis " + axis + " need " + Arrays.toString(normalized));
            }
            double eps = floatAttr("epsilon", 1e-5);
            int n = size;
            push(x, () -> builder.layerNorm(n, eps), x.shape, x.onnx);
            module(scale, b);
            weights.add(scale.values());
            weights.add(b == null ? new double[size] : b.values());
        }

        private void dropout() {
            Value x = dataValue(0);
            requireUnread("the dropout mask");
            OnnxModel.Tensor ratio = constantInput(1, "the ratio"), mode = constantInput(2, "the training_mode");
            double p = ratio == null ? 0.5 : scalar(ratio, "the ratio");
            if (mode != null) {
                if (mode.dataType() != OnnxModel.BOOL || mode.longs().length != 1)
                    throw fail("training_mode '" + mode.name() + "' must be one BOOL; it is " + OnnxModel.typeName(mode.dataType()) + " of shape "
                            + Arrays.toString(mode.dims()));
                mode(mode.longs()[0] == 1);
            }
            if (p == 0) {
                alias(x);
                return;
            }
            push(x, () -> builder.dropout(p), x.shape, x.onnx);
        }
    }
}
