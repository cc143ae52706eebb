package org.adanewton;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The packages of the library (java/), the ONNX import (onnx/java/) and the CLI (cli/java/) point
 * one way: the graph built from every reference to an org.adanewton package in code (imports,
 * static imports and fully qualified names; comments and string literals ignored) has no cycle,
 * and each package uses only the packages below it in {@link #ALLOWED}.
 */
class PackageGraphTest {

    /**
     * The intended layering, lowest first: what each package may use. cli -> train -> minimizer ->
     * {subproblem, norm} -> api -> backend -> nn, with the backends' implementations beside api and
     * the selection (select) above them; the ONNX import (onnx, its own module) uses nn only, and
     * the cli uses it.
     */
    static final Map<String, Set<String>> ALLOWED = new TreeMap<>(Map.ofEntries(
            Map.entry("nn", Set.of()),
            Map.entry("data", Set.of()),
            Map.entry("backend", Set.of("nn")),
            Map.entry("backend.java", Set.of("backend", "nn")),
            Map.entry("backend.cpu", Set.of("backend", "nn")),
            Map.entry("backend.cuda", Set.of("backend", "backend.cpu", "nn")),
            Map.entry("api", Set.of("backend")),
            Map.entry("problems", Set.of("api")),
            Map.entry("norm", Set.of("api", "backend")),
            Map.entry("subproblem", Set.of("api", "backend")),
            Map.entry("select", Set.of("api", "backend", "backend.java", "backend.cpu", "backend.cuda", "nn", "subproblem")),
            Map.entry("minimizer", Set.of("api", "backend", "backend.java", "nn", "norm", "subproblem")),
            Map.entry("train", Set.of("api", "backend", "data", "minimizer", "nn", "norm", "subproblem", "select")),
            Map.entry("onnx", Set.of("nn")),
            Map.entry("cli", Set.of("api", "backend", "backend.cuda", "data", "minimizer", "nn", "norm", "onnx", "problems", "select", "subproblem",
                    "train"))));

    private static final Pattern PACKAGE = Pattern.compile("^package org\\.adanewton\\.([a-z]\\w*(?:\\.[a-z]\\w*)*);", Pattern.MULTILINE);
    /** A reference to a type (or a static member's type) of an org.adanewton package. */
    private static final Pattern REFERENCE = Pattern.compile("\\borg\\.adanewton\\.([a-z]\\w*(?:\\.[a-z]\\w*)*)\\.(?:[A-Z]|\\*)");
    /** Comments, string and character literals (which may name packages without using them). */
    private static final Pattern NOT_CODE = Pattern.compile("/\\*.*?\\*/|//[^\\n]*|\"(?:\\\\.|[^\"\\\\])*\"|'(?:\\\\.|[^'\\\\])*'", Pattern.DOTALL);

    /** package -> packages it refers to, and for each edge one file that makes it. */
    static Map<String, Set<String>> graph;
    static Map<String, String> witness;

    @BeforeAll
    static void scan() throws IOException {
        Path root = repositoryRoot();
        graph = new TreeMap<>();
        witness = new HashMap<>();
        int files = 0;
        for (Path dir : List.of(root.resolve("java"), root.resolve("onnx/java"), root.resolve("cli/java"))) {
            assertTrue(Files.isDirectory(dir), dir + " is missing");
            try (Stream<Path> paths = Files.walk(dir)) {
                for (Path file : (Iterable<Path>) paths.filter(p -> p.toString().endsWith(".java"))::iterator) {
                    files++;
                    addFile(root.relativize(file).toString(), Files.readString(file, StandardCharsets.UTF_8), graph, witness);
                }
            }
        }
        assertTrue(files > 50, "only " + files + " source files found under " + root);
    }

    /** Walks up from the working directory (core/ under Maven) to the directory that holds java/org/adanewton. */
    static Path repositoryRoot() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent())
            if (Files.isDirectory(p.resolve("java/org/adanewton")) && Files.isDirectory(p.resolve("cli/java"))) return p;
        throw new AssertionError("no java/org/adanewton above " + Path.of("").toAbsolutePath());
    }

    /** Adds one source file's package and the packages its code refers to. */
    static void addFile(String name, String source, Map<String, Set<String>> graph, Map<String, String> witness) {
        Matcher pm = PACKAGE.matcher(source);
        assertTrue(pm.find(), name + " has no org.adanewton package line");
        String from = pm.group(1);
        Set<String> to = graph.computeIfAbsent(from, k -> new TreeSet<>());
        Matcher m = REFERENCE.matcher(NOT_CODE.matcher(source).replaceAll(" "));
        while (m.find()) {
            String target = m.group(1);
            if (target.equals(from)) continue;
            to.add(target);
            witness.putIfAbsent(from + " -> " + target, name);
        }
    }

    /** The strongly connected components with more than one package (Tarjan), each sorted. */
    static List<List<String>> cycles(Map<String, Set<String>> graph) {
        Map<String, Integer> index = new HashMap<>(), low = new HashMap<>();
        Deque<String> stack = new ArrayDeque<>();
        Set<String> onStack = new TreeSet<>();
        List<List<String>> out = new ArrayList<>();
        int[] counter = {0};
        for (String v : new TreeSet<>(graph.keySet()))
            if (!index.containsKey(v)) strongConnect(v, graph, index, low, stack, onStack, out, counter);
        return out;
    }

    private static void strongConnect(String v, Map<String, Set<String>> graph, Map<String, Integer> index, Map<String, Integer> low,
            Deque<String> stack, Set<String> onStack, List<List<String>> out, int[] counter) {
        index.put(v, counter[0]);
        low.put(v, counter[0]++);
        stack.push(v);
        onStack.add(v);
        for (String w : graph.getOrDefault(v, Set.of())) {
            if (!index.containsKey(w)) {
                strongConnect(w, graph, index, low, stack, onStack, out, counter);
                low.put(v, Math.min(low.get(v), low.get(w)));
            } else if (onStack.contains(w)) {
                low.put(v, Math.min(low.get(v), index.get(w)));
            }
        }
        if (low.get(v).equals(index.get(v))) {
            List<String> component = new ArrayList<>();
            String w;
            do {
                w = stack.pop();
                onStack.remove(w);
                component.add(w);
            } while (!w.equals(v));
            if (component.size() > 1) {
                component.sort(null);
                out.add(component);
            }
        }
    }

    /** One cycle inside a component, as "a -> b -> ... -> a" (breadth-first from its first package back to it). */
    static String cycleThrough(List<String> component, Map<String, Set<String>> graph) {
        String start = component.get(0);
        Map<String, String> parent = new HashMap<>();
        Deque<String> queue = new ArrayDeque<>(List.of(start));
        while (!queue.isEmpty()) {
            String v = queue.poll();
            for (String w : graph.getOrDefault(v, Set.of())) {
                if (!component.contains(w)) continue;
                if (w.equals(start)) {
                    List<String> path = new ArrayList<>(List.of(start));
                    for (String u = v; u != null; u = parent.get(u)) path.add(0, u);
                    return String.join(" -> ", path);
                }
                if (!parent.containsKey(w) && !w.equals(start)) {
                    parent.put(w, v);
                    queue.add(w);
                }
            }
        }
        throw new AssertionError("no cycle in component " + component);
    }

    /** The failure message for the cycles of a graph, or null when it has none. */
    static String describeCycles(Map<String, Set<String>> graph, Map<String, String> witness) {
        List<List<String>> cycles = cycles(graph);
        if (cycles.isEmpty()) return null;
        StringBuilder b = new StringBuilder("package cycles:");
        for (List<String> c : cycles) {
            String cycle = cycleThrough(c, graph);
            b.append("\n  ").append(cycle).append("  (component ").append(c).append(")");
            String[] hop = cycle.split(" -> ");
            for (int i = 0; i + 1 < hop.length; i++)
                b.append("\n    ").append(hop[i]).append(" -> ").append(hop[i + 1]).append(" in ").append(witness.get(hop[i] + " -> " + hop[i + 1]));
        }
        return b.toString();
    }

    @Test
    void noPackageCycle() {
        String cycles = describeCycles(graph, witness);
        assertNull(cycles, cycles);
    }

    @Test
    void everyPackageUsesOnlyThoseBelowIt() {
        List<String> wrong = new ArrayList<>();
        for (Map.Entry<String, Set<String>> e : graph.entrySet()) {
            Set<String> allowed = ALLOWED.get(e.getKey());
            if (allowed == null) {
                wrong.add("org.adanewton." + e.getKey() + " is not placed in the layering (PackageGraphTest.ALLOWED)");
                continue;
            }
            for (String target : e.getValue())
                if (!allowed.contains(target))
                    wrong.add(e.getKey() + " -> " + target + " (in " + witness.get(e.getKey() + " -> " + target) + ")");
        }
        assertEquals(List.of(), wrong, "references against the layering");
        assertEquals(ALLOWED.keySet(), graph.keySet(), "the layering names exactly the packages that exist");
    }

    @Test
    void theLayeringItselfHasNoCycleAndKeepsTheNamedDirections() {
        assertNull(describeCycles(ALLOWED, Map.of()));
        assertEquals(Set.of(), ALLOWED.get("nn"), "nn (the network description) depends on nothing");
        assertEquals(Set.of("backend"), ALLOWED.get("api"), "api depends only on the vector layer");
        for (String p : List.of("nn", "backend", "backend.java", "backend.cpu", "backend.cuda", "api", "norm", "subproblem", "minimizer"))
            for (String above : List.of("train", "cli", "select"))
                assertFalse(ALLOWED.get(p).contains(above), p + " must not use " + above);
        for (String p : List.of("nn", "backend", "api", "norm", "subproblem"))
            assertFalse(ALLOWED.get(p).contains("minimizer"), p + " must not use minimizer");
        assertFalse(ALLOWED.get("backend.cpu").contains("backend.cuda"), "the CPU backend does not know CUDA");
    }

    @Test
    void theCycleFinderFindsACycleAndNamesIt() {
        Map<String, Set<String>> g = new TreeMap<>();
        Map<String, String> w = new HashMap<>();
        addFile("a/X.java", "package org.adanewton.a;\nimport org.adanewton.b.Y;\nclass X {}", g, w);
        addFile("b/Y.java", "package org.adanewton.b;\nclass Y { org.adanewton.c.Z z; }", g, w);
        addFile("c/Z.java", "package org.adanewton.c;\nimport static org.adanewton.a.X.run;\nclass Z {}", g, w);
        addFile("d/W.java", "package org.adanewton.d;\n// org.adanewton.a.X in a comment\nclass W { String s = \"org.adanewton.a.X\"; }", g, w);
        assertEquals(Set.of("b"), g.get("a"));
        assertEquals(Set.of("c"), g.get("b"), "a fully qualified name is a reference");
        assertEquals(Set.of("a"), g.get("c"), "a static import is a reference");
        assertEquals(Set.of(), g.get("d"), "comments and strings are not references");
        assertEquals(List.of(List.of("a", "b", "c")), cycles(g));
        String message = describeCycles(g, w);
        assertNotNull(message);
        assertTrue(message.contains("a -> b -> c -> a") && message.contains("c -> a in c/Z.java"), message);
        g.get("c").clear();
        assertNull(describeCycles(g, w), "without the back edge the graph is acyclic");
        g.get("a").add("a2");
        g.put("a2", new TreeSet<>(Set.of("a")));
        assertEquals(List.of(List.of("a", "a2")), cycles(g), "a two-package cycle");
    }
}
