package org.adanewton.onnx;

import org.adanewton.nn.Activation;
import org.adanewton.nn.Loss;
import org.adanewton.nn.Network;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Maps an {@link OnnxModel} whose graph is a chain (each node's data input is the previous node's
 * output) to a {@link Network} built with {@link Network#builder}, with the initializers as the
 * starting weights in the network's parameter order. (It lives here and not as
 * {@code Network.fromOnnx} because the library, core, does not depend on protobuf.)
 *
 * <p>Supported nodes: {@value #SUPPORTED}. Gemm needs alpha = beta = 1 and transA = 0 (transB 1,
 * PyTorch's Linear, or 0); MatMul takes a following Add of an initializer as its bias (none: zero
 * bias); Conv needs group 1, a square kernel, equal strides, symmetric pads and dilations 1;
 * MaxPool and AveragePool a square kernel, equal strides, no padding and ceil_mode 0; Flatten
 * axis 1; Reshape a constant shape that flattens ([N, -1], [0, -1], [-1, C*H*W]); an activation
 * must follow a Gemm, MatMul (+Add) or Conv directly. Dropout is treated as the identity: the
 * imported network has no dropout (training-time dropout is not implemented yet). Anything else is
 * refused with an {@link IllegalArgumentException} that names the file, the node, its op type and
 * the rule.
 *
 * <p>Thread safety: stateless: safe to call from any thread.
 */
public final class OnnxImport {
    /** The supported op types. */
    public static final String SUPPORTED = "Gemm, MatMul (+ Add), Conv, Relu, Tanh, Sigmoid, Softplus, MaxPool, AveragePool, Flatten, Reshape (flattening), "
            + "Identity, Dropout";

    private OnnxImport() {}

    /**
     * A network and its starting weights (the model's initializers, in {@link Network#parameters()}
     * order).
     *
     * @param network the network
     * @param weights its parameter vector
     */
    public record Imported(Network network, double[] weights) {
        /** Copies the weights. */
        public Imported {
            weights = weights.clone();
        }

        /** A copy of the weights. */
        @Override
        public double[] weights() {
            return weights.clone();
        }
    }

    /**
     * Maps the model with the default loss (softmax cross-entropy).
     *
     * @param model the model
     * @return the network and its weights
     * @throws IllegalArgumentException when the graph is not a chain of supported nodes
     */
    public static Imported toNetwork(OnnxModel model) {
        return toNetwork(model, Loss.SOFTMAX_CROSS_ENTROPY);
    }

    /**
     * Maps the model; ONNX holds no loss, so the caller gives it.
     *
     * @param model the model
     * @param loss the network's loss
     * @return the network and its weights
     * @throws IllegalArgumentException when the graph is not a chain of supported nodes
     */
    public static Imported toNetwork(OnnxModel model, Loss loss) {
        return new Mapper(model).map(loss);
    }

    private static final class Mapper {
        private final OnnxModel model;
        private final Map<String, OnnxModel.Tensor> inits;
        private final List<double[]> weights = new ArrayList<>();
        private Network.Builder builder;
        private int[] shape;
        // whether the last layer is a dense or conv layer that can still take an activation
        private boolean activationOpen;
        private OnnxModel.Node node;

        Mapper(OnnxModel model) {
            this.model = model;
            this.inits = model.initializers();
        }

        private IllegalArgumentException fail(String what) {
            return new IllegalArgumentException(model.path() + ": " + (node == null ? "" : "node " + node.describe() + ": ") + what);
        }

