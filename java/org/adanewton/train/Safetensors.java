package org.adanewton.train;

import com.google.gson.Gson;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.adanewton.data.HeapBudget;

/**
 * The safetensors format (readable by Python's safetensors / PyTorch): an 8-byte little-endian
 * header length, a JSON header {name: {dtype, shape, data_offsets}, "__metadata__": {...}}, then the
 * raw little-endian tensor bytes. F32 and F64 tensors are supported, and I64 (the int64 of a
 * batch norm's num_batches_tracked; its values held as doubles, integers of at most 2^53).
 *
 * <p>Thread safety: stateless: safe to use from any thread.
 */
public final class Safetensors {

    /** One tensor: F32, F64 or I64 values (as doubles), its shape. */
    public record Tensor(String dtype, long[] shape, double[] values) {
        public Tensor {
            if (!dtype.equals("F32") && !dtype.equals("F64") && !dtype.equals("I64"))
                throw new IllegalArgumentException("dtype = " + dtype + "; must be F32, F64 or I64");
            long n = 1;
            for (long d : shape) n *= d;
            if (n != values.length) throw new IllegalArgumentException("shape holds " + n + " values but " + values.length + " were given");
            if (dtype.equals("I64"))
                for (double v : values)
                    if (v != Math.rint(v) || Math.abs(v) > MAX_EXACT_LONG)
                        throw new IllegalArgumentException("an I64 tensor holds " + v + "; its values must be integers of at most 2^53 in magnitude");
        }

        /** True for F32 and F64. */
        public boolean isFloat() {
            return !dtype.equals("I64");
        }
    }

    /** The largest integer magnitude an I64 value may have here (doubles hold it exactly). */
    static final double MAX_EXACT_LONG = 9007199254740992.0;

    private static int bytes(String dtype) {
        return dtype.equals("F32") ? 4 : 8;
    }

    /** Tensors in file order plus the string metadata. */
    public record Contents(Map<String, Tensor> tensors, Map<String, String> metadata) {}

    private static final long MAX_HEADER = 100L << 20;

