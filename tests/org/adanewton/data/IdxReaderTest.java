package org.adanewton.data;

import static org.adanewton.data.IdxFiles.*;
import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** IDX reading: round trips (raw and gzip) and every format error with its message. */
class IdxReaderTest {
    /** Pixels are computed as v / 255f; allow one float ulp near 1 for any other rounding. */
    static final float PIXEL_ATOL = 1e-7f;

    @TempDir
    Path dir;

    private static void assertMessage(Exception e, String... parts) {
        for (String p : parts)
            assertTrue(e.getMessage().contains(p), "message should contain '" + p + "': " + e.getMessage());
    }

    @ParameterizedTest(name = "gzip = {0}")
    @ValueSource(booleans = {false, true})
    void roundTripScalesPixelsAndKeepsDims(boolean gz) throws Exception {
        int n = 7, rows = 5, cols = 3;
        byte[] im = images(n, rows, cols), lab = labels(n);
        // gzip is recognised by its magic, not the name: the gzip files get no .gz suffix, the raw ones do
        Path images = write(dir, gz ? "imgs" : "imgs.gz", gz ? gzip(im) : im);
        Path labels = write(dir, gz ? "labs" : "labs.gz", gz ? gzip(lab) : lab);
        Dataset d = IdxReader.read(images, labels, "Test set");
        assertEquals(n, d.size());
        assertEquals(1, d.channels());
        assertEquals(rows, d.height());
        assertEquals(cols, d.width());
        assertEquals(rows * cols, d.inputDim());
        assertEquals(10, d.classes());
        assertNull(d.targets());
        byte[] px = imagePixels(n, rows, cols);
        for (int k = 0; k < px.length; k++) {
            float v = d.inputs()[k];
            assertEquals((px[k] & 0xff) / 255.0, v, PIXEL_ATOL, "pixel " + k);
            assertTrue(v >= 0f && v <= 1f);
        }
        for (int i = 0; i < n; i++) assertEquals(i % 10, d.labels()[i]);
        assertEquals("Test set (7 samples, 1x5x3) from " + dir.toAbsolutePath(), d.description());
    }

    @Test
    void extremePixelValuesMapToZeroAndOne() throws Exception {
        byte[] px = {0, (byte) 255, (byte) 128, 1};
        Path images = write(dir, "i", idx(IdxReader.IMAGES_MAGIC, new int[] {1, 2, 2}, px));
        IdxReader.Images im = IdxReader.readImages(images);
        assertEquals(0f, im.pixels()[0], PIXEL_ATOL);
        assertEquals(1f, im.pixels()[1], PIXEL_ATOL);
        assertEquals(128 / 255.0, im.pixels()[2], PIXEL_ATOL);
        assertEquals(1 / 255.0, im.pixels()[3], PIXEL_ATOL);
    }

    @Test
    void truncatedImagesFileSaysExpectedAndFoundBytes() throws Exception {
        byte[] im = images(4, 5, 3); // 16 + 60 = 76 bytes
        Path p = write(dir, "train-images", truncate(im, 70));
        DataFormatException e = assertThrows(DataFormatException.class, () -> IdxReader.readImages(p));
        assertMessage(e, p.toString(), "truncated", "76 bytes", "70 bytes", "4x5x3");
        assertEquals(p.toString(), e.file());
        assertEquals(70, e.offset());
    }

    @Test
    void truncatedGzipImagesSaysExpectedAndFoundBytes() throws Exception {
        Path p = write(dir, "train-images.gz", gzip(truncate(images(4, 5, 3), 70)));
        DataFormatException e = assertThrows(DataFormatException.class, () -> IdxReader.readImages(p));
        assertMessage(e, p.toString(), "truncated", "expected 60 bytes", "found 54", "76 bytes in all", "70 bytes in all");
    }

