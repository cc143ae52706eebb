package org.adanewton.backend;

import static org.junit.jupiter.api.Assertions.*;

import java.util.SplittableRandom;
import org.adanewton.backend.cpu.CpuBackend;
import org.adanewton.backend.java.JavaBackend;
import org.adanewton.nn.Loss;
import org.adanewton.nn.Network;
import org.junit.jupiter.api.Test;

/** Batch.rows checks a data set once; Batch.gather then copies rows by index exactly as set() does with the rows gathered by hand. */
class BatchGatherTest {
    /** The same rows through either path: the same float32 inputs, so the same loss up to the kernels' summation order. */
    static final double SAME_LOSS_RTOL = 1e-6;

    static final int N = 50, D = 6, C = 3;

    @Test
    void gatherMatchesSetOfTheSameRows() {
        SplittableRandom r = new SplittableRandom(5);
        float[] x = new float[N * D];
        int[] y = new int[N];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        for (int i = 0; i < N; i++) y[i] = r.nextInt(C);
        Network net = Network.builder(D).dense(4).tanh().dense(C).build();
        int[] idx = {7, 3, 49, 0, 3, 21};
        float[] gx = new float[idx.length * D];
        int[] gy = new int[idx.length];
        for (int i = 0; i < idx.length; i++) {
            System.arraycopy(x, idx[i] * D, gx, i * D, D);
            gy[i] = y[idx[i]];
        }
        Batch.Rows rows = Batch.rows(net, x, y, null);
        assertEquals(N, rows.size());
        for (Backend be : new Backend[] {new CpuBackend(2), new JavaBackend()}) {
            try (Batch a = be.batch(net, 8); Batch b = be.batch(net, 8); NetworkModel m = be.model(net, 8); Vector w = be.vector(net.initialize(2))) {
                a.gather(rows, idx, idx.length);
                b.set(gx, gy, idx.length);
                assertEquals(idx.length, a.rows());
                double la = m.loss(w, a), lb = m.loss(w, b);
                assertEquals(lb, la, SAME_LOSS_RTOL * Math.abs(lb), be.kind().toString());
            }
        }
    }

    @Test
    void badDataAndIndicesAreRefusedWithTheValue() {
        Network net = Network.builder(D).dense(C).build();
        float[] x = new float[N * D];
        int[] y = new int[N];
        x[13] = Float.NaN;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Batch.rows(net, x, y, null));
        assertTrue(e.getMessage().contains("inputs of sample 2 (feature 1) is NaN"), e.getMessage());
        x[13] = 0;
        y[4] = C;
        e = assertThrows(IllegalArgumentException.class, () -> Batch.rows(net, x, y, null));
        assertTrue(e.getMessage().contains("labels[4] = 3"), e.getMessage());
        y[4] = 0;
        e = assertThrows(IllegalArgumentException.class, () -> Batch.rows(net, x, new int[N - 1], null));
        assertTrue(e.getMessage().contains("labels has length 49; must be 50"), e.getMessage());
        Batch.Rows rows = Batch.rows(net, x, y, null);
        try (Batch b = new JavaBackend().batch(net, 4)) {
            e = assertThrows(IllegalArgumentException.class, () -> b.gather(rows, new int[] {1, N}, 2));
            assertTrue(e.getMessage().contains("indices[1] = 50; must be in [0, 50)"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> b.gather(rows, new int[] {1, 2, 3, 4, 5}, 5));
            assertTrue(e.getMessage().contains("count = 5; must be in [1, 4]"), e.getMessage());
            assertEquals(0, b.rows(), "a refused gather leaves the batch as it was");
            Network other = Network.builder(D).dense(C).loss(Loss.SQUARED_ERROR_MEAN).build();
            Batch.Rows regression = Batch.rows(other, x, null, new float[N * C]);
            e = assertThrows(IllegalArgumentException.class, () -> b.gather(regression, new int[] {0}, 1));
            assertTrue(e.getMessage().contains("the rows were checked for"), e.getMessage());
        }
    }
}
