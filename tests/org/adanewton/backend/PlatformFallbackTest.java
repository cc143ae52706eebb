package org.adanewton.backend;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.adanewton.select.Backends;
import org.junit.jupiter.api.Test;

/**
 * A platform without natives, as JavaCPP sees one when org.bytedeco.javacpp.platform names it, in a
 * child JVM: AUTO falls back to the Java reference and logs that once, at WARNING, naming the
 * platform and the platforms that have natives; an explicit cpu request names the platform.
 */
class PlatformFallbackTest {
    static final String PLATFORM = "macosx-arm64";

    /** The child: two AUTO selections and one cpu request; prints what a user would see. */
    public static void main(String[] args) {
        Logger logger = Logger.getLogger(Backends.LOGGER);
        int[] warnings = {0};
        StringBuilder text = new StringBuilder();
        logger.addHandler(new Handler() {
            @Override
            public void publish(LogRecord r) {
                if (r.getLevel() == Level.WARNING) {
                    warnings[0]++;
                    text.append(r.getMessage());
                }
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        });
        logger.setUseParentHandlers(false);
        for (int i = 0; i < 2; i++) {
            try (Backend b = Backends.select(BackendKind.AUTO, 1).backend()) {
                System.out.println("auto: " + b.kind());
            }
        }
        System.out.println("notes: " + Backends.select(BackendKind.AUTO, 1).notes());
        try {
            Backends.select(BackendKind.CPU, 1);
            System.out.println("cpu: accepted");
        } catch (BackendUnavailableException e) {
            System.out.println("cpu: " + e.getMessage());
        }
        System.out.println("warnings: " + warnings[0]);
        System.out.println("warning: " + text);
    }

    @Test
    void autoWarnsOnceAndExplicitCpuNamesThePlatform() throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(java.toString(), "-Dorg.bytedeco.javacpp.platform=" + PLATFORM, "-cp", System.getProperty("java.class.path"),
                PlatformFallbackTest.class.getName()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "child JVM did not finish");
        assertEquals(0, p.exitValue(), out);
        List<String> lines = out.lines().toList();
        assertEquals(2, lines.stream().filter(l -> l.equals("auto: JAVA")).count(), out);
        assertTrue(lines.contains("warnings: 1"), "the fallback must be logged exactly once:\n" + out);
        String warning = lines.stream().filter(l -> l.startsWith("warning: ")).findFirst().orElseThrow();
        assertTrue(warning.contains(PLATFORM) && warning.contains("linux-x86_64") && warning.contains("Java reference"), warning);
        String notes = lines.stream().filter(l -> l.startsWith("notes: ")).findFirst().orElseThrow();
        assertTrue(notes.contains("no native library for platform " + PLATFORM), notes);
        String cpu = lines.stream().filter(l -> l.startsWith("cpu: ")).findFirst().orElseThrow();
        assertTrue(cpu.contains(PLATFORM) && !cpu.contains("java.library.path"), cpu);
    }
}
