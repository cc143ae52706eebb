package org.adanewton.backend;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.adanewton.backend.cpu.CpuBackend;
import org.adanewton.backend.java.JavaBackend;
import org.adanewton.nn.Loss;
import org.adanewton.nn.Network;
import org.adanewton.nn.Regularization;
import org.adanewton.nn.TestNetworks;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Misuse gets a clear exception naming the value and the rule, and changes nothing. */
class ValidationTest {
    static List<Backend> backends() {
        return List.of(new JavaBackend(), new CpuBackend(2));
    }

    private static final Network NET = Network.builder(4).dense(6).tanh().dense(3).build();

    private static String message(Runnable r, Class<? extends RuntimeException> type) {
        return assertThrows(type, r::run).getMessage();
    }

    @ParameterizedTest
    @MethodSource("backends")
    void wrongParameterLengthIsRejected(Backend be) {
        try (NetworkModel m = be.model(NET, 4); Batch b = TestNetworks.batch(be, NET, 4, 1);
                Vector w = be.allocate(NET.parameterCount() - 1); Vector g = be.allocate(NET.parameterCount())) {
            String msg = message(() -> m.gradient(w, b, g), IllegalArgumentException.class);
            assertTrue(msg.contains("w has length " + (NET.parameterCount() - 1)) && msg.contains("must be " + NET.parameterCount() + " (the network's parameter count)"), msg);
        }
    }

    @ParameterizedTest
    @MethodSource("backends")
    void closedVectorIsRejected(Backend be) {
        try (NetworkModel m = be.model(NET, 4); Batch b = TestNetworks.batch(be, NET, 4, 1); Vector g = be.allocate(NET.parameterCount())) {
            Vector w = be.vector(NET.initialize(1));
            w.close();
            w.close(); // idempotent
            assertTrue(message(() -> m.gradient(w, b, g), IllegalStateException.class).contains("w is closed"));
            assertTrue(message(() -> be.dot(w, g), IllegalStateException.class).contains("x is closed"));
        }
    }

    @ParameterizedTest
    @MethodSource("backends")
    void vectorsOfAnotherBackendOrLengthAreRejected(Backend be) {
        Backend other = be instanceof JavaBackend ? new CpuBackend(1) : new JavaBackend();
        try (Vector x = be.allocate(3); Vector y = be.allocate(4); Vector z = other.allocate(3)) {
            assertTrue(message(() -> be.dot(x, y), IllegalArgumentException.class).contains("x has length 3 but y has length 4"));
            assertTrue(message(() -> be.axpy(1, z, x), IllegalArgumentException.class).contains("belongs to the"));
        }
    }

    @ParameterizedTest
    @MethodSource("backends")
    void badBatchesAreRejectedAndLeaveThePreviousContents(Backend be) {
        try (NetworkModel m = be.model(NET, 4); Batch b = TestNetworks.batch(be, NET, 4, 1);
                Vector w = be.vector(NET.initialize(1))) {
            double before = m.loss(w, b);
            long version = b.version();
            float[] x = new float[4 * 4];
            x[9] = Float.NaN;
            String nan = message(() -> b.set(x, new int[] {0, 1, 2, 0}, 4), IllegalArgumentException.class);
            assertTrue(nan.contains("sample 2") && nan.contains("NaN"), nan);
            x[9] = Float.POSITIVE_INFINITY;
            assertTrue(message(() -> b.set(x, new int[] {0, 1, 2, 0}, 4), IllegalArgumentException.class).contains("Infinity"));
            x[9] = 0;
            String label = message(() -> b.set(x, new int[] {0, 1, 3, 0}, 4), IllegalArgumentException.class);
            assertTrue(label.contains("labels[2] = 3") && label.contains("[0, 3)"), label);
            assertTrue(message(() -> b.set(x, new int[] {0, -1, 2, 0}, 4), IllegalArgumentException.class).contains("labels[1] = -1"));
            assertTrue(message(() -> b.set(new float[15], new int[] {0, 1, 2, 0}, 4), IllegalArgumentException.class)
                    .contains("inputs has length 15 but rows * inputDim = 4 * 4 = 16"));
            assertTrue(message(() -> b.set(new float[20], new int[5], 5), IllegalArgumentException.class).contains("rows = 5"));
            assertTrue(message(() -> b.set(x, new float[12], 4), IllegalArgumentException.class).contains("takes int labels"));
            assertEquals(version, b.version());
            assertEquals(before, m.loss(w, b), 0.0, "a rejected set changed the batch");
        }
    }

