package org.adanewton.data;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;

/**
 * Reads MNIST / Fashion-MNIST files in the IDX format, raw or gzip-compressed (recognised by the
 * gzip magic bytes 0x1f 0x8b, whatever the file name): an images file (magic 0x00000803:
 * unsigned bytes, 3 dimensions count x rows x cols) and a labels file (magic 0x00000801:
 * unsigned bytes, 1 dimension count) with labels 0..9. Pixels become floats {@code value / 255}
 * in [0, 1].
 *
 * <p>Every format problem is a {@link DataFormatException} naming the file, the byte offset
 * (in the decompressed stream for gzip input) and what was expected against what was found:
 * wrong magic, wrong dimension count, zero or absurd dimensions, truncated data (bytes expected
 * and found), trailing bytes, a label above 9, or image and label counts that disagree. The
 * header's dimensions are checked against the file length before anything is allocated; when
 * the length is unknown (gzip, streams) the element count is capped at
 * {@link #MAX_UNKNOWN_LENGTH_ELEMENTS} and the data is read in growing chunks, so a corrupt
 * header cannot cause an out-of-memory error.
 *
 * <p>Thread safety: stateless: safe to use from any thread.
 */
public final class IdxReader {
    /** Magic number of an images file: unsigned bytes (0x08), 3 dimensions. */
    public static final int IMAGES_MAGIC = 0x00000803;
    /** Magic number of a labels file: unsigned bytes (0x08), 1 dimension. */
    public static final int LABELS_MAGIC = 0x00000801;
    /** Labels lie in [0, CLASSES). */
    public static final int CLASSES = 10;
    /** Largest element count accepted from input whose length is not known in advance (gzip, streams). */
    public static final long MAX_UNKNOWN_LENGTH_ELEMENTS = 100_000_000L;

    private static final int MAX_ARRAY = Integer.MAX_VALUE - 16;
    private static final float[] PIXEL = new float[256];

    static {
        for (int v = 0; v < 256; v++) PIXEL[v] = v / 255f;
    }

    private IdxReader() {}

    /**
     * The images of an IDX images file: {@code count} images of {@code rows x cols} pixels,
     * row-major, each scaled to [0, 1].
     */
    public record Images(int count, int rows, int cols, float[] pixels) {}

    /**
     * Reads an images file and its labels file into a data set of shape 1 x rows x cols with 10
     * classes, described as e.g. "Fashion-MNIST train (60000 samples, 1x28x28) from DIR".
     *
     * @param name what the data is, e.g. "Fashion-MNIST train"
     */
    public static Dataset read(Path images, Path labels, String name) throws IOException {
        Images im = readImages(images);
        int[] lab = readLabels(labels);
        Path dir = images.toAbsolutePath().getParent();
        String source = dir != null && dir.equals(labels.toAbsolutePath().getParent()) ? dir.toString()
                : images + " and " + labels;
        return dataset(im, images.toString(), lab, labels.toString(), name, source);
    }

    /** Reads an IDX images file (raw or gzip). */
    public static Images readImages(Path file) throws IOException {
        long length = Files.size(file);
        try (InputStream in = Files.newInputStream(file)) {
            return readImages(in, file.toString(), length);
        }
    }

    /** Reads an IDX labels file (raw or gzip); every label is in 0..9. */
    public static int[] readLabels(Path file) throws IOException {
        long length = Files.size(file);
        try (InputStream in = Files.newInputStream(file)) {
            return readLabels(in, file.toString(), length);
        }
    }

    /**
     * Reads an IDX images stream (raw or gzip) named {@code fileName} in messages; the stream is
     * not closed.
     *
     * @param length the stream's length in bytes, or -1 if unknown
     */
    public static Images readImages(InputStream stream, String fileName, long length) throws IOException {
        Input in = Input.open(stream, fileName, length);
        int[] dims = header(in, IMAGES_MAGIC, new String[] {"image count", "rows", "columns"});
        long total = checkSize(in, dims, 16);
        requireHeap(fileName, 5 * total, dims[0] + " images of " + dims[1] + "x" + dims[2] + " pixels (" + total + " bytes, read as floats)");
        byte[] data = in.readExactly((int) total, "pixel data of " + dims[0] + "x" + dims[1] + "x" + dims[2] + " images");
        in.expectEnd();
        float[] pixels = new float[data.length];
        for (int i = 0; i < data.length; i++) pixels[i] = PIXEL[data[i] & 0xff];
        return new Images(dims[0], dims[1], dims[2], pixels);
    }

    /** What an I/O or zip failure says, without the exception's class name. */
    private static String reason(IOException e) {
        return e.getMessage() != null ? e.getMessage() : "an I/O error";
    }

