package org.adanewton.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.adanewton.backend.CurvaturePrecision;
import org.junit.jupiter.api.Test;

/** The CUDA backend's rule for TF32 and BF16 (compute capability >= 8.0), without a device. */
class CudaPrecisionReasonTest {
    @Test
    void ampereAndLaterRunTf32AndBf16() {
        for (int cc : new int[] {80, 86, 89, 90, 100})
            for (CurvaturePrecision p : CurvaturePrecision.values()) assertNull(CudaBackend.precisionReason(p, cc), p + " at " + cc);
    }

    @Test
    void olderDevicesRefuseWithTheirCapability() {
        assertEquals("TF32 needs compute capability >= 8.0; this device is 7.5", CudaBackend.precisionReason(CurvaturePrecision.TF32, 75));
        assertEquals("BF16 needs compute capability >= 8.0; this device is 7.0", CudaBackend.precisionReason(CurvaturePrecision.BF16, 70));
        assertNull(CudaBackend.precisionReason(CurvaturePrecision.FP32, 60));
    }
}