        Imported map(Loss loss) {
            OnnxModel.ValueInfo input = dataInput();
            String current = input.name();
            List<OnnxModel.Node> nodes = model.nodes();
            for (int k = 0; k < nodes.size(); k++) {
                node = nodes.get(k);
                if (!node.domain().isEmpty() && !node.domain().equals("ai.onnx"))
                    throw fail("domain '" + node.domain() + "' is not supported; only the default ONNX domain is (supported ops: " + SUPPORTED + ")");
                if (node.inputs().isEmpty() || !node.inputs().get(0).equals(current))
                    throw fail("its data input is " + (node.inputs().isEmpty() ? "missing" : "'" + node.inputs().get(0) + "'") + ", not the previous node's output '"
                            + current + "': only chain graphs are supported");
                if (node.outputs().isEmpty()) throw fail("it has no output");
                for (int j = 1; j < node.inputs().size(); j++) {
                    String in = node.inputs().get(j);
                    if (!in.isEmpty() && !inits.containsKey(in) && !node.opType().equals("Dropout"))
                        throw fail("input '" + in + "' is not an initializer; only chain graphs with constant weights are supported");
                }
                String out = node.outputs().get(0);
                switch (node.opType()) {
                    case "Gemm" -> gemm();
                    case "MatMul" -> {
                        OnnxModel.Node add = k + 1 < nodes.size() ? nodes.get(k + 1) : null;
                        double[] bias = null;
                        if (add != null && add.opType().equals("Add") && add.inputs().size() == 2 && add.inputs().contains(out)) {
                            String b = add.inputs().get(0).equals(out) ? add.inputs().get(1) : add.inputs().get(0);
                            OnnxModel.Tensor t = inits.get(b);
                            if (t != null) {
                                bias = real(t, "the bias of the MatMul's Add " + add.describe()).values();
                                k++;
                                out = add.outputs().get(0);
                            }
                        }
                        matmul(bias);
                    }
                    case "Conv" -> conv();
                    case "Relu" -> activation(Activation.RELU);
                    case "Tanh" -> activation(Activation.TANH);
                    case "Sigmoid" -> activation(Activation.SIGMOID);
                    case "Softplus" -> activation(Activation.SOFTPLUS);
                    case "MaxPool" -> pool(true);
                    case "AveragePool" -> pool(false);
                    case "Flatten" -> {
                        long axis = intAttr("axis", 1);
                        if (axis != 1) throw fail("axis = " + axis + "; only axis 1 (flatten each sample) is supported");
                        flatten();
                    }
                    case "Reshape" -> reshape();
                    case "Identity", "Dropout" -> { }
                    default -> throw fail("op type " + node.opType() + " is not supported; supported: " + SUPPORTED);
                }
                current = out;
            }
            node = null;
            if (model.outputs().size() != 1 || !model.outputs().get(0).name().equals(current))
                throw fail("the graph's outputs are " + model.outputs().stream().map(OnnxModel.ValueInfo::name).toList() + "; the chain ends at '" + current
                        + "': need exactly that one output");
            if (builder == null) throw fail("the graph has no nodes");
            if (shape.length != 1) throw fail("the chain ends with a " + shape[0] + "x" + shape[1] + "x" + shape[2] + " output; it must end flat (Flatten or Gemm)");
            Network net;
            try {
                net = builder.loss(loss).build();
            } catch (IllegalArgumentException e) {
                throw fail(e.getMessage());
            }
            List<Network.Parameter> params = net.parameters();
            if (params.size() != weights.size()) throw new IllegalStateException("internal: " + params.size() + " parameters, " + weights.size() + " tensors");
            double[] w = new double[net.parameterCount()];
            for (int i = 0; i < params.size(); i++) {
                Network.Parameter p = params.get(i);
                if (weights.get(i).length != p.count())
                    throw new IllegalStateException("internal: parameter " + p.name() + " " + Arrays.toString(p.shape()) + " has " + p.count() + " values, the tensor "
                            + weights.get(i).length);
                System.arraycopy(weights.get(i), 0, w, p.offset(), p.count());
            }
            return new Imported(net, w);
        }

        /** The one graph input that is not an initializer; it sets the builder's input shape. */
        private OnnxModel.ValueInfo dataInput() {
            List<OnnxModel.ValueInfo> data = model.inputs().stream().filter(v -> !inits.containsKey(v.name())).toList();
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
            if (d.length == 2) {
                builder = Network.builder((int) d[1]);
                shape = new int[] {(int) d[1]};
            } else {
                builder = Network.builder((int) d[1], (int) d[2], (int) d[3]);
                shape = new int[] {(int) d[1], (int) d[2], (int) d[3]};
            }
            return in;
        }

        private static String dims(OnnxModel.ValueInfo v) {
            long[] d = v.dims();
            List<String> s = new ArrayList<>();
            for (int i = 0; i < d.length; i++) s.add(d[i] >= 0 ? Long.toString(d[i]) : v.dimParams().get(i).isEmpty() ? "?" : v.dimParams().get(i));
            return "[" + String.join(", ", s) + "]";
        }

