package org.adanewton.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.adanewton.backend.CurvaturePrecision;
import org.junit.jupiter.api.Test;

/** The CPU backend's BF16 reason for both kinds of CPU, and the native feature probe against /proc/cpuinfo. */
class CpuPrecisionReasonTest {
    @Test
    void reasonNamesTheMissingInstructions() {
        assertEquals("this CPU has no AVX512-BF16 instructions (flags: avx2; missing: avx512f avx512bw avx512vl avx512_bf16)",
                CpuBackend.bf16Reason(NativeApi.AN_CPU_AVX2));
        assertEquals("this CPU has no AVX512-BF16 instructions (flags: avx2 avx512f avx512bw avx512vl; missing: avx512_bf16)",
                CpuBackend.bf16Reason(NativeApi.AN_CPU_AVX2 | NativeApi.AN_CPU_AVX512F | NativeApi.AN_CPU_AVX512BW | NativeApi.AN_CPU_AVX512VL));
        assertEquals("this CPU has no AVX512-BF16 instructions (flags: none of these; missing: avx2 avx512f avx512bw avx512vl avx512_bf16)",
                CpuBackend.bf16Reason(0));
        assertEquals("the CPU backend has no bf16 GEMM kernel yet (this CPU has AVX512-BF16)", CpuBackend.bf16Reason(31));
    }

    /** The native probe (__builtin_cpu_supports) agrees with the kernel's flags where /proc/cpuinfo exists. */
    @Test
    void probeAgreesWithCpuinfo() throws IOException {
        Path cpuinfo = Path.of("/proc/cpuinfo");
        int features;
        try (CpuBackend be = new CpuBackend(1)) { // loads the JNI library
            features = NativeApi.an_cpu_features();
            assertEquals(CpuBackend.bf16Reason(features), be.unsupported(CurvaturePrecision.BF16));
        }
        if (!Files.isReadable(cpuinfo)) return;
        List<String> flags = Files.readAllLines(cpuinfo).stream().filter(l -> l.startsWith("flags")).findFirst()
                .map(l -> List.of(l.substring(l.indexOf(':') + 1).trim().split("\\s+"))).orElse(List.of());
        if (flags.isEmpty()) return;
        assertEquals(flags.contains("avx512_bf16"), (features & NativeApi.AN_CPU_AVX512BF16) != 0, "avx512_bf16");
        assertEquals(flags.contains("avx512f"), (features & NativeApi.AN_CPU_AVX512F) != 0, "avx512f");
        assertEquals(flags.contains("avx2"), (features & NativeApi.AN_CPU_AVX2) != 0, "avx2");
    }
}
