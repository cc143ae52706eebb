package org.adanewton.data;

import static org.adanewton.data.IdxFiles.*;
import static org.junit.jupiter.api.Assertions.*;

import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Locator precedence, no silent fallback, and the not-found messages. */
class DataLocatorTest {
    @TempDir
    Path tmp;

    private static Function<String, String> env(String value) {
        Map<String, String> m = value == null ? Map.of() : Map.of(DataLocator.ENV, value);
        return m::get;
    }

    private DataLocator locator(String envValue, Path... fallbacks) {
        List<DataLocator.Place> places = new java.util.ArrayList<>();
        for (int i = 0; i < fallbacks.length; i++) places.add(new DataLocator.Place("fallback " + i, fallbacks[i]));
        return new DataLocator(env(envValue), places, null);
    }

    @Test
    void explicitDirWinsOverEnvAndFallbacks() throws Exception {
        Path explicit = tmp.resolve("explicit"), fromEnv = tmp.resolve("env"), fallback = tmp.resolve("fallback");
        writeFashion(explicit, 11, 3);
        writeFashion(fromEnv, 12, 3);
        writeFashion(fallback, 13, 3);
        DataLocator loc = locator(fromEnv.toString(), fallback);
        DataLocator.Located a = loc.locateFashionMnist(explicit);
        assertEquals(11, a.train().size());
        assertEquals(3, a.test().size());
        assertEquals("--data: " + explicit.toAbsolutePath(), a.source());
        DataLocator.Located b = loc.locateFashionMnist(null);
        assertEquals(12, b.train().size());
        assertEquals(DataLocator.ENV + ": " + fromEnv.toAbsolutePath(), b.source());
        DataLocator.Located c = locator(null, fallback).locateFashionMnist(null);
        assertEquals(13, c.train().size());
        assertEquals("fallback 0: " + fallback.toAbsolutePath(), c.source());
        assertTrue(c.summary().contains(c.train().description()));
        assertEquals(12, locator("  ", fromEnv, fallback).locateFashionMnist(null).train().size(),
                "a blank variable counts as unset: the first fallback (12 samples) is used");
    }

    @Test
    void fallbacksAreTriedInOrderSkippingIncompleteOnes() throws Exception {
        Path incomplete = tmp.resolve("incomplete"), good = tmp.resolve("good");
        write(incomplete, DataLocator.TRAIN_IMAGES, images(2, 4, 3));
        writeFashion(good, 9, 2);
        DataLocator.Located l = locator(null, tmp.resolve("absent"), incomplete, good).locateFashionMnist(null);
        assertEquals(9, l.train().size());
        assertEquals("fallback 2: " + good.toAbsolutePath(), l.source());
    }

    @Test
    void explicitDirLackingFilesFailsWithoutFallingBack() throws Exception {
        Path explicit = tmp.resolve("explicit"), fallback = tmp.resolve("fallback");
        write(explicit, DataLocator.TRAIN_IMAGES + ".gz", gzip(images(2, 4, 3)));
        write(explicit, DataLocator.TEST_LABELS, labels(2));
        writeFashion(fallback, 5, 2);
        DataNotFoundException e = assertThrows(DataNotFoundException.class,
                () -> locator(null, fallback).locateFashionMnist(explicit));
        String m = e.getMessage();
        assertTrue(m.contains(explicit.toString()), m);
        assertTrue(m.contains("--data"), m);
        assertTrue(m.contains("train-labels-idx1-ubyte[.gz]") && m.contains("t10k-images-idx3-ubyte[.gz]"), m);
        assertFalse(m.contains("train-images-idx3-ubyte[.gz]") || m.contains("t10k-labels-idx1-ubyte[.gz]"), m);
        Path absent = tmp.resolve("does-not-exist");
        e = assertThrows(DataNotFoundException.class, () -> locator(null, fallback).locateFashionMnist(absent));
        assertTrue(e.getMessage().contains(absent + " does not exist"), e.getMessage());
    }

    @Test
    void envDirLackingFilesFailsWithoutFallingBack() throws Exception {
        Path fromEnv = Files.createDirectories(tmp.resolve("env")), fallback = tmp.resolve("fallback");
        writeFashion(fallback, 5, 2);
        DataNotFoundException e = assertThrows(DataNotFoundException.class,
                () -> locator(fromEnv.toString(), fallback).locateFashionMnist(null));
        assertTrue(e.getMessage().contains(DataLocator.ENV), e.getMessage());
        assertTrue(e.getMessage().contains(fromEnv.toString()), e.getMessage());
        for (String f : DataLocator.IDX_FILES) assertTrue(e.getMessage().contains(f + "[.gz]"), e.getMessage());
    }

    @Test
    void fashionMnistSubfolderOfTheDataDirIsAccepted() throws Exception {
        Path root = tmp.resolve("root");
        writeFashion(root.resolve("fashion-mnist"), 7, 2);
        DataLocator.Located l = locator(root.toString()).locateFashionMnist(null);
        assertEquals(7, l.train().size());
        assertTrue(l.train().name().startsWith("Fashion-MNIST"), l.train().name());
    }