    /** Refuses, with the size and -Xmx advice, a file whose contents would not fit in the heap. */
    private static void requireHeap(String fileName, long bytes, String what) throws DataFormatException {
        String shortfall = HeapBudget.shortfall(bytes);
        if (shortfall != null) throw new DataFormatException(fileName, -1, "reading " + what + " " + shortfall);
    }

    /**
     * Reads an IDX labels stream (raw or gzip) named {@code fileName} in messages; the stream is
     * not closed.
     *
     * @param length the stream's length in bytes, or -1 if unknown
     */
    public static int[] readLabels(InputStream stream, String fileName, long length) throws IOException {
        Input in = Input.open(stream, fileName, length);
        int[] dims = header(in, LABELS_MAGIC, new String[] {"label count"});
        long total = checkSize(in, dims, 8);
        requireHeap(fileName, 5 * total, dims[0] + " labels");
        byte[] data = in.readExactly((int) total, dims[0] + " labels");
        in.expectEnd();
        int[] labels = new int[data.length];
        for (int i = 0; i < data.length; i++) {
            int v = data[i] & 0xff;
            if (v >= CLASSES)
                throw new DataFormatException(fileName, 8L + i, "label at index " + i + " is " + v + "; expected 0.."
                        + (CLASSES - 1));
            labels[i] = v;
        }
        return labels;
    }

    /**
     * Pairs images with labels into a data set (1 x rows x cols, 10 classes).
     *
     * @throws DataFormatException if the counts differ (reported against the labels file's count field)
     */
    public static Dataset dataset(Images images, String imagesFile, int[] labels, String labelsFile, String name,
            String source) throws DataFormatException {
        if (images.count() != labels.length)
            throw new DataFormatException(labelsFile, 4, "image/label count mismatch: this labels file has "
                    + labels.length + " labels but the images file " + imagesFile + " has " + images.count() + " images");
        return new Dataset(name, source, images.pixels(), 1, images.rows(), images.cols(), labels, CLASSES, null);
    }

    /** Reads and checks the magic number and the dimensions; returns the dimensions. */
    private static int[] header(Input in, int magic, String[] dimNames) throws IOException {
        int ndims = dimNames.length;
        byte[] m = in.readUpTo(4);
        if (m.length < 4)
            throw new DataFormatException(in.name, 0, "truncated header: expected " + (4 + 4 * ndims)
                    + " header bytes (magic 0x" + hex(magic) + " and " + ndims + " dimension(s)), found " + m.length);
        int found = be(m, 0);
        if ((found >>> 8) != (magic >>> 8)) {
            String hint = "";
            if (m[0] == 0 && m[1] == 0 && m[2] != 0x08)
                hint = " (IDX element type 0x" + String.format("%02x", m[2] & 0xff) + ", only 0x08 unsigned byte is supported)";
            throw new DataFormatException(in.name, 0, "wrong magic number: expected 0x" + hex(magic)
                    + " (IDX, unsigned bytes, " + ndims + " dimension(s)), found 0x" + hex(found) + hint);
        }
        if (found != magic) {
            int n = found & 0xff;
            String hint = n == 1 ? " (is this a labels file?)" : n == 3 ? " (is this an images file?)" : "";
            throw new DataFormatException(in.name, 3, "wrong dimension count in magic number 0x" + hex(found)
                    + ": expected " + ndims + " (magic 0x" + hex(magic) + "), found " + n + hint);
        }
        byte[] d = in.readUpTo(4 * ndims);
        if (d.length < 4 * ndims)
            throw new DataFormatException(in.name, 4 + d.length, "truncated header: expected " + (4 + 4 * ndims)
                    + " header bytes (magic and " + ndims + " dimension(s)), found " + (4 + d.length));
        int[] dims = new int[ndims];
        for (int k = 0; k < ndims; k++) {
            long v = Integer.toUnsignedLong(be(d, 4 * k));
            if (v < 1 || v > MAX_ARRAY)
                throw new DataFormatException(in.name, 4 + 4L * k, "dimension " + k + " (" + dimNames[k] + ") is " + v
                        + "; expected 1.." + MAX_ARRAY);
            dims[k] = (int) v;
        }
        return dims;
    }

