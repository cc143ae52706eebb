package org.adanewton.examples;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import org.adanewton.minimizer.Minimizer;
import org.junit.jupiter.api.Test;

/**
 * What a project that depends on the library gets: the runtime artifacts Maven resolved (listed by
 * maven-dependency-plugin into target/runtime-dependencies.txt) are the library, JavaCPP, OpenBLAS
 * and Gson and nothing else; the library holds no CLI class and no data set.
 */
class DependencyTest {
    /** groupId:artifactId[:classifier] of every runtime artifact a user of the library may receive. */
    static final Set<String> ALLOWED = Set.of(
            "org.adanewton:adanewton",
            "org.bytedeco:javacpp", "org.bytedeco:javacpp:linux-x86_64",
            "org.bytedeco:openblas", "org.bytedeco:openblas:linux-x86_64",
            "com.google.code.gson:gson");

    /** The resolved runtime artifacts as groupId:artifactId[:classifier]. */
    static Set<String> resolved() throws IOException {
        Path list = Path.of(System.getProperty("dependencies.list", "target/runtime-dependencies.txt"));
        assertTrue(Files.exists(list), list + " is missing: run the tests through Maven (mvn verify)");
        Set<String> artifacts = new TreeSet<>();
        for (String line : Files.readAllLines(list)) {
            // "   group:artifact:jar[:classifier]:version:scope" (with outputScope; some versions append " -- module ...")
            String[] f = line.trim().split("\\s+")[0].split(":");
            if (f.length < 5 || !f[2].equals("jar")) continue;
            artifacts.add(f.length >= 6 ? f[0] + ":" + f[1] + ":" + f[3] : f[0] + ":" + f[1]);
        }
        return artifacts;
    }

    @Test
    void theLibraryBringsOnlyJavaCppOpenBlasAndGson() throws IOException {
        Set<String> artifacts = resolved();
        assertTrue(artifacts.contains("org.adanewton:adanewton"), "the list does not hold the library itself: " + artifacts);
        Set<String> extra = new TreeSet<>(artifacts);
        extra.removeAll(ALLOWED);
        assertEquals(Set.of(), extra, "runtime artifacts beyond JavaCPP, OpenBLAS and Gson");
    }

    @Test
    void theLibraryHoldsNoCliAndNoData() throws IOException, URISyntaxException {
        Path location = Path.of(Minimizer.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        List<String> entries = new ArrayList<>();
        if (Files.isDirectory(location)) { // mvn test in the reactor: the library's classes directory
            try (Stream<Path> files = Files.walk(location)) {
                files.filter(Files::isRegularFile).forEach(f -> entries.add(location.relativize(f).toString().replace('\\', '/')));
            }
        } else {
            try (JarFile jar = new JarFile(location.toFile())) {
                assertEquals("org.adanewton", jar.getManifest().getMainAttributes().getValue("Automatic-Module-Name"), "Automatic-Module-Name");
                for (Enumeration<java.util.jar.JarEntry> e = jar.entries(); e.hasMoreElements(); ) entries.add(e.nextElement().getName());
            }
            String base = location.getFileName().toString().replaceFirst("\\.jar$", "");
            for (String attached : List.of("-sources.jar", "-javadoc.jar"))
                assertTrue(Files.exists(location.resolveSibling(base + attached)), "no " + base + attached + " next to " + location);
        }
        assertTrue(entries.contains("org/adanewton/minimizer/Minimizer.class"), location + " is not the library: " + entries.size() + " entries");
        List<String> wrong = entries.stream()
                .filter(n -> n.startsWith("org/adanewton/cli/") || n.startsWith("adanewton-data/") || n.endsWith(".gz") || n.contains("idx"))
                .toList();
        assertEquals(List.of(), wrong, "CLI classes or data in the library " + location);
    }
}