    @Test
    void cutGzipStreamIsAFormatError() throws Exception {
        byte[] gz = gzip(images(40, 10, 10));
        Path p = write(dir, "cut.gz", truncate(gz, gz.length / 2));
        DataFormatException e = assertThrows(DataFormatException.class, () -> IdxReader.readImages(p));
        assertMessage(e, p.toString(), "gzip");
    }

    @Test
    void wrongMagicNamesOffsetZeroAndExpectedMagic() throws Exception {
        Path p = write(dir, "bad", idx(0x12345678, new int[] {1, 1, 1}, new byte[1]));
        DataFormatException e = assertThrows(DataFormatException.class, () -> IdxReader.readImages(p));
        assertMessage(e, p.toString(), "at byte offset 0", "expected 0x00000803", "found 0x12345678");
        assertEquals(0, e.offset());
        Path q = write(dir, "badlabels", idx(0x12345678, new int[] {1}, new byte[1]));
        e = assertThrows(DataFormatException.class, () -> IdxReader.readLabels(q));
        assertMessage(e, q.toString(), "at byte offset 0", "expected 0x00000801");
    }

    @Test
    void otherIdxElementTypeIsNamed() throws Exception {
        Path p = write(dir, "floats", idx(0x00000D03, new int[] {1, 1, 1}, new byte[4]));
        DataFormatException e = assertThrows(DataFormatException.class, () -> IdxReader.readImages(p));
        assertMessage(e, "offset 0", "expected 0x00000803", "element type 0x0d");
    }

    @Test
    void labelsFileGivenAsImagesIsAWrongDimensionCount() throws Exception {
        Path p = write(dir, "labels-not-images", labels(5));
        DataFormatException e = assertThrows(DataFormatException.class, () -> IdxReader.readImages(p));
        assertMessage(e, p.toString(), "dimension count", "expected 3", "found 1", "labels file");
        Path q = write(dir, "images-not-labels", images(1, 2, 2));
        e = assertThrows(DataFormatException.class, () -> IdxReader.readLabels(q));
        assertMessage(e, q.toString(), "dimension count", "expected 1", "found 3");
    }

    @Test
    void zeroDimensionIsRejectedWithItsOffset() throws Exception {
        Path p = write(dir, "zero", idx(IdxReader.IMAGES_MAGIC, new int[] {3, 0, 28}, new byte[0]));
        DataFormatException e = assertThrows(DataFormatException.class, () -> IdxReader.readImages(p));
        assertMessage(e, "offset 8", "dimension 1 (rows) is 0");
    }

    @Test
    void absurdDimensionsDoNotAllocate() throws Exception {
        int[] dims = {1_000_000, 28, 28}; // 784 million pixels: a valid array size, over the gzip cap
        // raw: checked against the file length
        Path raw = write(dir, "huge", idx(IdxReader.IMAGES_MAGIC, dims, new byte[100]));
        DataFormatException e = assertThrows(DataFormatException.class, () -> IdxReader.readImages(raw));
        assertMessage(e, raw.toString(), "truncated", "116 bytes");
        // gzip: the length is unknown, the element count is capped
        Path gz = write(dir, "huge.gz", gzip(idx(IdxReader.IMAGES_MAGIC, dims, new byte[100])));
        e = assertThrows(DataFormatException.class, () -> IdxReader.readImages(gz));
        assertMessage(e, gz.toString(), "absurd dimensions", "limit of " + IdxReader.MAX_UNKNOWN_LENGTH_ELEMENTS);
        // unsigned 0xffffffff
        Path neg = write(dir, "neg", idx(IdxReader.LABELS_MAGIC, new int[] {-1}, new byte[3]));
        e = assertThrows(DataFormatException.class, () -> IdxReader.readLabels(neg));
        assertMessage(e, "offset 4", "4294967295");
    }

