package org.adanewton.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.adanewton.backend.cpu.CpuBackend;
import org.adanewton.backend.java.JavaBackend;
import org.adanewton.nn.Activation;
import org.adanewton.nn.Loss;
import org.adanewton.nn.Network;
import org.adanewton.nn.Regularization;
import org.adanewton.nn.TestNetworks;
import org.junit.jupiter.api.Test;

/**
 * CurvaturePrecision's names and parsing, and the host backends' refusals: the CPU and Java
 * backends run curvature products in FP32 only and refuse TF32 and BF16 with their reasons,
 * leaving the model as it was (the CUDA backend's products at TF32/BF16: CurvaturePrecisionGpuTest).
 */
class CurvaturePrecisionTest {
    private static final Network NET = TestNetworks.small(Activation.TANH, Loss.SOFTMAX_CROSS_ENTROPY, Regularization.squared(0.01));

    @Test
    void namesAndParsing() {
        assertEquals("fp32", CurvaturePrecision.FP32.cliName());
        assertEquals("tf32", CurvaturePrecision.TF32.cliName());
        assertEquals("bf16", CurvaturePrecision.BF16.cliName());
        assertEquals(CurvaturePrecision.FP32, CurvaturePrecision.parse("fp32"));
        assertEquals(CurvaturePrecision.TF32, CurvaturePrecision.parse("TF32"));
        assertEquals(CurvaturePrecision.BF16, CurvaturePrecision.parse(" Bf16 "));
        for (String bad : new String[] {"fp16", "", "float32", "bf-16"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CurvaturePrecision.parse(bad));
            assertEquals("curvature precision = '" + bad + "'; must be fp32, tf32 or bf16", e.getMessage());
        }
        assertEquals("curvature precision = 'null'; must be fp32, tf32 or bf16",
                assertThrows(IllegalArgumentException.class, () -> CurvaturePrecision.parse(null)).getMessage());
    }

    @Test
    void javaBackendRefusesTf32AndBf16() {
        try (JavaBackend be = new JavaBackend()) {
            assertNull(be.unsupported(CurvaturePrecision.FP32));
            for (CurvaturePrecision p : new CurvaturePrecision[] {CurvaturePrecision.TF32, CurvaturePrecision.BF16})
                assertEquals("the Java reference backend computes in double", be.unsupported(p));
            refusesAndKeepsFp32(be);
        }
    }

    @Test
    void cpuBackendRefusesTf32AndBf16() {
        try (CpuBackend be = new CpuBackend(2)) {
            assertNull(be.unsupported(CurvaturePrecision.FP32));
            String tf32 = be.unsupported(CurvaturePrecision.TF32), bf16 = be.unsupported(CurvaturePrecision.BF16);
            assertTrue(tf32.startsWith("TF32 is a GPU tensor-core format; the CPU backend runs fp32"), tf32);
            assertTrue(bf16.startsWith("this CPU has no AVX512-BF16 instructions (flags: ") || bf16.startsWith("the CPU backend has no bf16 GEMM kernel yet"),
                    bf16);
            refusesAndKeepsFp32(be);
        }
    }

    @Test
    void nullIsRefused() {
        try (JavaBackend be = new JavaBackend(); NetworkModel m = be.model(NET, 4)) {
            assertThrows(NullPointerException.class, () -> be.unsupported(null));
            assertThrows(NullPointerException.class, () -> m.setCurvaturePrecision(null));
        }
    }

    /** TF32 and BF16 refused with the backend's reason; FP32 accepted; the cached point and its products unchanged. */
    private static void refusesAndKeepsFp32(Backend be) {
        int n = NET.parameterCount();
        try (NetworkModel m = be.model(NET, 5); Batch b = TestNetworks.batch(be, NET, 5, 3); Vector w = be.vector(TestNetworks.point(NET, 4));
                Vector v = be.vector(TestNetworks.direction(n, 5)); Vector g = be.allocate(n); Vector h0 = be.allocate(n); Vector h1 = be.allocate(n)) {
            assertEquals(CurvaturePrecision.FP32, m.curvaturePrecision());
            m.gradient(w, b, g);
            m.hvpCached(v, h0);
            for (CurvaturePrecision p : new CurvaturePrecision[] {CurvaturePrecision.TF32, CurvaturePrecision.BF16}) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.setCurvaturePrecision(p));
                assertEquals("curvature precision = " + p.cliName() + " is not supported on the " + be.kind() + " backend: " + be.unsupported(p),
                        e.getMessage());
                assertEquals(CurvaturePrecision.FP32, m.curvaturePrecision());
            }
            m.setCurvaturePrecision(CurvaturePrecision.FP32);
            assertTrue(m.hasCachedPoint(), "setting FP32 dropped the cached point");
            m.hvpCached(v, h1);
            assertEquals(java.util.Arrays.toString(h0.toArray()), java.util.Arrays.toString(h1.toArray()));
        }
    }
}