    private Safetensors() {}

    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        JsonObject header = new JsonObject();
        if (!metadata.isEmpty()) {
            JsonObject meta = new JsonObject();
            metadata.forEach(meta::addProperty);
            header.add("__metadata__", meta);
        }
        long offset = 0;
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            Tensor t = e.getValue();
            long bytes = (long) t.values().length * bytes(t.dtype());
            JsonObject o = new JsonObject();
            o.addProperty("dtype", t.dtype());
            o.add("shape", new Gson().toJsonTree(t.shape()));
            o.add("data_offsets", new Gson().toJsonTree(new long[] {offset, offset + bytes}));
            header.add(e.getKey(), o);
            offset += bytes;
        }
        byte[] json = header.toString().getBytes(StandardCharsets.UTF_8);
        int pad = (8 - json.length % 8) % 8; // the format allows trailing spaces; aligns the data
        ByteBuffer buf = ByteBuffer.allocate((int) (8 + json.length + pad + offset)).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(json.length + pad).put(json);
        for (int i = 0; i < pad; i++) buf.put((byte) ' ');
        for (Tensor t : tensors.values()) {
            switch (t.dtype()) {
                case "F32" -> { for (double v : t.values()) buf.putFloat((float) v); }
                case "F64" -> { for (double v : t.values()) buf.putDouble(v); }
                default -> { for (double v : t.values()) buf.putLong((long) v); }
            }
        }
        Files.write(file, buf.array());
    }

    /** Deepest JSON nesting a header may have (a tensor entry needs 3). */
    static final int MAX_DEPTH = 16;

    /**
     * Reads a file, validating everything before trusting it: the header length against the file,
     * the header as UTF-8 JSON of bounded depth, each entry's fields, and the tensors' data_offsets,
     * which must tile the data exactly (contiguous, no overlap, no gap, nothing after the last). Errors
     * name the file, the tensor and the offsets.
     */
    public static Contents read(Path file) throws IOException {
        long size = Files.size(file);
        String shortfall = HeapBudget.shortfall(3 * size); // the bytes, then the values as doubles (F32: 2x the bytes)
        if (shortfall != null) throw new IOException(file + ": reading this " + HeapBudget.size(size) + " file " + shortfall);
        byte[] all = Files.readAllBytes(file);
        if (all.length < 8) throw new IOException(file + ": " + all.length + " bytes; a safetensors file has at least 8 (the header length)");
        ByteBuffer buf = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        long headerLength = buf.getLong();
        if (headerLength < 2 || headerLength > MAX_HEADER || 8 + headerLength > all.length)
            throw new IOException(file + ": header length " + headerLength + " does not fit the file's " + all.length + " bytes");
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(all, 8, (int) headerLength)).toString();
        } catch (CharacterCodingException e) {
            throw new IOException(file + ": the header (bytes 8 to " + (8 + headerLength) + ") is not UTF-8 text");
        }
        int depth = depth(text);
        if (depth > MAX_DEPTH) throw new IOException(file + ": the header nests " + depth + " levels deep; a safetensors header needs 3");
        JsonObject header;
        try {
            JsonElement parsed = JsonParser.parseString(text.trim());
            header = parsed.getAsJsonObject();
        } catch (JsonParseException | IllegalStateException e) {
            throw new IOException(file + ": the header (" + headerLength + " bytes, as its length field says) is not one JSON object"
                    + Checkpoint.position(String.valueOf(e.getMessage())) + "; a corrupt header, or a wrong header length");
        }
        long dataStart = 8 + headerLength, dataLength = all.length - dataStart;
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        TreeMap<Long, String> starts = new TreeMap<>();
        Map<String, Long> ends = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> e : header.entrySet()) {
            String name = e.getKey();
            if (name.equals("__metadata__")) {
                if (!e.getValue().isJsonObject()) throw new IOException(file + ": __metadata__ is not a JSON object");
                for (Map.Entry<String, JsonElement> m : e.getValue().getAsJsonObject().entrySet()) {
                    if (!m.getValue().isJsonPrimitive() || !m.getValue().getAsJsonPrimitive().isString())
                        throw new IOException(file + ": __metadata__ field '" + m.getKey() + "' is not a string");
                    metadata.put(m.getKey(), m.getValue().getAsString());
                }
                continue;
            }
            try {
                JsonObject o = e.getValue().getAsJsonObject();
                if (!o.keySet().equals(Set.of("dtype", "shape", "data_offsets")))
                    throw new IOException(file + ": tensor '" + name + "' has the fields " + o.keySet() + "; a tensor has exactly dtype, shape and data_offsets");
                String dtype = o.get("dtype").getAsString();
                if (!dtype.equals("F32") && !dtype.equals("F64") && !dtype.equals("I64"))
                    throw new IOException(file + ": tensor '" + name + "' has dtype " + dtype + "; only F32 and F64 are supported (and I64, "
                            + "as a batch norm's num_batches_tracked)");
                int bytes = bytes(dtype);
                List<Long> shape = new ArrayList<>();
                long count = 1;
                for (JsonElement d : o.getAsJsonArray("shape")) {
                    long v = d.getAsLong();
                    if (v < 0 || v > Integer.MAX_VALUE) throw new IOException(file + ": tensor '" + name + "' has a dimension " + v + " out of range");
                    shape.add(v);
                    count *= v;
                    if (count > Integer.MAX_VALUE - 8) throw new IOException(file + ": tensor '" + name + "' has more values than a Java array holds");
                }
                if (o.getAsJsonArray("data_offsets").size() != 2)
                    throw new IOException(file + ": tensor '" + name + "' has data_offsets " + o.get("data_offsets") + "; it must be [begin, end]");
                long begin = o.getAsJsonArray("data_offsets").get(0).getAsLong(), end = o.getAsJsonArray("data_offsets").get(1).getAsLong();
                if (begin < 0 || end < begin || end > dataLength || end - begin != count * bytes)
                    throw new IOException(file + ": tensor '" + name + "' has data_offsets [" + begin + ", " + end + "] that do not match its "
                            + count + " " + dtype + " values within " + dataLength + " data bytes (truncated or corrupt file)");
                if (end > begin) { // an empty tensor occupies no bytes
                    String other = starts.put(begin, name);
                    if (other != null) throw new IOException(file + ": tensors '" + other + "' and '" + name + "' both start at data offset " + begin);
                    ends.put(name, end);
                }
                double[] values = new double[(int) count];
                ByteBuffer data = ByteBuffer.wrap(all, (int) (dataStart + begin), (int) (end - begin)).order(ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i < values.length; i++) {
                    values[i] = switch (dtype) {
                        case "F32" -> data.getFloat();
                        case "F64" -> data.getDouble();
                        default -> {
                            long v = data.getLong();
                            if (Math.abs((double) v) > MAX_EXACT_LONG)
                                throw new IOException(file + ": tensor '" + name + "' (I64) holds " + v + " at index " + i + "; at most 2^53 in magnitude is read");
                            yield v;
                        }
                    };
                }
                tensors.put(name, new Tensor(dtype, shape.stream().mapToLong(Long::longValue).toArray(), values));
            } catch (IllegalStateException | NullPointerException | UnsupportedOperationException | IndexOutOfBoundsException
                    | NumberFormatException ex) {
                throw new IOException(file + ": tensor '" + name + "' has a malformed header entry (a field missing, or of the wrong JSON type)");
            }
        }
        // the tensors tile the data: each starts where the one before ended, the last ends at the file's end
        long at = 0;
        for (Map.Entry<Long, String> e : starts.entrySet()) {
            if (e.getKey() != at)
                throw new IOException(file + ": tensor '" + e.getValue() + "' starts at data offset " + e.getKey() + ", not at " + at + " where the "
                        + "previous tensor ended (overlapping or misplaced data_offsets, or a wrong header length)");
            at = ends.get(e.getValue());
        }
        if (at != dataLength)
            throw new IOException(file + ": the tensors end at data offset " + at + " but the file holds " + dataLength + " data bytes "
                    + "(a wrong header length, or bytes appended)");
        return new Contents(tensors, metadata);
    }

    /** The deepest nesting of braces and brackets outside JSON strings. */
    private static int depth(String json) {
        int depth = 0, max = 0;
        boolean inString = false;
        for (int i = 0; i < json.length(); i++) {
            char c = json.charAt(i);
            if (inString) {
                if (c == '\\') i++;
                else if (c == '"') inString = false;
            } else if (c == '"') inString = true;
            else if (c == '{' || c == '[') max = Math.max(max, ++depth);
            else if (c == '}' || c == ']') depth--;
        }
        return max;
    }
}