    @Test
    void gzipJustUnderTheCapIsReadCarefully() throws Exception {
        // a header claiming 90M pixels in a tiny gzip file: truncation, without allocating 90 MB up front
        Path gz = write(dir, "claims.gz", gzip(idx(IdxReader.IMAGES_MAGIC, new int[] {90_000, 1000, 1}, new byte[10])));
        DataFormatException e = assertThrows(DataFormatException.class, () -> IdxReader.readImages(gz));
        assertMessage(e, "truncated", "expected 90000000 bytes", "found 10");
    }

    @Test
    void truncatedHeader() throws Exception {
        Path p = write(dir, "short", truncate(images(1, 2, 2), 9));
        DataFormatException e = assertThrows(DataFormatException.class, () -> IdxReader.readImages(p));
        assertMessage(e, p.toString(), "truncated header", "expected 16", "found 9");
        Path q = write(dir, "tiny", new byte[] {0, 0});
        e = assertThrows(DataFormatException.class, () -> IdxReader.readLabels(q));
        assertMessage(e, "truncated header", "found 2");
    }

    @Test
    void labelOutOfRangeNamesIndexAndValue() throws Exception {
        byte[] lab = labels(6);
        lab[8 + 4] = 12;
        Path p = write(dir, "labels", lab);
        DataFormatException e = assertThrows(DataFormatException.class, () -> IdxReader.readLabels(p));
        assertMessage(e, p.toString(), "offset 12", "label at index 4 is 12", "expected 0..9");
        Path gz = write(dir, "labels.gz", gzip(lab));
        e = assertThrows(DataFormatException.class, () -> IdxReader.readLabels(gz));
        assertMessage(e, "label at index 4 is 12");
    }

    @Test
    void countMismatchNamesBothFiles() throws Exception {
        Path images = write(dir, "images", images(5, 2, 2));
        Path labels = write(dir, "labels", labels(6));
        DataFormatException e = assertThrows(DataFormatException.class, () -> IdxReader.read(images, labels, "x"));
        assertMessage(e, labels.toString(), images.toString(), "6 labels", "5 images", "mismatch");
    }

    @Test
    void trailingBytesAreRejected() throws Exception {
        byte[] im = images(2, 2, 2); // 24 bytes
        byte[] longer = java.util.Arrays.copyOf(im, im.length + 3);
        Path raw = write(dir, "raw", longer);
        DataFormatException e = assertThrows(DataFormatException.class, () -> IdxReader.readImages(raw));
        assertMessage(e, raw.toString(), "3 trailing bytes", "expected 16 + 2x2x2 = 24 bytes", "found 27");
        assertEquals(24, e.offset());
        Path gz = write(dir, "gz", gzip(longer));
        e = assertThrows(DataFormatException.class, () -> IdxReader.readImages(gz));
        assertMessage(e, gz.toString(), "3 trailing bytes", "offset 24", "found 27");
        Path lab = write(dir, "lab.gz", gzip(java.util.Arrays.copyOf(labels(3), 12)));
        e = assertThrows(DataFormatException.class, () -> IdxReader.readLabels(lab));
        assertMessage(e, "1 trailing bytes");
    }

    @Test
    void streamOfUnknownLengthIsReadLikeGzip() throws Exception {
        byte[] im = images(3, 2, 2);
        IdxReader.Images read = IdxReader.readImages(new ByteArrayInputStream(im), "stream", -1);
        assertEquals(3, read.count());
        assertEquals(12, read.pixels().length);
        byte[] cut = truncate(im, 20);
        DataFormatException e = assertThrows(DataFormatException.class,
                () -> IdxReader.readImages(new ByteArrayInputStream(cut), "stream", -1));
        assertMessage(e, "stream", "truncated", "found 4");
    }

    @Test
    void missingFileIsAnIOException() {
        Path p = dir.resolve("nope");
        java.io.IOException e = assertThrows(java.io.IOException.class, () -> IdxReader.readImages(p));
        assertTrue(e.getMessage().contains(p.toString()));
    }
}
