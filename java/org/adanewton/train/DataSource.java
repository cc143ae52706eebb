package org.adanewton.train;

import java.nio.ByteBuffer;
import java.util.zip.CRC32;
import org.adanewton.data.Dataset;

/**
 * Which data a run trained on, kept in its checkpoint so that a resume continues on the same data:
 * where they came from, the set sizes and shape, and a fingerprint (CRC32 of the first and last
 * samples of both sets, inputs and labels or targets).
 *
 * <p>Thread safety: immutable: safe to share between threads.
 *
 * @param source       the training set's {@link Dataset#source()} (a directory, usually)
 * @param trainSamples training samples (all of them, before --train-samples)
 * @param testSamples  test samples (0 without a test set)
 * @param shape        the samples' shape, e.g. "1x28x28"
 * @param fingerprint  8 hex digits
 */
public record DataSource(String source, int trainSamples, int testSamples, String shape, String fingerprint) {

    public static DataSource of(Dataset train, Dataset test) {
        CRC32 crc = new CRC32();
        add(crc, train);
        if (test != null) add(crc, test);
        return new DataSource(train.source(), train.size(), test == null ? 0 : test.size(), train.shape(), String.format("%08x", crc.getValue()));
    }

    private static void add(CRC32 crc, Dataset d) {
        ByteBuffer b = ByteBuffer.allocate(16);
        b.putInt(d.size()).putInt(d.inputDim()).putInt(d.hasLabels() ? d.classes() : -1).putInt(d.hasTargets() ? d.targetDim() : -1);
        crc.update(b.array());
        for (int row : new int[] {0, d.size() - 1}) {
            int in = d.inputDim();
            ByteBuffer x = ByteBuffer.allocate(4 * in);
            for (int j = 0; j < in; j++) x.putFloat(d.inputs()[row * in + j]);
            crc.update(x.array());
            if (d.hasLabels()) crc.update(ByteBuffer.allocate(4).putInt(d.labels()[row]).array());
            if (d.hasTargets()) {
                int t = d.targetDim();
                ByteBuffer y = ByteBuffer.allocate(4 * t);
                for (int j = 0; j < t; j++) y.putFloat(d.targets()[row * t + j]);
                crc.update(y.array());
            }
        }
    }

    /** Whether these are the same data (the source may differ: the same files elsewhere are the same data). */
    public boolean sameData(DataSource other) {
        return other != null && trainSamples == other.trainSamples && testSamples == other.testSamples && shape.equals(other.shape)
                && fingerprint.equals(other.fingerprint);
    }

    /** One line: "5000 + 1000 samples of 1x28x28 from DIR (fingerprint 1a2b3c4d)". */
    public String describe() {
        return trainSamples + " + " + testSamples + " samples of " + shape + " from " + (source == null ? "(unknown)" : source) + " (fingerprint "
                + fingerprint + ")";
    }
}