        private OnnxModel.Tensor real(OnnxModel.Tensor t, String role) {
            if (!t.isReal()) throw fail(role + " '" + t.name() + "' has element type " + OnnxModel.typeName(t.dataType()) + "; need FLOAT or DOUBLE");
            return t;
        }

        private OnnxModel.Tensor init(int input, String role) {
            if (node.inputs().size() <= input || node.inputs().get(input).isEmpty()) return null;
            return real(inits.get(node.inputs().get(input)), role);
        }

        private long intAttr(String name, long dflt) {
            OnnxModel.Attribute a = node.attributes().get(name);
            return a == null ? dflt : a.i();
        }

        private long[] intsAttr(String name, long[] dflt) {
            OnnxModel.Attribute a = node.attributes().get(name);
            return a == null ? dflt : a.ints();
        }

        private void noAutoPad() {
            OnnxModel.Attribute a = node.attributes().get("auto_pad");
            if (a != null && !a.s().equals("NOTSET") && !a.s().equals("VALID") && !a.s().isEmpty())
                throw fail("auto_pad = " + a.s() + "; only explicit pads (auto_pad NOTSET) are supported");
        }

        private void requireFlat(String what) {
            if (shape.length != 1) throw fail(what + " needs a flat input, but it receives " + shape[0] + "x" + shape[1] + "x" + shape[2] + ": add a Flatten before it");
        }

        private void dense(double[] weight, double[] bias, int out) {
            try {
                builder.dense(out);
            } catch (IllegalArgumentException e) {
                throw fail(e.getMessage());
            }
            weights.add(weight);
            weights.add(bias == null ? new double[out] : bias);
            shape = new int[] {out};
            activationOpen = true;
        }

        private void gemm() {
            requireFlat("Gemm");
            OnnxModel.Attribute alpha = node.attributes().get("alpha"), beta = node.attributes().get("beta");
            if ((alpha != null && alpha.f() != 1f) || (beta != null && beta.f() != 1f))
                throw fail("alpha = " + (alpha == null ? 1 : alpha.f()) + ", beta = " + (beta == null ? 1 : beta.f()) + "; only alpha = beta = 1 is supported");
            if (intAttr("transA", 0) != 0) throw fail("transA = 1 is not supported");
            boolean transB = intAttr("transB", 0) != 0;
            OnnxModel.Tensor b = init(1, "the weight");
            if (b == null) throw fail("it has no weight input B");
            long[] d = b.dims();
            int in = shape[0];
            if (d.length != 2 || d[transB ? 1 : 0] != in)
                throw fail("weight '" + b.name() + "' has shape " + Arrays.toString(d) + "; with transB = " + (transB ? 1 : 0) + " and " + in + " inputs need "
                        + (transB ? "[out, " + in + "]" : "[" + in + ", out]"));
            int out = (int) d[transB ? 0 : 1];
            double[] w = transB ? b.values() : transpose(b.values(), in, out);
            dense(w, bias(init(2, "the bias"), out), out);
        }

        private double[] bias(OnnxModel.Tensor c, int out) {
            if (c == null) return null;
            double[] v = c.values();
            if (v.length != out || c.dims().length != 1)
                throw fail("bias '" + c.name() + "' has shape " + Arrays.toString(c.dims()) + "; need [" + out + "]");
            return v;
        }

