package org.adanewton.backend;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The JNI library as built: linked against the bundled OpenBLAS (by its soname), no path of the
 * build machine inside (RUNPATH $ORIGIN only), and no glibc symbol version newer than the bundled
 * OpenBLAS itself needs (2.34), so that it loads on RHEL 9 and Amazon Linux 2023 too. libstdc++ is
 * linked in statically: no GLIBCXX or CXXABI versions may be needed from the system. Read with
 * objdump (binutils, which g++ needs anyway).
 */
class NativeLinkageTest {
    /** The newest glibc symbol version the library may need: what libopenblas.so.0 of the preset needs. */
    static final int[] MAX_GLIBC = {2, 34};
    static final String LIBRARY = "org/adanewton/backend/cpu/linux-x86_64/libjniadanewton.so";

    static Path library;

    @BeforeAll
    static void find() throws URISyntaxException {
        URL url = NativeLinkageTest.class.getClassLoader().getResource(LIBRARY);
        assertNotNull(url, LIBRARY + " is not on the test class path: the javacpp build step did not run");
        assertEquals("file", url.getProtocol(), "expected the library in target/classes, not " + url);
        library = Path.of(url.toURI());
    }

    static String objdump(String flag) throws IOException, InterruptedException {
        Process p;
        try {
            p = new ProcessBuilder("objdump", flag, library.toString()).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new AssertionError("objdump (binutils) is needed to check the native library's linkage: " + e.getMessage(), e);
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "objdump " + flag + " did not finish");
        assertEquals(0, p.exitValue(), "objdump " + flag + " failed: " + out);
        return out;
    }

    static List<String> dynamicEntries(String tag, String dynamicSection) {
        List<String> values = new ArrayList<>();
        Matcher m = Pattern.compile("^\\s*" + tag + "\\s+(\\S+)\\s*$", Pattern.MULTILINE).matcher(dynamicSection);
        while (m.find()) values.add(m.group(1));
        return values;
    }

    @Test
    void linksTheBundledOpenBlasAndCarriesNoBuildPath() throws Exception {
        String headers = objdump("-p");
        List<String> needed = dynamicEntries("NEEDED", headers);
        assertTrue(needed.contains("libopenblas.so.0"), "NEEDED " + needed + " lacks the bundled OpenBLAS's soname libopenblas.so.0");
        for (String lib : needed)
            assertFalse(lib.matches("lib(c?blas|openblas)\\.so(\\.[0-9.]*)?") && !lib.equals("libopenblas.so.0"),
                    "NEEDED names another BLAS: " + lib);
        assertFalse(needed.stream().anyMatch(l -> l.startsWith("libstdc++")), "libstdc++ must be linked statically, NEEDED " + needed);
        assertEquals(List.of("$ORIGIN/"), dynamicEntries("RUNPATH", headers), "RUNPATH");
        assertEquals(List.of(), dynamicEntries("RPATH", headers), "RPATH");
    }

    @Test
    void needsNoGlibcNewerThanTheBundledOpenBlas() throws Exception {
        String symbols = objdump("-T");
        List<String> tooNew = new ArrayList<>();
        int count = 0;
        Matcher m = Pattern.compile("\\(GLIBC_(\\d+)\\.(\\d+)(?:\\.\\d+)?\\)\\s+(\\S+)").matcher(symbols);
        while (m.find()) {
            count++;
            int major = Integer.parseInt(m.group(1)), minor = Integer.parseInt(m.group(2));
            if (major > MAX_GLIBC[0] || (major == MAX_GLIBC[0] && minor > MAX_GLIBC[1])) tooNew.add(m.group(3) + "@GLIBC_" + major + "." + minor);
        }
        assertTrue(count > 10, "objdump -T listed " + count + " glibc symbols; the pattern no longer matches its output:\n" + symbols);
        assertEquals(List.of(), tooNew, "symbols needing a glibc newer than " + MAX_GLIBC[0] + "." + MAX_GLIBC[1]);
        Matcher cxx = Pattern.compile("\\((GLIBCXX|CXXABI)_[0-9.]+\\)\\s+(\\S+)").matcher(symbols);
        assertFalse(cxx.find(), () -> "a symbol from the system's libstdc++: " + cxx.group(0));
    }
}
