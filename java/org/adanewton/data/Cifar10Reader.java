package org.adanewton.data;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Reads the binary version of CIFAR-10 ({@code cifar-10-binary.tar.gz}, extracted:
 * {@code data_batch_1.bin .. data_batch_5.bin}, {@code test_batch.bin}). Each file is a
 * sequence of 3073-byte records: one label byte (0..9) then 3072 pixel bytes, the 32x32 red
 * plane, then green, then blue. The planes are kept in that order, so a sample is 3x32x32 in
 * NCHW layout.
 *
 * <p>With {@code scale = false} the pixels are the raw values 0..255 as floats (the paper's code
 * does not rescale CIFAR-10); with {@code scale = true} they are divided by 255.
 *
 * <p>Every file's length must be a positive multiple of 3073 and every label at most 9; a
 * violation is a {@link DataFormatException} naming the file (and, for a label, the record
 * index and byte offset). Missing files are all named in one {@link NoSuchFileException}.
 *
 * <p>Thread safety: stateless: safe to use from any thread.
 */
public final class Cifar10Reader {
    /** Pixel bytes per image: 3 planes of 32x32. */
    public static final int IMAGE_BYTES = 3 * 32 * 32;
    /** Bytes per record: one label byte, then the image. */
    public static final int RECORD_BYTES = 1 + IMAGE_BYTES;
    public static final int CLASSES = 10;
    /** The training batches, 10,000 records each. */
    public static final List<String> TRAIN_FILES = List.of("data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
            "data_batch_4.bin", "data_batch_5.bin");
    /** The test batch, 10,000 records. */
    public static final String TEST_FILE = "test_batch.bin";

    private static final int MAX_RECORDS = (Integer.MAX_VALUE - 16) / IMAGE_BYTES;
    private static final int CHUNK_RECORDS = 1024;

    private Cifar10Reader() {}

    /** The 5 training batches of {@code dir}: 50,000 samples, 3x32x32. */
    public static Dataset readTrain(Path dir, boolean scale) throws IOException {
        List<Path> files = new ArrayList<>();
        for (String f : TRAIN_FILES) files.add(dir.resolve(f));
        return read(files, scale, "CIFAR-10 train" + scaling(scale));
    }

    /** The test batch of {@code dir}: 10,000 samples, 3x32x32. */
    public static Dataset readTest(Path dir, boolean scale) throws IOException {
        return read(List.of(dir.resolve(TEST_FILE)), scale, "CIFAR-10 test" + scaling(scale));
    }

    private static String scaling(boolean scale) {
        return scale ? ", pixels / 255" : ", raw pixels 0..255";
    }

    /**
     * The records of {@code files}, in order, as one data set of shape 3x32x32 with 10 classes.
     *
     * @param scale divide the pixels by 255 (else keep 0..255)
     * @param name  what the data is, e.g. "CIFAR-10 train"
     * @throws NoSuchFileException if any file is missing (all missing ones are named)
     * @throws DataFormatException if a length is not a positive multiple of 3073 or a label exceeds 9
     */
    public static Dataset read(List<Path> files, boolean scale, String name) throws IOException {
        Objects.requireNonNull(name, "name");
        if (files.isEmpty()) throw new IllegalArgumentException(name + ": no CIFAR-10 files given");
        List<String> missing = new ArrayList<>();
        for (Path f : files) if (!Files.isRegularFile(f)) missing.add(f.toString());
        if (!missing.isEmpty())
            throw new NoSuchFileException(missing.get(0), null, "missing CIFAR-10 batch file(s): "
                    + String.join(", ", missing));
        long[] records = new long[files.size()];
        long total = 0;
        for (int i = 0; i < files.size(); i++) {
            Path f = files.get(i);
            long len = Files.size(f);
            if (len == 0 || len % RECORD_BYTES != 0)
                throw new DataFormatException(f.toString(), len == 0 ? 0 : len - len % RECORD_BYTES, "file length "
                        + len + " is not a positive multiple of the record size " + RECORD_BYTES + " (1 label byte + "
                        + IMAGE_BYTES + " pixel bytes)" + (len == 0 ? "" : "; the last record has only "
                                + len % RECORD_BYTES + " bytes"));
            records[i] = len / RECORD_BYTES;
            total += records[i];
        }
        if (total > MAX_RECORDS)
            throw new DataFormatException(files.get(0).toString(), -1, total + " records in " + files.size()
                    + " files exceed the largest Java array (" + MAX_RECORDS + " records of " + IMAGE_BYTES + " floats)");
        int n = (int) total;
        String shortfall = HeapBudget.shortfall(4L * n * (IMAGE_BYTES + 1) + (long) CHUNK_RECORDS * RECORD_BYTES);
        if (shortfall != null)
            throw new DataFormatException(files.get(0).toString(), -1, "reading " + n + " CIFAR-10 records of " + files.size() + " files " + shortfall);
        float[] inputs = new float[n * IMAGE_BYTES];
        int[] labels = new int[n];
        float[] value = new float[256];
        for (int v = 0; v < 256; v++) value[v] = scale ? v / 255f : v;
        byte[] buf = new byte[CHUNK_RECORDS * RECORD_BYTES];
        int sample = 0;
        for (int i = 0; i < files.size(); i++) {
            Path f = files.get(i);
            try (InputStream in = Files.newInputStream(f)) {
                for (long r = 0; r < records[i];) {
                    int chunk = (int) Math.min(CHUNK_RECORDS, records[i] - r);
                    int want = chunk * RECORD_BYTES;
                    int got = in.readNBytes(buf, 0, want);
                    if (got < want) // the file shrank since its length was checked
                        throw new DataFormatException(f.toString(), r * RECORD_BYTES + got, "truncated: expected "
                                + records[i] * RECORD_BYTES + " bytes, found " + (r * RECORD_BYTES + got));
                    for (int k = 0; k < chunk; k++, r++, sample++) {
                        int base = k * RECORD_BYTES;
                        int label = buf[base] & 0xff;
                        if (label >= CLASSES)
                            throw new DataFormatException(f.toString(), r * RECORD_BYTES, "record " + r + " has label "
                                    + label + "; expected 0.." + (CLASSES - 1));
                        labels[sample] = label;
                        int out = sample * IMAGE_BYTES;
                        for (int p = 0; p < IMAGE_BYTES; p++) inputs[out + p] = value[buf[base + 1 + p] & 0xff];
                    }
                }
            }
        }
        return new Dataset(name, source(files), inputs, 3, 32, 32, labels, CLASSES, null);
    }

    /** The common directory of the files, or the files themselves. */
    private static String source(List<Path> files) {
        Path dir = files.get(0).toAbsolutePath().getParent();
        for (Path f : files)
            if (dir == null || !dir.equals(f.toAbsolutePath().getParent())) {
                List<String> names = new ArrayList<>();
                for (Path g : files) names.add(g.toString());
                return String.join(", ", names);
            }
        return dir.toString();
    }
}