        private void matmul(double[] biasValues) {
            requireFlat("MatMul");
            OnnxModel.Tensor b = init(1, "the weight");
            long[] d = b.dims();
            int in = shape[0];
            if (d.length != 2 || d[0] != in) throw fail("weight '" + b.name() + "' has shape " + Arrays.toString(d) + "; with " + in + " inputs need [" + in + ", out]");
            int out = (int) d[1];
            if (biasValues != null && biasValues.length != out)
                throw fail("the following Add's bias has " + biasValues.length + " values; need " + out + " (a bias per output)");
            dense(transpose(b.values(), in, out), biasValues, out);
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
            if (shape.length != 3) throw fail("Conv needs a C x H x W input, but it receives a flat vector of " + shape[0]);
            if (intAttr("group", 1) != 1) throw fail("group = " + intAttr("group", 1) + "; only group 1 is supported");
            noAutoPad();
            OnnxModel.Tensor w = init(1, "the weight");
            if (w == null) throw fail("it has no weight input W");
            long[] d = w.dims();
            if (d.length != 4 || d[1] != shape[0] || d[2] != d[3])
                throw fail("weight '" + w.name() + "' has shape " + Arrays.toString(d) + "; need [cout, " + shape[0] + ", k, k] (a square kernel)");
            int k = (int) d[2], cout = (int) d[0];
            long[] ks = intsAttr("kernel_shape", new long[0]);
            if (ks.length != 0 && (ks.length != 2 || ks[0] != k || ks[1] != k))
                throw fail("kernel_shape = " + Arrays.toString(ks) + " does not match the weight's " + k + "x" + k);
            int stride = square("strides", intsAttr("strides", new long[0]), 1, 2);
            int pad = square("pads", intsAttr("pads", new long[0]), 0, 4);
            int dil = square("dilations", intsAttr("dilations", new long[0]), 1, 2);
            if (dil != 1) throw fail("dilations " + dil + "; only 1 is supported");
            try {
                builder.conv2d(shape[0], cout, k, stride, pad);
            } catch (IllegalArgumentException e) {
                throw fail(e.getMessage());
            }
            weights.add(w.values());
            double[] b = bias(init(2, "the bias"), cout);
            weights.add(b == null ? new double[cout] : b);
            shape = new int[] {cout, (shape[1] + 2 * pad - k) / stride + 1, (shape[2] + 2 * pad - k) / stride + 1};
            activationOpen = true;
        }

        private void pool(boolean max) {
            if (shape.length != 3) throw fail(node.opType() + " needs a C x H x W input, but it receives a flat vector of " + shape[0]);
            noAutoPad();
            if (intAttr("ceil_mode", 0) != 0) throw fail("ceil_mode = 1; only ceil_mode 0 is supported");
            if (max && intAttr("storage_order", 0) != 0) throw fail("storage_order = 1 is not supported");
            int k = square("kernel_shape", intsAttr("kernel_shape", new long[0]), 0, 2);
            if (k < 1) throw fail("it has no kernel_shape");
            int stride = square("strides", intsAttr("strides", new long[0]), 1, 2);
            int pad = square("pads", intsAttr("pads", new long[0]), 0, 4);
            if (pad != 0) throw fail("pads " + pad + "; pooling with padding is not supported");
            if (max && square("dilations", intsAttr("dilations", new long[0]), 1, 2) != 1) throw fail("dilations other than 1 are not supported");
            try {
                if (max) builder.maxPool2d(k, stride);
                else builder.avgPool2d(k, stride);
            } catch (IllegalArgumentException e) {
                throw fail(e.getMessage());
            }
            shape = new int[] {shape[0], (shape[1] - k) / stride + 1, (shape[2] - k) / stride + 1};
            activationOpen = false;
        }

        private void flatten() {
            if (shape.length == 1) return;
            try {
                builder.flatten();
            } catch (IllegalArgumentException e) {
                throw fail(e.getMessage());
            }
            shape = new int[] {shape[0] * shape[1] * shape[2]};
            activationOpen = false;
        }

        private void reshape() {
            OnnxModel.Tensor t = node.inputs().size() > 1 ? inits.get(node.inputs().get(1)) : null;
            if (t == null || t.dataType() != OnnxModel.INT64) throw fail("the target shape must be an INT64 initializer");
            long[] s = t.longs();
            int size = 1;
            for (int d : shape) size *= d;
            if (s.length != 2 || !(s[1] == -1 || s[1] == size))
                throw fail("target shape " + Arrays.toString(s) + " does not flatten the " + Arrays.toString(shape) + " input; supported: [N, -1], [0, -1], [-1, " + size + "]");
            if (s[1] == -1 && s[0] == -1) throw fail("target shape [-1, -1] is not a valid reshape");
            flatten();
        }

        private void activation(Activation a) {
            if (!activationOpen)
                throw fail(a + " must follow a Gemm, MatMul (+ Add) or Conv node directly (an adanewton activation belongs to the dense or conv layer before it)");
            builder.activation(a);
            activationOpen = false;
        }
    }
}
