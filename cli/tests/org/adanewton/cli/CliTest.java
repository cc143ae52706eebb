package org.adanewton.cli;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

class CliTest {
    @Test
    void benchJsonHasTheRequiredFields() {
        CliRun r = CliRun.of("bench", "--json", "--model", "mlp-784-128-10-tanh", "--batch", "16", "--threads", "2", "--seconds", "0.01");
        assertEquals(0, r.code(), r.err());
        String line = r.out().lines().filter(l -> l.startsWith("{")).findFirst().orElseThrow();
        for (String field : new String[] {"model", "batch", "threads", "forward_ms", "gradient_ms", "hvp_ms", "hvp_cached_ms", "gn_ms",
                "gemm_floor_gradient_ms", "gradient_gflops"})
            assertTrue(line.contains("\"" + field + "\": "), field + " missing in " + line);
        assertTrue(line.contains("\"model\": \"mlp-784-128-10-tanh\"") && line.contains("\"batch\": 16"), line);
    }

    @Test
    void badFlagsExitWithTwoAndAMessage() {
        CliRun r = CliRun.of("bench", "--model", "resnet");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--model = 'resnet'"), r.err());
        CliRun unknown = CliRun.of("bench", "--frobnicate");
        assertEquals(2, unknown.code());
        assertTrue(unknown.err().contains("Unknown option"), unknown.err());
        CliRun threads = CliRun.of("bench", "--threads", "many");
        assertEquals(2, threads.code());
    }

    @Test
    void benchRefusesACurvaturePrecisionTheBackendLacks() {
        CliRun bad = CliRun.of("bench", "--curvature-precision", "fp16");
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("--curvature-precision = 'fp16'; must be fp32, tf32 or bf16"), bad.err());
        CliRun cpu = CliRun.of("bench", "--backend", "cpu", "--curvature-precision", "tf32", "--model", "mlp-784-128-10-tanh", "--batch", "8");
        assertEquals(2, cpu.code());
        assertTrue(cpu.err().contains("--curvature-precision = tf32 is not supported on the cpu backend: TF32 is a GPU tensor-core format"), cpu.err());
        CliRun java = CliRun.of("bench", "--backend", "java", "--curvature-precision", "BF16", "--model", "mlp-784-128-10-tanh", "--batch", "8");
        assertEquals(2, java.code());
        assertTrue(java.err().contains("the Java reference backend computes in double"), java.err());
        CliRun fp32 = CliRun.of("bench", "--json", "--curvature-precision", "fp32", "--model", "mlp-784-128-10-tanh", "--batch", "8", "--threads", "1",
                "--seconds", "0.01");
        assertEquals(0, fp32.code(), fp32.err());
        assertTrue(fp32.out().contains("\"curvature_precision\": \"fp32\"") && !fp32.out().contains("rel_error"), fp32.out());
    }

    @Test
    void runtimeFailureExitsWithOne() {
        CliRun r = CliRun.of("info", "--backend", "cuda");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("cuda backend requested but unavailable"), r.err());
    }

    @Test
    void infoExplainsItself() {
        CliRun info = CliRun.of("info");
        assertEquals(0, info.code(), info.err());
        assertTrue(info.out().contains("backend: cpu") && info.out().contains("cuda probe:"), info.out());
        assertTrue(info.out().contains("platform: linux-x86_64") && info.out().contains("core "), info.out());
    }

    @Test
    void infoPresetPrintsTheTrustRegionConstants() {
        CliRun info = CliRun.of("info", "--preset", "fmnist-mlp");
        assertEquals(0, info.code(), info.err());
        // the paper's Fashion-MNIST MLP constants for the RMSProp norm: Delta0 1e-4, Dmax 10, eta1 0.01, eta2 0.95, 1.1, 1.75
        assertTrue(info.out().contains("rmsprop  0.000100000, 10.0000, 0.0100000, 0.950000, 1.10000, 1.75000"), info.out());
        assertTrue(info.out().contains("parameters: 101770") && info.out().contains("TR batch 512") && info.out().contains("Krylov: at most 50"),
                info.out());
    }

    @Test
    void failuresAreSaidInWordsWithTheirPath() {
        assertEquals("permission denied: /x/out", Main.describe(new java.nio.file.AccessDeniedException("/x/out")));
        assertEquals("no such file or directory: /x/data", Main.describe(new java.io.UncheckedIOException(new java.nio.file.NoSuchFileException("/x/data"))));
        assertEquals("/x/out/metrics.csv: No space left on device",
                Main.describe(new java.nio.file.FileSystemException("/x/out/metrics.csv", null, "No space left on device")));
        assertTrue(Main.describe(new java.io.IOException("No space left on device")).contains("give --out another file system"));
        assertTrue(Main.describe(new OutOfMemoryError("Java heap space")).contains("-Xmx"));
        String internal = Main.describe(new ArrayIndexOutOfBoundsException("-1"));
        assertTrue(internal.startsWith("internal error (ArrayIndexOutOfBoundsException: -1); please report it"), internal);
        assertEquals("eta1 = 2.0; must be in (0, 1)", Main.describe(new IllegalArgumentException("eta1 = 2.0; must be in (0, 1)")));
    }

    @Test
    void tickLabelsCarryTheDecimalsTheRangeNeeds() {
        assertEquals("0.89", Plots.tickLabel(0.891439103843011, 0.05, 0.9));
        assertEquals("-2.5", Plots.tickLabel(-2.5, 3, 3));
        assertEquals("120", Plots.tickLabel(120, 400, 400));
        assertEquals("12.5k", Plots.tickLabel(12_500, 2_000, 14_000));
        assertEquals("13k", Plots.tickLabel(13_000, 20_000, 20_000));
        assertEquals("8k", Plots.tickLabel(8_000, 20_000, 20_000), "one unit per axis: 8k next to 12k, not 8000");
        assertEquals("1.2M", Plots.tickLabel(1_234_567, 2_000_000, 2_000_000));
        assertEquals("3.0", Plots.tickLabel(3, 0, 3));
    }

    @Test
    void solvePrintsJson() {
        CliRun r = CliRun.of("solve", "rosenbrock", "--method", "arc", "--norm", "rmsprop", "--json");
        assertEquals(0, r.code(), r.err());
        for (String field : new String[] {"problem", "method", "iterations", "gradients", "hvps", "grad_norm", "termination"})
            assertTrue(r.out().contains("\"" + field + "\": "), field + " missing in " + r.out());
        assertTrue(r.out().contains("\"termination\": \"CONVERGENCE\""), r.out());
        assertEquals(2, CliRun.of("solve", "rosenbrock", "--method", "newton").code());
        for (String[] c : new String[][] {{"--gtol", "-1"}, {"--max-iterations", "-1"}, {"--negative", "-1"}}) {
            CliRun bad = CliRun.of("solve", "quadratic", "--dim", "20", c[0], c[1]);
            assertEquals(2, bad.code(), bad.err());
            assertTrue(bad.err().contains(c[0] + " = -1"), bad.err());
        }
        assertEquals(2, CliRun.of("solve", "himmelblau").code());
        CliRun huge = CliRun.of("solve", "quadratic", "--dim", "2000000000");
        assertEquals(2, huge.code(), huge.err());
        assertTrue(huge.err().contains("--dim = 2000000000") && huge.err().contains("-Xmx"), huge.err());
        CliRun krylov = CliRun.of("solve", "rosenbrock", "--max-krylov", "-1");
        assertEquals(2, krylov.code());
        assertTrue(krylov.err().contains("--max-krylov = -1"), krylov.err());
    }
}
