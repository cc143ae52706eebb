package org.adanewton.data;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;

/** Writes small IDX and CIFAR-10 files for the tests. */
final class IdxFiles {
    private IdxFiles() {}

    /** Header (magic + dims, big-endian) followed by data. */
    static byte[] idx(int magic, int[] dims, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + data.length);
        b.putInt(magic);
        for (int d : dims) b.putInt(d);
        b.put(data);
        return b.array();
    }

    /** n images of rows x cols whose pixel k (over the whole file) is (k * 7 + 3) mod 256. */
    static byte[] imagePixels(int n, int rows, int cols) {
        byte[] px = new byte[n * rows * cols];
        for (int k = 0; k < px.length; k++) px[k] = (byte) ((k * 7 + 3) % 256);
        return px;
    }

    static byte[] images(int n, int rows, int cols) {
        return idx(IdxReader.IMAGES_MAGIC, new int[] {n, rows, cols}, imagePixels(n, rows, cols));
    }

    /** n labels i mod 10. */
    static byte[] labels(int n) {
        byte[] l = new byte[n];
        for (int i = 0; i < n; i++) l[i] = (byte) (i % 10);
        return idx(IdxReader.LABELS_MAGIC, new int[] {n}, l);
    }

    static byte[] gzip(byte[] data) throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(bos)) {
            gz.write(data);
        }
        return bos.toByteArray();
    }

    static Path write(Path dir, String name, byte[] data) throws IOException {
        Path p = dir.resolve(name);
        Files.createDirectories(p.getParent());
        Files.write(p, data);
        return p;
    }

    static byte[] truncate(byte[] data, int length) {
        return Arrays.copyOf(data, length);
    }

    /** Writes the four Fashion-MNIST files (gzip) into dir: nTrain and nTest samples of 4x3 pixels. */
    static void writeFashion(Path dir, int nTrain, int nTest) throws IOException {
        write(dir, DataLocator.TRAIN_IMAGES + ".gz", gzip(images(nTrain, 4, 3)));
        write(dir, DataLocator.TRAIN_LABELS + ".gz", gzip(labels(nTrain)));
        write(dir, DataLocator.TEST_IMAGES, images(nTest, 4, 3));
        write(dir, DataLocator.TEST_LABELS, labels(nTest));
    }

    /** CIFAR-10 records: label (r mod 10), then pixel p of record r = (r + p) mod 256. */
    static byte[] cifar(int records) {
        byte[] b = new byte[records * Cifar10Reader.RECORD_BYTES];
        for (int r = 0; r < records; r++) {
            int base = r * Cifar10Reader.RECORD_BYTES;
            b[base] = (byte) (r % 10);
            for (int p = 0; p < Cifar10Reader.IMAGE_BYTES; p++) b[base + 1 + p] = (byte) ((r + p) % 256);
        }
        return b;
    }
}