    @Test
    void nothingFoundListsEveryPlace() throws Exception {
        Path a = tmp.resolve("a"), b = Files.createDirectories(tmp.resolve("b"));
        DataNotFoundException e = assertThrows(DataNotFoundException.class, () -> locator(null, a, b).locateFashionMnist(null));
        String m = e.getMessage();
        assertTrue(m.contains("--data DIR: not given"), m);
        assertTrue(m.contains(DataLocator.ENV + ": not set"), m);
        assertTrue(m.contains("fallback 0: " + a + " (no such directory)"), m);
        assertTrue(m.contains("fallback 1: " + b + " (missing "), m);
        DataLocator withClasspath = new DataLocator(env(null), List.of(), new URLClassLoader(new URL[0], null));
        e = assertThrows(DataNotFoundException.class, () -> withClasspath.locateFashionMnist(null));
        assertTrue(e.getMessage().contains("classpath"), e.getMessage());
    }

    @Test
    void classpathResourcesAreUsedLast() throws Exception {
        Path root = tmp.resolve("cp");
        writeFashion(root.resolve(DataLocator.RESOURCE_DIR), 6, 4);
        try (URLClassLoader cl = new URLClassLoader(new URL[] {root.toUri().toURL()}, null)) {
            DataLocator.Located l = new DataLocator(env(null), List.of(new DataLocator.Place("x", tmp.resolve("none"))), cl)
                    .locateFashionMnist(null);
            assertEquals(6, l.train().size());
            assertEquals(4, l.test().size());
            assertTrue(l.source().startsWith("bundled subset (classpath)"), l.source());
        }
    }

    @Test
    void testImagesOfAnotherShapeAreRefused() throws Exception {
        Path dir = tmp.resolve("shapes");
        writeFashion(dir, 5, 2);
        write(dir, DataLocator.TEST_IMAGES, images(2, 5, 3)); // 5x3 test images next to 4x3 training images
        DataFormatException e = assertThrows(DataFormatException.class, () -> locator(null).locateFashionMnist(dir));
        assertTrue(e.getMessage().contains(DataLocator.TEST_IMAGES) && e.getMessage().contains("one shape"), e.getMessage());
    }

    @Test
    void corruptFilesInAFallbackAreReportedNotSkipped() throws Exception {
        Path bad = tmp.resolve("bad"), good = tmp.resolve("good");
        writeFashion(bad, 5, 2);
        write(bad, DataLocator.TEST_LABELS, labels(3)); // 3 labels for 2 images
        writeFashion(good, 5, 2);
        DataFormatException e = assertThrows(DataFormatException.class, () -> locator(null, bad, good).locateFashionMnist(null));
        assertTrue(e.getMessage().contains("mismatch"), e.getMessage());
    }

    @Test
    void cifar10FromExplicitDirOrEnvAndItsSubfolder() throws Exception {
        Path root = tmp.resolve("root"), batches = root.resolve(DataLocator.CIFAR_SUBDIR);
        for (String f : Cifar10Reader.TRAIN_FILES) write(batches, f, cifar(2));
        write(batches, Cifar10Reader.TEST_FILE, cifar(3));
        DataLocator.Located l = locator(null).locateCifar10(root, false);
        assertEquals(10, l.train().size());
        assertEquals(3, l.test().size());
        assertEquals("--data: " + batches.toAbsolutePath(), l.source());
        DataLocator.Located e = locator(batches.toString()).locateCifar10(null, true);
        assertEquals(DataLocator.ENV + ": " + batches.toAbsolutePath(), e.source());
    }

    @Test
    void cifar10MissingSaysHowToGetIt() throws Exception {
        DataNotFoundException e = assertThrows(DataNotFoundException.class, () -> locator(null).locateCifar10(null, false));
        assertTrue(e.getMessage().startsWith("CIFAR-10 not found"), e.getMessage());
        assertTrue(e.getMessage().contains("binary version") && e.getMessage().contains("--data DIR"), e.getMessage());
        Path dir = tmp.resolve("partial");
        write(dir, "data_batch_1.bin", cifar(1));
        e = assertThrows(DataNotFoundException.class, () -> locator("/elsewhere").locateCifar10(dir, false));
        String m = e.getMessage();
        assertTrue(m.contains(dir.toString()) && m.contains("data_batch_2.bin") && m.contains("test_batch.bin"), m);
        assertFalse(m.contains("/elsewhere"), "the explicit directory is not silently replaced: " + m);
    }

    @Test
    void datasetNamesFollowTheDirectory() throws Exception {
        Path mnist = tmp.resolve("mnist"), other = tmp.resolve("digits");
        writeFashion(mnist, 3, 2);
        writeFashion(other, 3, 2);
        assertEquals("MNIST train", locator(null).locateFashionMnist(mnist).train().name());
        assertEquals("IDX data test", locator(null).locateFashionMnist(other).test().name());
    }
}