    @ParameterizedTest
    @MethodSource("backends")
    void batchLargerThanTheModelIsRejected(Backend be) {
        try (NetworkModel m = be.model(NET, 3); Batch b = TestNetworks.batch(be, NET, 4, 1); Vector w = be.vector(NET.initialize(1))) {
            assertTrue(message(() -> m.loss(w, b), IllegalArgumentException.class).contains("at most 3"));
        }
    }

    @ParameterizedTest
    @MethodSource("backends")
    void cachedProductsNeedAnUnchangedPoint(Backend be) {
        int n = NET.parameterCount();
        try (NetworkModel m = be.model(NET, 4); Batch b = TestNetworks.batch(be, NET, 4, 1); Vector w = be.vector(NET.initialize(1));
                Vector g = be.allocate(n); Vector v = be.vector(TestNetworks.direction(n, 2)); Vector out = be.allocate(n)) {
            assertTrue(message(() -> m.hvpCached(v, out), IllegalStateException.class).contains("no cached point"));
            m.gradient(w, b, g);
            m.hvpCached(v, out);
            double[] first = out.toArray();
            assertTrue(message(() -> m.hvpCached(v, v), IllegalArgumentException.class).contains("must differ"));
            be.axpy(0.1, v, w);
            assertTrue(message(() -> m.hvpCached(v, out), IllegalStateException.class).contains("w changed"));
            assertArrayEquals(first, out.toArray(), 0.0, "a rejected call wrote its output");
            m.gradient(w, b, g);
            TestNetworks.fill(b, 4, 9);
            assertTrue(message(() -> m.gaussNewtonCached(v, out), IllegalStateException.class).contains("batch changed"));
            m.close();
            assertTrue(message(() -> m.loss(w, b), IllegalStateException.class).contains("model is closed"));
        }
    }

    @ParameterizedTest
    @MethodSource("backends")
    void regressionBatchChecksTargets(Backend be) {
        Network net = Network.builder(2).dense(2).loss(Loss.SQUARED_ERROR_MEAN).build();
        try (Batch b = be.batch(net, 2)) {
            assertTrue(message(() -> b.set(new float[4], new float[3], 2), IllegalArgumentException.class)
                    .contains("targets has length 3 but rows * outputDim = 2 * 2 = 4"));
            float[] t = {0, 0, Float.NaN, 0};
            assertTrue(message(() -> b.set(new float[4], t, 2), IllegalArgumentException.class).contains("targets of sample 1"));
            assertTrue(message(() -> b.set(new float[4], new int[2], 2), IllegalArgumentException.class).contains("takes float targets"));
        }
    }

    @org.junit.jupiter.api.Test
    void invalidNetworkOptionsNameTheRule() {
        assertTrue(message(() -> Network.builder(0).dense(3).build(), IllegalArgumentException.class).contains("inputDim = 0; must be >= 1"));
        assertTrue(message(() -> Network.builder(3).build(), IllegalArgumentException.class).contains("no layers"));
        assertTrue(message(() -> Network.builder(3).dense(-2).build(), IllegalArgumentException.class).contains("out = -2"));
        assertTrue(message(() -> Network.builder(3).dense(1).build(), IllegalArgumentException.class).contains("at least 2 outputs"));
        assertTrue(message(() -> Regularization.norm(-1), IllegalArgumentException.class).contains("lambda = -1.0"));
        assertTrue(message(() -> new CpuBackend(0), IllegalArgumentException.class).contains("threads = 0"));
        assertTrue(message(() -> BackendKind.parse("tpu"), IllegalArgumentException.class).contains("backend = 'tpu'"));
    }
}
