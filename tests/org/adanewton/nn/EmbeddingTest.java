package org.adanewton.nn;

import static org.adanewton.Tolerances.*;
import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.adanewton.backend.Backend;
import org.adanewton.backend.Batch;
import org.adanewton.backend.GpuTest;
import org.adanewton.backend.NetworkModel;
import org.adanewton.backend.Vector;
import org.adanewton.backend.cpu.CpuBackend;
import org.adanewton.backend.cuda.CudaBackend;
import org.adanewton.backend.java.JavaBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Embedding: the output is the indexed rows of the table, its gradient lands in those rows only,
 * and a batch with a non-integer or out-of-range index is refused by every backend's upload
 * (Batch.set, before anything is copied or computed) with a message naming the sample and value.
 */
class EmbeddingTest {
    private static final JavaBackend JAVA = new JavaBackend();
    /** 3 indices into a table of 5 x 2; the output is the looked-up rows. */
    private static final Network TABLE = Network.builder(3).embedding(5, 2).loss(Loss.SQUARED_ERROR_SUM).build();

    @Test
    void theOutputIsTheIndexedRowsAndTheGradientLandsInThem() {
        double[] w0 = TestNetworks.point(TABLE, 1);
        float[] x = {4, 0, 4, 1, 1, 3};
        float[] t = new float[12];
        try (NetworkModel m = JAVA.model(TABLE, 2); Batch b = JAVA.batch(TABLE, 2); Vector w = JAVA.vector(w0);
                Vector g = JAVA.allocate(TABLE.parameterCount())) {
            b.set(x, t, 2);
            double[] out = m.forward(w, b), expected = new double[12];
            for (int k = 0; k < 6; k++)
                for (int d = 0; d < 2; d++) expected[k * 2 + d] = w0[(int) x[k] * 2 + d];
            assertClose("embedding output", out, expected, DOUBLE_ATOL, DOUBLE_RTOL);
            m.gradient(w, b, g);
            double[] grad = g.toArray();
            for (int d = 0; d < 2; d++) assertEquals(0, grad[2 * 2 + d], 0.0, "the gradient of row 2, which no sample indexes");
            // squared error sum over 2 rows: d/dW[k] = sum over the uses of k of 2 (W[k] - 0) / 2
            for (int d = 0; d < 2; d++) assertClose("gradient of row 4 (used twice)", grad[4 * 2 + d], 2 * w0[4 * 2 + d], DOUBLE_ATOL, DOUBLE_RTOL);
        }
    }

    static List<Backend> hostBackends() {
        return List.of(JAVA, new CpuBackend(1));
    }

    @ParameterizedTest
    @MethodSource("hostBackends")
    void badIndicesAreRefusedNamingTheSampleAndValue(Backend be) {
        assertRefusesBadIndices(be);
    }

    @GpuTest
    @Test
    void badIndicesAreRefusedOnTheCudaUpload() {
        try (CudaBackend be = new CudaBackend()) {
            assertRefusesBadIndices(be);
        }
    }

    private static void assertRefusesBadIndices(Backend be) {
        float[] good = {0, 1, 2, 3, 4, 0};
        try (Batch b = be.batch(TABLE, 2)) {
            b.set(good, new float[12], 2);
            long version = b.version();
            for (float bad : new float[] {2.5f, -1f, 5f, 1e9f, 0.001f}) {
                float[] x = good.clone();
                x[4] = bad; // sample 1, index 1
                String msg = assertThrows(IllegalArgumentException.class, () -> b.set(x, new float[12], 2)).getMessage();
                assertTrue(msg.contains("sample 1") && msg.contains(Float.toString(bad)) && msg.contains("integer indices in [0, 5)"), msg);
                assertEquals(version, b.version(), "a refused batch keeps its previous contents");
            }
        }
    }

    /** A batch made for a network without an embedding (same sizes) has unchecked inputs: a model with an embedding refuses it. */
    @Test
    void aBatchWhoseIndicesWereNotCheckedIsRefused() {
        Network dense = Network.builder(3).dense(6).loss(Loss.SQUARED_ERROR_SUM).build();
        try (NetworkModel m = JAVA.model(TABLE, 2); Batch b = JAVA.batch(dense, 2); Vector w = JAVA.vector(TestNetworks.point(TABLE, 1))) {
            b.set(new float[] {0.5f, 7, -2, 1, 1, 1}, new float[12], 2);
            String msg = assertThrows(IllegalArgumentException.class, () -> m.loss(w, b)).getMessage();
            assertTrue(msg.contains("the batch was made for"), msg);
        }
    }
}