    /**
     * Checks the data size implied by the dimensions against the known length (truncation,
     * trailing bytes) or, for unknown lengths, against the cap; returns the element count.
     */
    private static long checkSize(Input in, int[] dims, int headerBytes) throws DataFormatException {
        long total = 1;
        StringBuilder shape = new StringBuilder();
        for (int d : dims) {
            total = total > Long.MAX_VALUE / d ? Long.MAX_VALUE : total * d; // saturates instead of overflowing
            shape.append(shape.length() == 0 ? "" : "x").append(d);
        }
        String expected = headerBytes + " + " + shape + " = ";
        if (in.length >= 0) {
            long want = total > Long.MAX_VALUE - headerBytes ? Long.MAX_VALUE : headerBytes + total;
            if (in.length < want)
                throw new DataFormatException(in.name, in.length, "truncated: the header's dimensions " + shape
                        + " need " + expected + want + " bytes, but the file has only " + in.length + " bytes ("
                        + (want - in.length) + " missing)");
            if (in.length > want)
                throw new DataFormatException(in.name, want, (in.length - want) + " trailing bytes: expected " + expected
                        + want + " bytes, found " + in.length);
        }
        if (total > MAX_ARRAY)
            throw new DataFormatException(in.name, 4, "absurd dimensions " + shape + ": " + total
                    + " elements exceed the largest Java array (" + MAX_ARRAY + ")");
        if (in.length < 0 && total > MAX_UNKNOWN_LENGTH_ELEMENTS)
            throw new DataFormatException(in.name, 4, "absurd dimensions " + shape + ": " + total + " elements exceed"
                    + " the limit of " + MAX_UNKNOWN_LENGTH_ELEMENTS + " for input of unknown length"
                    + (in.gzip ? " (gzip)" : ""));
        return total;
    }

    private static int be(byte[] b, int off) {
        return (b[off] & 0xff) << 24 | (b[off + 1] & 0xff) << 16 | (b[off + 2] & 0xff) << 8 | (b[off + 3] & 0xff);
    }

    private static String hex(int v) {
        return String.format("%08x", v);
    }

    /** A possibly decompressed input that counts its position and turns stream failures into format errors. */
    private static final class Input {
        final InputStream in;
        final String name;
        /** Length of the (decompressed) content, or -1 if unknown. */
        final long length;
        final boolean gzip;
        long pos;

        private Input(InputStream in, String name, long length, boolean gzip) {
            this.in = in;
            this.name = name;
            this.length = length;
            this.gzip = gzip;
        }

        static Input open(InputStream raw, String name, long length) throws IOException {
            BufferedInputStream b = new BufferedInputStream(raw, 1 << 16);
            b.mark(2);
            int b0 = b.read(), b1 = b.read();
            b.reset();
            if (b0 == 0x1f && b1 == 0x8b) {
                try {
                    return new Input(new GZIPInputStream(b, 1 << 16), name, -1, true);
                } catch (IOException e) {
                    throw new DataFormatException(name, 0, "gzip magic 0x1f8b found but the gzip header is corrupt or"
                            + " truncated (" + reason(e) + ")", e);
                }
            }
            return new Input(b, name, length, false);
        }

        private int read(byte[] buf, int off, int len) throws IOException {
            try {
                int r = in.read(buf, off, len);
                if (r > 0) pos += r;
                return r;
            } catch (IOException e) {
                if (!gzip) throw e;
                throw new DataFormatException(name, pos, "corrupt or truncated gzip stream after " + pos
                        + " decompressed bytes (" + reason(e) + ")", e);
            }
        }

        /** Up to n bytes: fewer only at the end of the input. Grows its buffer as data arrives. */
        byte[] readUpTo(int n) throws IOException {
            byte[] buf = new byte[Math.min(n, 1 << 20)];
            int have = 0;
            while (have < n) {
                if (have == buf.length) buf = Arrays.copyOf(buf, (int) Math.min(n, 2L * buf.length));
                int r = read(buf, have, buf.length - have);
                if (r < 0) break;
                have += r;
            }
            return have == buf.length ? buf : Arrays.copyOf(buf, have);
        }

        /** Exactly n bytes, else a truncation error saying how many were expected and found. */
        byte[] readExactly(int n, String what) throws IOException {
            long start = pos;
            byte[] b = readUpTo(n);
            if (b.length < n)
                throw new DataFormatException(name, pos, "truncated" + (gzip ? " (decompressed)" : "") + " data: expected "
                        + n + " bytes of " + what + " from offset " + start + " (" + (start + n) + " bytes in all), found "
                        + b.length + " (" + pos + " bytes in all)");
            return b;
        }

        /** Fails on any byte after the expected end (counted when the length is unknown). */
        void expectEnd() throws IOException {
            if (length >= 0) return; // checked against the known length up front
            long end = pos;
            byte[] buf = new byte[1 << 16];
            long extra = 0;
            int r;
            while (extra < (1L << 30) && (r = read(buf, 0, buf.length)) >= 0) extra += r;
            if (extra > 0)
                throw new DataFormatException(name, end, (extra >= (1L << 30) ? "at least " : "") + extra
                        + " trailing bytes: the header's dimensions end the data at offset " + end + ", found "
                        + (end + extra) + (gzip ? " decompressed" : "") + " bytes");
        }
    }
}
