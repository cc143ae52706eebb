package org.adanewton.backend;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.adanewton.backend.cuda.CudaProbe;
import org.junit.jupiter.api.Test;

/** Runs only where a CUDA device answers (see {@link GpuTest}). */
@GpuTest
class CudaProbeGpuTest {
    @Test
    void probeFindsTheDevice() {
        CudaProbe.Result r = CudaProbe.probe();
        assertTrue(r.devices() >= 1, r.message());
        assertTrue(r.message().contains("device 0"), r.message());
    }
}
