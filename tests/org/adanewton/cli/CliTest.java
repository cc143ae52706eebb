package org.adanewton.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class CliTest {
    private record Run(int code, String out, String err) {}

    private static Run run(String... args) {
        PrintStream oldOut = System.out, oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            int code = Main.run(args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @Test
    void benchJsonHasTheRequiredFields() {
        Run r = run("bench", "--json", "--model", "mlp-784-128-10-tanh", "--batch", "16", "--threads", "2", "--seconds", "0.01");
        assertEquals(0, r.code, r.err);
        String line = r.out.lines().filter(l -> l.startsWith("{")).findFirst().orElseThrow();
        for (String field : new String[] {"model", "batch", "threads", "forward_ms", "gradient_ms", "hvp_ms", "hvp_cached_ms", "gn_ms",
                "gemm_floor_gradient_ms", "gradient_gflops"})
            assertTrue(line.contains("\"" + field + "\": "), field + " missing in " + line);
        assertTrue(line.contains("\"model\": \"mlp-784-128-10-tanh\"") && line.contains("\"batch\": 16"), line);
    }

    @Test
    void badFlagsExitWithTwoAndAMessage() {
        Run r = run("bench", "--model", "resnet");
        assertEquals(2, r.code);
        assertTrue(r.err.contains("--model = 'resnet'"), r.err);
        Run unknown = run("bench", "--frobnicate");
        assertEquals(2, unknown.code);
        assertTrue(unknown.err.contains("Unknown option"), unknown.err);
        Run threads = run("bench", "--threads", "many");
        assertEquals(2, threads.code);
    }

    @Test
    void runtimeFailureExitsWithOne() {
        Run r = run("info", "--backend", "cuda");
        assertEquals(1, r.code);
        assertTrue(r.err.contains("cuda backend requested but unavailable"), r.err);
    }

    @Test
    void infoExplainsItself() {
        Run info = run("info");
        assertEquals(0, info.code, info.err);
        assertTrue(info.out.contains("backend: cpu") && info.out.contains("cuda probe:"), info.out);
    }

    @Test
    void solvePrintsJson() {
        Run r = run("solve", "rosenbrock", "--method", "arc", "--norm", "rmsprop", "--json");
        assertEquals(0, r.code, r.err);
        for (String field : new String[] {"problem", "method", "iterations", "gradients", "hvps", "grad_norm", "termination"})
            assertTrue(r.out.contains("\"" + field + "\": "), field + " missing in " + r.out);
        assertTrue(r.out.contains("\"termination\": \"CONVERGENCE\""), r.out);
        assertEquals(2, run("solve", "rosenbrock", "--method", "newton").code);
        assertEquals(2, run("solve", "himmelblau").code);
    }
}
