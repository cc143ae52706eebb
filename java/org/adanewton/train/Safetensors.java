package org.adanewton.train;

import com.google.gson.Gson;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The safetensors format (readable by Python's safetensors / PyTorch): an 8-byte little-endian
 * header length, a JSON header {name: {dtype, shape, data_offsets}, "__metadata__": {...}}, then the
 * raw little-endian tensor bytes. F32 and F64 tensors are supported.
 */
public final class Safetensors {

    /** One tensor: F32 or F64 values (as doubles), its shape. */
    public record Tensor(String dtype, long[] shape, double[] values) {
        public Tensor {
            if (!dtype.equals("F32") && !dtype.equals("F64")) throw new IllegalArgumentException("dtype = " + dtype + "; must be F32 or F64");
            long n = 1;
            for (long d : shape) n *= d;
            if (n != values.length) throw new IllegalArgumentException("shape holds " + n + " values but " + values.length + " were given");
        }
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
            long bytes = (long) t.values().length * (t.dtype().equals("F32") ? 4 : 8);
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
            if (t.dtype().equals("F32")) for (double v : t.values()) buf.putFloat((float) v);
            else for (double v : t.values()) buf.putDouble(v);
        }
        Files.write(file, buf.array());
    }

    /** Reads a file, validating the header against the file length; errors name the file and the problem. */
    public static Contents read(Path file) throws IOException {
        byte[] all = Files.readAllBytes(file);
        if (all.length < 8) throw new IOException(file + ": " + all.length + " bytes; a safetensors file has at least 8 (the header length)");
        ByteBuffer buf = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        long headerLength = buf.getLong();
        if (headerLength < 2 || headerLength > MAX_HEADER || 8 + headerLength > all.length)
            throw new IOException(file + ": header length " + headerLength + " does not fit the file's " + all.length + " bytes");
        JsonObject header;
        try {
            JsonElement parsed = JsonParser.parseString(new String(all, 8, (int) headerLength, StandardCharsets.UTF_8).trim());
            header = parsed.getAsJsonObject();
        } catch (JsonParseException | IllegalStateException e) {
            throw new IOException(file + ": the header is not a JSON object (" + e.getMessage() + ")");
        }
        long dataStart = 8 + headerLength, dataLength = all.length - dataStart;
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> e : header.entrySet()) {
            if (e.getKey().equals("__metadata__")) {
                for (Map.Entry<String, JsonElement> m : e.getValue().getAsJsonObject().entrySet()) metadata.put(m.getKey(), m.getValue().getAsString());
                continue;
            }
            try {
                JsonObject o = e.getValue().getAsJsonObject();
                String dtype = o.get("dtype").getAsString();
                int size = switch (dtype) {
                    case "F32" -> 4;
                    case "F64" -> 8;
                    default -> throw new IOException(file + ": tensor '" + e.getKey() + "' has dtype " + dtype + "; only F32 and F64 are supported");
                };
                List<Long> shape = new ArrayList<>();
                long count = 1;
                for (JsonElement d : o.getAsJsonArray("shape")) {
                    long v = d.getAsLong();
                    if (v < 0) throw new IOException(file + ": tensor '" + e.getKey() + "' has a negative dimension " + v);
                    shape.add(v);
                    count *= v;
                }
                long begin = o.getAsJsonArray("data_offsets").get(0).getAsLong(), end = o.getAsJsonArray("data_offsets").get(1).getAsLong();
                if (begin < 0 || end < begin || end > dataLength || end - begin != count * size)
                    throw new IOException(file + ": tensor '" + e.getKey() + "' has data_offsets [" + begin + ", " + end + "] that do not match its "
                            + count + " " + dtype + " values within " + dataLength + " data bytes (truncated or corrupt file)");
                double[] values = new double[(int) count];
                ByteBuffer data = ByteBuffer.wrap(all, (int) (dataStart + begin), (int) (end - begin)).order(ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i < values.length; i++) values[i] = size == 4 ? data.getFloat() : data.getDouble();
                tensors.put(e.getKey(), new Tensor(dtype, shape.stream().mapToLong(Long::longValue).toArray(), values));
            } catch (IllegalStateException | NullPointerException | UnsupportedOperationException | IndexOutOfBoundsException ex) {
                throw new IOException(file + ": tensor '" + e.getKey() + "' has a malformed header entry (" + ex + ")");
            }
        }
        return new Contents(tensors, metadata);
    }
}
