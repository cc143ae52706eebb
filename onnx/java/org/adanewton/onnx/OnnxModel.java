package org.adanewton.onnx;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What adanewton reads of an ONNX model: the default-domain opset, the graph's nodes (in file
 * order), its initializers (FLOAT and DOUBLE tensors as doubles, INT64 tensors as longs, for shape
 * constants, and BOOL tensors as longs 0 and 1, for flags such as Dropout's training_mode), its
 * inputs and outputs with their shapes. Read with {@link #read(Path)}, a minimal
 * reader over protobuf's wire format by the field numbers of the public ONNX specification
 * (onnx.proto); fields it does not use are skipped.
 *
 * <p>Strict: a truncated or corrupt file is refused with an {@link OnnxFormatException} naming the
 * file, the byte offset where reading failed and the field being read; so is a tensor of another
 * element type, a tensor whose data does not match its dimensions, external tensor data, and a
 * default-domain opset below {@value #MIN_OPSET}.
 *
 * <p>Thread safety: immutable after {@link #read(Path)}: safe to share between threads.
 *
 * @param path the file read
 * @param irVersion ModelProto.ir_version
 * @param opset the version of the default ("" or "ai.onnx") operator set
 * @param graphName GraphProto.name
 * @param nodes the nodes in file order
 * @param initializers the initializers by name, in file order
 * @param inputs the graph inputs (initializers listed as inputs included)
 * @param outputs the graph outputs
 */
public record OnnxModel(Path path, long irVersion, long opset, String graphName, List<Node> nodes, Map<String, Tensor> initializers,
        List<ValueInfo> inputs, List<ValueInfo> outputs) {

    /** The lowest default-domain opset accepted. */
    public static final int MIN_OPSET = 13;
    /** TensorProto.DataType FLOAT. */
    public static final int FLOAT = 1;
    /** TensorProto.DataType INT64. */
    public static final int INT64 = 7;
    /** TensorProto.DataType BOOL. */
    public static final int BOOL = 9;
    /** TensorProto.DataType DOUBLE. */
    public static final int DOUBLE = 11;

    /** Copies the lists and the map. */
    public OnnxModel {
        nodes = List.copyOf(nodes);
        initializers = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(initializers));
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
    }

    /**
     * A graph node.
     *
     * @param name NodeProto.name (may be empty)
     * @param opType NodeProto.op_type
     * @param domain NodeProto.domain ("" for the default domain)
     * @param inputs the input value names ("" for an omitted optional input)
     * @param outputs the output value names
     * @param attributes the attributes by name
     */
    public record Node(String name, String opType, String domain, List<String> inputs, List<String> outputs, Map<String, Attribute> attributes) {
        /** Copies the lists and the map. */
        public Node {
            inputs = List.copyOf(inputs);
            outputs = List.copyOf(outputs);
            attributes = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(attributes));
        }

        /** "'name' (OpType)", or the node's first output when it has no name. */
        public String describe() {
            return (name.isEmpty() ? "(unnamed, output '" + (outputs.isEmpty() ? "" : outputs.get(0)) + "')" : "'" + name + "'") + " (" + opType + ")";
        }
    }

    /**
     * A node attribute; only the fields of its type are meaningful.
     *
     * @param name AttributeProto.name
     * @param type AttributeProto.type (1 FLOAT, 2 INT, 3 STRING, 4 TENSOR, 6 FLOATS, 7 INTS, ...)
     * @param f the float value
     * @param i the int value
     * @param s the string value (UTF-8)
     * @param floats the float list
     * @param ints the int list
     * @param t the tensor value, or null
     */
    public record Attribute(String name, int type, float f, long i, String s, float[] floats, long[] ints, Tensor t) {
        /** Copies the arrays. */
        public Attribute {
            floats = floats.clone();
            ints = ints.clone();
        }

        /** A copy of the float list. */
        @Override
        public float[] floats() {
            return floats.clone();
        }

        /** A copy of the int list. */
        @Override
        public long[] ints() {
            return ints.clone();
        }
    }

    /**
     * A tensor: FLOAT or DOUBLE values as doubles, INT64 and BOOL values as longs (the other array is
     * empty).
     *
     * @param name TensorProto.name
     * @param dataType TensorProto.data_type
     * @param dims the dimensions
     * @param values the FLOAT or DOUBLE values, row-major
     * @param longs the INT64 (or BOOL: 0, 1) values, row-major
     */
    public record Tensor(String name, int dataType, long[] dims, double[] values, long[] longs) {
        /** Copies the arrays. */
        public Tensor {
            dims = dims.clone();
            values = values.clone();
            longs = longs.clone();
        }

        /** A copy of the dimensions. */
        @Override
        public long[] dims() {
            return dims.clone();
        }

        /** A copy of the values. */
        @Override
        public double[] values() {
            return values.clone();
        }

        /** A copy of the INT64 (or BOOL) values. */
        @Override
        public long[] longs() {
            return longs.clone();
        }

        /** Whether it holds FLOAT or DOUBLE values. */
        public boolean isReal() {
            return dataType == FLOAT || dataType == DOUBLE;
        }
    }

    /**
     * A graph input or output: its name and shape, each dimension a value (dim_value) or -1 with its
     * symbolic name (dim_param, "" when neither is given).
     *
     * @param name ValueInfoProto.name
     * @param elemType the tensor element type (0 when not given)
     * @param dims the dimensions, -1 where not a fixed value; empty when no shape is given
     * @param dimParams the symbolic names, "" where the dimension is a value
     */
    public record ValueInfo(String name, int elemType, long[] dims, List<String> dimParams) {
        /** Copies the array and the list. */
        public ValueInfo {
            dims = dims.clone();
            dimParams = List.copyOf(dimParams);
        }

        /** A copy of the dimensions. */
        @Override
        public long[] dims() {
            return dims.clone();
        }
    }

    /** The name of an element type, as onnx.proto spells it ("FLOAT", "INT64", ...), or "type N". */
    public static String typeName(int dataType) {
        String[] names = {"UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16", "INT32", "INT64", "STRING", "BOOL", "FLOAT16", "DOUBLE", "UINT32",
                "UINT64", "COMPLEX64", "COMPLEX128", "BFLOAT16"};
        return dataType >= 0 && dataType < names.length ? names[dataType] + " (" + dataType + ")" : "type " + dataType;
    }

    /**
     * Reads an ONNX model file.
     *
     * @param path the .onnx file
     * @return the model
     * @throws OnnxFormatException when the file is truncated or corrupt, holds a tensor of an
     *     unsupported type, or declares an opset below {@value #MIN_OPSET}
     * @throws IOException when the file cannot be read
     */
    public static OnnxModel read(Path path) throws IOException {
        byte[] bytes = Files.readAllBytes(path);
        return new Reader(path, bytes).model();
    }

    /** The reader: a cursor over the file's bytes, with the path of fields being read for messages. */
    private static final class Reader {
        private final Path path;
        private final byte[] bytes;
        private final ArrayList<String> where = new ArrayList<>();

        Reader(Path path, byte[] bytes) {
            this.path = path;
            this.bytes = bytes;
        }

        private String whereText() {
            return where.isEmpty() ? "the ModelProto" : String.join(" > ", where);
        }

        OnnxFormatException error(long offset, String what) {
            return new OnnxFormatException(path + ": " + what + ", at byte " + offset + " while reading " + whereText(), offset);
        }

        /** A message's fields, from bytes [start, end). */
        private final class Msg {
            final int start, end;
            final CodedInputStream in;
            int field, wire;

            Msg(int start, int end) {
                this.start = start;
                this.end = end;
                this.in = CodedInputStream.newInstance(bytes, start, end - start);
            }

            long pos() {
                return start + in.getTotalBytesRead();
            }

            boolean next() throws OnnxFormatException {
                long at = pos();
                try {
                    if (in.isAtEnd()) return false;
                    int tag = in.readTag();
                    field = WireFormat.getTagFieldNumber(tag);
                    wire = WireFormat.getTagWireType(tag);
                    if (field == 0) throw error(at, "corrupt field key (field number 0)");
                    if (wire > 5) throw error(at, "corrupt field key (field " + field + " has wire type " + wire + ", which does not exist)");
                    return true;
                } catch (IOException e) {
                    throw error(at, failure(at, "a field key"));
                }
            }

            /** Why a read that started at `at` failed: the data ran out at the file's end, or it is malformed. */
            private String failure(long at, String what) {
                boolean truncated = end == bytes.length && bytes.length - at < 16;
                return truncated ? "the data ends inside " + what + " (truncated file)" : "malformed " + what + " (corrupt file)";
            }

            void expect(int wireType, String name) throws OnnxFormatException {
                if (wire != wireType)
                    throw error(pos(), "field " + field + " (" + name + ") has wire type " + wire + ", expected " + wireType + " (" + wireName(wireType)
                            + "): corrupt field");
            }

            long varint(String name) throws OnnxFormatException {
                expect(WireFormat.WIRETYPE_VARINT, name);
                long at = pos();
                try {
                    return in.readInt64();
                } catch (IOException e) {
                    throw error(at, failure(at, "the varint " + name));
                }
            }

            /** The [start, end) of a length-delimited field, checked against the bytes that remain. */
            int[] span(String name) throws OnnxFormatException {
                expect(WireFormat.WIRETYPE_LENGTH_DELIMITED, name);
                long at = pos();
                int len;
                try {
                    len = in.readRawVarint32();
                } catch (IOException e) {
                    throw error(at, failure(at, "the length of " + name));
                }
                int s = (int) pos();
                int limit = end;
                if (len < 0 || (long) s + len > limit)
                    throw error(at, name + " declares " + (len & 0xffffffffL) + " bytes but only " + (limit - s) + " remain"
                            + (limit == bytes.length ? " in the file (truncated file)" : " in the enclosing message (corrupt field)"));
                try {
                    in.skipRawBytes(len);
                } catch (IOException e) {
                    throw error(at, failure(at, name));
                }
                return new int[] {s, s + len};
            }

            String string(String name) throws OnnxFormatException {
                int[] sp = span(name);
                return new String(bytes, sp[0], sp[1] - sp[0], StandardCharsets.UTF_8);
            }

            float fixed32Float(String name) throws OnnxFormatException {
                expect(WireFormat.WIRETYPE_FIXED32, name);
                long at = pos();
                try {
                    return in.readFloat();
                } catch (IOException e) {
                    throw error(at, failure(at, "the float " + name));
                }
            }

            void skip() throws OnnxFormatException {
                long at = pos();
                if (wire == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                    span("skipped field " + field);
                    return;
                }
                if (wire == WireFormat.WIRETYPE_START_GROUP || wire == WireFormat.WIRETYPE_END_GROUP)
                    throw error(at, "field " + field + " has the group wire type " + wire + ", which ONNX does not use: corrupt field");
                try {
                    in.skipField((field << 3) | wire);
                } catch (IOException e) {
                    throw error(at, failure(at, "skipped field " + field));
                }
            }

            /** A repeated int64 field, packed or not, appended to out. */
            void longs(String name, List<Long> out) throws OnnxFormatException {
                if (wire == WireFormat.WIRETYPE_VARINT) {
                    out.add(varint(name));
                    return;
                }
                int[] sp = span(name);
                Msg packed = sub(sp);
                while (packed.pos() < sp[1]) {
                    long at = packed.pos();
                    try {
                        out.add(packed.in.readInt64());
                    } catch (IOException e) {
                        throw error(at, "malformed packed varint in " + name + " (corrupt field)");
                    }
                }
            }

            /** A repeated fixed-width field (float: 4 bytes, double: 8), packed or not, appended to out. */
            void reals(String name, boolean isDouble, List<Double> out) throws OnnxFormatException {
                int w = isDouble ? WireFormat.WIRETYPE_FIXED64 : WireFormat.WIRETYPE_FIXED32;
                if (wire == w) {
                    long at = pos();
                    try {
                        out.add(isDouble ? in.readDouble() : in.readFloat());
                    } catch (IOException e) {
                        throw error(at, failure(at, name));
                    }
                    return;
                }
                int[] sp = span(name);
                int size = isDouble ? 8 : 4;
                if ((sp[1] - sp[0]) % size != 0)
                    throw error(sp[0], "packed " + name + " has " + (sp[1] - sp[0]) + " bytes, not a multiple of " + size + " (corrupt field)");
                ByteBuffer b = ByteBuffer.wrap(bytes, sp[0], sp[1] - sp[0]).order(ByteOrder.LITTLE_ENDIAN);
                while (b.hasRemaining()) out.add(isDouble ? b.getDouble() : (double) b.getFloat());
            }
        }

        private Msg sub(int[] span) {
            return new Msg(span[0], span[1]);
        }

        private static String wireName(int w) {
            return switch (w) {
                case 0 -> "varint";
                case 1 -> "64-bit";
                case 2 -> "length-delimited";
                case 5 -> "32-bit";
                default -> "wire type " + w;
            };
        }

        OnnxModel model() throws OnnxFormatException {
            Msg m = sub(new int[] {0, bytes.length});
            long ir = 0;
            Long opset = null;
            long opsetAt = 0;
            int[] graph = null;
            List<String> domains = new ArrayList<>();
            while (m.next()) {
                switch (m.field) {
                    case 1 -> ir = m.varint("ModelProto.ir_version");
                    case 8 -> {
                        long at = m.pos();
                        where.add("ModelProto.opset_import");
                        long[] dv = new long[1];
                        String domain = opsetImport(m.span("ModelProto.opset_import"), dv);
                        where.remove(where.size() - 1);
                        domains.add((domain.isEmpty() ? "\"\"" : domain) + " " + dv[0]);
                        if (domain.isEmpty() || domain.equals("ai.onnx")) {
                            opset = dv[0];
                            opsetAt = at;
                        }
                    }
                    case 7 -> graph = m.span("ModelProto.graph");
                    default -> m.skip();
                }
            }
            if (bytes.length == 0) throw error(0, "the file is empty");
            if (graph == null) throw error(bytes.length, "the model has no graph (ModelProto.graph, field 7)");
            if (opset == null)
                throw error(bytes.length, "the model imports no default-domain (\"\" or ai.onnx) opset (opset_import: " + domains + ")");
            if (opset < MIN_OPSET)
                throw error(opsetAt, "the model's default-domain opset is " + opset + "; adanewton reads opset " + MIN_OPSET
                        + " and later (re-export it with opset_version=" + MIN_OPSET + " or later)");
            where.add("ModelProto.graph");
            OnnxModel model = graph(graph, ir, opset);
            where.remove(where.size() - 1);
            return model;
        }

        private String opsetImport(int[] span, long[] version) throws OnnxFormatException {
            Msg m = sub(span);
            String domain = "";
            while (m.next()) {
                switch (m.field) {
                    case 1 -> domain = m.string("OperatorSetIdProto.domain");
                    case 2 -> version[0] = m.varint("OperatorSetIdProto.version");
                    default -> m.skip();
                }
            }
            return domain;
        }

        private OnnxModel graph(int[] span, long ir, long opset) throws OnnxFormatException {
            Msg m = sub(span);
            String name = "";
            List<Node> nodes = new ArrayList<>();
            Map<String, Tensor> inits = new LinkedHashMap<>();
            List<ValueInfo> inputs = new ArrayList<>(), outputs = new ArrayList<>();
            while (m.next()) {
                switch (m.field) {
                    case 1 -> {
                        where.add("GraphProto.node[" + nodes.size() + "]");
                        nodes.add(node(m.span("GraphProto.node")));
                        where.remove(where.size() - 1);
                    }
                    case 2 -> name = m.string("GraphProto.name");
                    case 5 -> {
                        where.add("GraphProto.initializer[" + inits.size() + "]");
                        Tensor t = tensor(m.span("GraphProto.initializer"));
                        where.remove(where.size() - 1);
                        inits.put(t.name(), t);
                    }
                    case 11 -> {
                        where.add("GraphProto.input[" + inputs.size() + "]");
                        inputs.add(valueInfo(m.span("GraphProto.input")));
                        where.remove(where.size() - 1);
                    }
                    case 12 -> {
                        where.add("GraphProto.output[" + outputs.size() + "]");
                        outputs.add(valueInfo(m.span("GraphProto.output")));
                        where.remove(where.size() - 1);
                    }
                    default -> m.skip();
                }
            }
            return new OnnxModel(path, ir, opset, name, nodes, inits, inputs, outputs);
        }

        private Node node(int[] span) throws OnnxFormatException {
            Msg m = sub(span);
            String name = "", op = "", domain = "";
            List<String> in = new ArrayList<>(), out = new ArrayList<>();
            Map<String, Attribute> attrs = new LinkedHashMap<>();
            while (m.next()) {
                switch (m.field) {
                    case 1 -> in.add(m.string("NodeProto.input"));
                    case 2 -> out.add(m.string("NodeProto.output"));
                    case 3 -> name = m.string("NodeProto.name");
                    case 4 -> op = m.string("NodeProto.op_type");
                    case 7 -> domain = m.string("NodeProto.domain");
                    case 5 -> {
                        where.add("NodeProto.attribute[" + attrs.size() + "]");
                        Attribute a = attribute(m.span("NodeProto.attribute"));
                        where.remove(where.size() - 1);
                        attrs.put(a.name(), a);
                    }
                    default -> m.skip();
                }
            }
            return new Node(name, op, domain, in, out, attrs);
        }

        private Attribute attribute(int[] span) throws OnnxFormatException {
            Msg m = sub(span);
            String name = "", s = "";
            int type = 0;
            float f = 0;
            long i = 0;
            Tensor t = null;
            List<Double> floats = new ArrayList<>();
            List<Long> ints = new ArrayList<>();
            while (m.next()) {
                switch (m.field) {
                    case 1 -> name = m.string("AttributeProto.name");
                    case 20 -> type = (int) m.varint("AttributeProto.type");
                    case 2 -> f = m.fixed32Float("AttributeProto.f");
                    case 3 -> i = m.varint("AttributeProto.i");
                    case 4 -> s = m.string("AttributeProto.s");
                    case 5 -> {
                        where.add("AttributeProto.t");
                        t = tensor(m.span("AttributeProto.t"));
                        where.remove(where.size() - 1);
                    }
                    case 7 -> m.reals("AttributeProto.floats", false, floats);
                    case 8 -> m.longs("AttributeProto.ints", ints);
                    default -> m.skip();
                }
            }
            float[] fl = new float[floats.size()];
            for (int k = 0; k < fl.length; k++) fl[k] = floats.get(k).floatValue();
            return new Attribute(name, type, f, i, s, fl, ints.stream().mapToLong(Long::longValue).toArray(), t);
        }

        private Tensor tensor(int[] span) throws OnnxFormatException {
            Msg m = sub(span);
            String name = "";
            int type = 0;
            long location = 0;
            List<Long> dims = new ArrayList<>(), int64 = new ArrayList<>(), int32 = new ArrayList<>();
            List<Double> floatData = new ArrayList<>(), doubleData = new ArrayList<>();
            int[] raw = null;
            while (m.next()) {
                switch (m.field) {
                    case 1 -> m.longs("TensorProto.dims", dims);
                    case 2 -> type = (int) m.varint("TensorProto.data_type");
                    case 4 -> m.reals("TensorProto.float_data", false, floatData);
                    case 5 -> m.longs("TensorProto.int32_data", int32);
                    case 7 -> m.longs("TensorProto.int64_data", int64);
                    case 8 -> name = m.string("TensorProto.name");
                    case 9 -> raw = m.span("TensorProto.raw_data");
                    case 10 -> m.reals("TensorProto.double_data", true, doubleData);
                    case 14 -> location = m.varint("TensorProto.data_location");
                    default -> m.skip();
                }
            }
            where.set(where.size() - 1, where.get(where.size() - 1) + " '" + name + "'");
            long end = span[1];
            if (location != 0) throw error(end, "tensor '" + name + "' keeps its data in an external file; only data inside the model file is supported");
            if (type != FLOAT && type != DOUBLE && type != INT64 && type != BOOL)
                throw error(end, "tensor '" + name + "' has element type " + typeName(type)
                        + "; supported: FLOAT (1) and DOUBLE (11), INT64 (7) for shapes and BOOL (9) for flags");
            long count = 1;
            for (long d : dims) {
                if (d < 0) throw error(end, "tensor '" + name + "' has a negative dimension " + dims);
                count *= d;
                if (count > Integer.MAX_VALUE - 16) throw error(end, "tensor '" + name + "' has dimensions " + dims + ": too many values");
            }
            long[] dimArray = dims.stream().mapToLong(Long::longValue).toArray();
            int n = (int) count;
            if (raw != null) {
                int size = type == BOOL ? 1 : type == FLOAT ? 4 : 8, len = raw[1] - raw[0];
                if (len != (long) n * size)
                    throw error(raw[0], "tensor '" + name + "' (" + typeName(type) + ", dims " + dims + ") needs " + (long) n * size + " bytes of raw_data, has "
                            + len + " (corrupt tensor)");
                ByteBuffer b = ByteBuffer.wrap(bytes, raw[0], len).order(ByteOrder.LITTLE_ENDIAN);
                if (type == INT64 || type == BOOL) {
                    long[] v = new long[n];
                    for (int k = 0; k < n; k++) v[k] = type == BOOL ? bool(b.get(), raw[0] + k, name) : b.getLong();
                    return new Tensor(name, type, dimArray, new double[0], v);
                }
                double[] v = new double[n];
                for (int k = 0; k < n; k++) v[k] = type == FLOAT ? b.getFloat() : b.getDouble();
                return new Tensor(name, type, dimArray, v, new long[0]);
            }
            List<?> data = type == FLOAT ? floatData : type == DOUBLE ? doubleData : type == BOOL ? int32 : int64;
            String field = type == FLOAT ? "float_data" : type == DOUBLE ? "double_data" : type == BOOL ? "int32_data" : "int64_data";
            if (data.size() != n)
                throw error(end, "tensor '" + name + "' (" + typeName(type) + ", dims " + dims + ") needs " + n + " values, has " + data.size() + " in " + field
                        + " and no raw_data (corrupt tensor)");
            if (type == INT64) return new Tensor(name, type, dimArray, new double[0], int64.stream().mapToLong(Long::longValue).toArray());
            if (type == BOOL) {
                long[] v = new long[n];
                for (int k = 0; k < n; k++) v[k] = bool(int32.get(k), end, name);
                return new Tensor(name, type, dimArray, new double[0], v);
            }
            double[] v = new double[n];
            for (int k = 0; k < n; k++) v[k] = (Double) data.get(k);
            return new Tensor(name, type, dimArray, v, new long[0]);
        }

        /** A BOOL element: 0 or 1, anything else refused. */
        private long bool(long value, long offset, String tensor) throws OnnxFormatException {
            if (value != 0 && value != 1) throw error(offset, "tensor '" + tensor + "' (BOOL) holds " + value + "; a BOOL is 0 or 1 (corrupt tensor)");
            return value;
        }

        private ValueInfo valueInfo(int[] span) throws OnnxFormatException {
            Msg m = sub(span);
            String name = "";
            int[] type = null;
            while (m.next()) {
                switch (m.field) {
                    case 1 -> name = m.string("ValueInfoProto.name");
                    case 2 -> type = m.span("ValueInfoProto.type");
                    default -> m.skip();
                }
            }
            int elem = 0;
            List<Long> dims = new ArrayList<>();
            List<String> params = new ArrayList<>();
            if (type != null) {
                Msg t = sub(type);
                while (t.next()) {
                    if (t.field != 1) {
                        t.skip();
                        continue;
                    }
                    Msg tensor = sub(t.span("TypeProto.tensor_type"));
                    while (tensor.next()) {
                        if (tensor.field == 1) elem = (int) tensor.varint("TypeProto.Tensor.elem_type");
                        else if (tensor.field == 2) {
                            Msg shape = sub(tensor.span("TypeProto.Tensor.shape"));
                            while (shape.next()) {
                                if (shape.field != 1) {
                                    shape.skip();
                                    continue;
                                }
                                Msg dim = sub(shape.span("TensorShapeProto.dim"));
                                long value = -1;
                                String param = "";
                                while (dim.next()) {
                                    if (dim.field == 1) value = dim.varint("Dimension.dim_value");
                                    else if (dim.field == 2) param = dim.string("Dimension.dim_param");
                                    else dim.skip();
                                }
                                dims.add(value);
                                params.add(value >= 0 ? "" : param);
                            }
                        } else tensor.skip();
                    }
                }
            }
            return new ValueInfo(name, elem, dims.stream().mapToLong(Long::longValue).toArray(), params);
        }
    }

    @Override
    public String toString() {
        return "OnnxModel[" + path + ", opset " + opset + ", " + nodes.size() + " nodes, initializers " + Arrays.toString(initializers.keySet().toArray()) + "]";
    }
}
