package org.adanewton.data;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

/** Dataset validation, subset and asAutoencoder. */
class DatasetTest {
    /** Subsets copy floats verbatim. */
    static final float COPY_ATOL = 0f;

    private static Dataset sample(int n, int dim) {
        float[] x = new float[n * dim];
        for (int k = 0; k < x.length; k++) x[k] = k * 0.5f;
        int[] y = new int[n];
        for (int i = 0; i < n; i++) y[i] = i % 3;
        return new Dataset("toy", "memory", x, 1, 1, dim, y, 3, null);
    }

    @Test
    void accessorsAndDescription() {
        Dataset d = new Dataset("imgs", "/some/dir", new float[2 * 3 * 4 * 5], 3, 4, 5, new int[] {0, 1}, 2, null);
        assertEquals(2, d.size());
        assertEquals(60, d.inputDim());
        assertEquals(3, d.channels());
        assertEquals(4, d.height());
        assertEquals(5, d.width());
        assertEquals(2, d.classes());
        assertEquals(0, d.targetDim());
        assertEquals("3x4x5", d.shape());
        assertEquals("imgs (2 samples, 3x4x5) from /some/dir", d.description());
        assertArrayEquals(new int[] {1, 1}, d.classCounts());
        Dataset flat = Dataset.flat("flat", new float[6], 3, null, 0, new float[4]);
        assertEquals("1x1x3", flat.shape());
        assertEquals(2, flat.targetDim());
        assertEquals("flat (2 samples, 1x1x3)", flat.description());
    }

    @Test
    void subsetCopiesRowsLabelsAndTargets() {
        Dataset d = sample(10, 4);
        Dataset train = d.subset(0, 8), valid = d.subset(8, 10);
        assertEquals(8, train.size());
        assertEquals(2, valid.size());
        assertEquals(4, valid.inputDim());
        assertEquals(8 * 4 * 0.5f, valid.inputs()[0], COPY_ATOL);
        assertArrayEquals(new int[] {2, 0}, valid.labels());
        assertTrue(valid.name().contains("[8, 10)"), valid.name());
        assertEquals(d.classes(), valid.classes());
        assertThrows(IllegalArgumentException.class, () -> d.subset(5, 5));
        assertThrows(IllegalArgumentException.class, () -> d.subset(-1, 3));
        assertThrows(IllegalArgumentException.class, () -> d.subset(0, 11));
        Dataset withTargets = Dataset.flat("t", new float[] {1, 2, 3, 4}, 1, null, 0, new float[] {10, 20, 30, 40, 50, 60, 70, 80});
        Dataset tail = withTargets.subset(2, 4);
        assertArrayEquals(new float[] {50, 60, 70, 80}, tail.targets(), COPY_ATOL);
        assertEquals(2, tail.targetDim());
    }

    @Test
    void asAutoencoderUsesInputsAsTargetsAndKeepsLabels() {
        Dataset d = sample(5, 6);
        Dataset ae = d.asAutoencoder();
        assertSame(d.inputs(), ae.targets());
        assertEquals(6, ae.targetDim());
        assertArrayEquals(d.labels(), ae.labels());
        assertEquals(d.classes(), ae.classes());
        assertSame(ae, ae.asAutoencoder());
        Dataset part = ae.subset(1, 3);
        assertSame(part.inputs(), part.targets(), "a subset of an autoencoder set stays one");
        assertArrayEquals(java.util.Arrays.copyOfRange(d.inputs(), 6, 18), part.targets(), COPY_ATOL);
    }

    @Test
    void nonFiniteInputIsRejectedNamingTheSample() {
        float[] x = new float[12];
        x[7] = Float.NaN; // sample 2 of dim 3, feature 1
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Dataset.flat("nan", x, 3, null, 0, null));
        assertTrue(e.getMessage().contains("sample 2"), e.getMessage());
        assertTrue(e.getMessage().contains("NaN"), e.getMessage());
        x[7] = 0;
        x[10] = Float.POSITIVE_INFINITY;
        e = assertThrows(IllegalArgumentException.class, () -> Dataset.flat("inf", x, 3, null, 0, null));
        assertTrue(e.getMessage().contains("sample 3"), e.getMessage());
        float[] t = new float[4];
        t[3] = Float.NaN;
        e = assertThrows(IllegalArgumentException.class, () -> Dataset.flat("t", new float[12], 3, null, 0, t));
        assertTrue(e.getMessage().contains("sample 3") && e.getMessage().contains("target"), e.getMessage());
    }

    @Test
    void inconsistentLengthsAndLabelsAreRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Dataset.flat("x", new float[7], 3, null, 0, null));
        assertTrue(e.getMessage().contains("7"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Dataset.flat("x", new float[0], 3, null, 0, null));
        assertThrows(IllegalArgumentException.class, () -> Dataset.flat("x", new float[6], 3, new int[3], 2, null));
        assertThrows(IllegalArgumentException.class, () -> Dataset.flat("x", new float[6], 3, new int[2], 0, null));
        assertThrows(IllegalArgumentException.class, () -> Dataset.flat("x", new float[6], 3, null, 0, new float[3]));
        e = assertThrows(IllegalArgumentException.class,
                () -> Dataset.flat("x", new float[6], 3, new int[] {1, 5}, 5, null));
        assertTrue(e.getMessage().contains("sample 1") && e.getMessage().contains("label 5"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Dataset.flat("x", new float[6], 3, new int[] {-1, 0}, 5, null));
        assertTrue(e.getMessage().contains("sample 0"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Dataset("x", null, new float[6], 0, 1, 6, null, 0, null));
    }
}
