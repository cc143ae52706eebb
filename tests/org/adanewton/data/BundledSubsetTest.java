package org.adanewton.data;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The bundled Fashion-MNIST subset (data/fashion-mnist-subset, made by data/make_subset.py):
 * present, loadable, 5,000 / 1,000 samples, 500 / 100 per class. Surefire runs in the
 * repository root, where the locator's working-directory rule finds it.
 */
class BundledSubsetTest {
    static final Path BUNDLED = Path.of(DataLocator.BUNDLED_DIR);

    private static DataLocator bundledOnly() {
        return new DataLocator(name -> null, List.of(new DataLocator.Place("bundled subset", BUNDLED)), null);
    }

    @Test
    void bundledSubsetLoadsAndIsStratified() throws Exception {
        assertTrue(Files.isDirectory(BUNDLED), "missing " + BUNDLED.toAbsolutePath() + ": run python3 data/make_subset.py");
        DataLocator.Located l = bundledOnly().locateFashionMnist(null);
        assertEquals(5000, l.train().size());
        assertEquals(1000, l.test().size());
        for (var d : List.of(l.train(), l.test())) {
            assertEquals("1x28x28", d.shape());
            assertEquals(784, d.inputDim());
            assertEquals(10, d.classes());
            float min = Float.POSITIVE_INFINITY, max = Float.NEGATIVE_INFINITY;
            for (float v : d.inputs()) {
                min = Math.min(min, v);
                max = Math.max(max, v);
            }
            assertTrue(min >= 0f && max <= 1f && max > 0.99f, "pixels in [0, 1]: min " + min + " max " + max);
        }
        int[] perTrain = new int[10], perTest = new int[10];
        java.util.Arrays.fill(perTrain, 500);
        java.util.Arrays.fill(perTest, 100);
        assertArrayEquals(perTrain, l.train().classCounts());
        assertArrayEquals(perTest, l.test().classCounts());
        assertEquals("Fashion-MNIST subset train (5000 samples, 1x28x28) from " + BUNDLED.toAbsolutePath().normalize(),
                l.train().description());
        assertTrue(l.source().startsWith("bundled subset: "), l.source());
    }

    @Test
    void defaultFallbacksFindTheBundledSubsetFromTheWorkingDirectory() throws Exception {
        List<DataLocator.Place> places = DataLocator.defaultFallbacks();
        assertEquals(DataLocator.DEBIAN_DIR, places.get(0).dir());
        assertTrue(places.stream().anyMatch(p -> p.dir().equals(BUNDLED.toAbsolutePath().normalize())), places.toString());
        // without Debian's directory the bundled subset is what the default rules find
        List<DataLocator.Place> noDebian = places.subList(1, places.size());
        DataLocator.Located l = new DataLocator(name -> null, noDebian, null).locateFashionMnist(null);
        assertEquals(5000, l.train().size());
        assertTrue(l.source().startsWith("bundled subset (working directory): "), l.source());
    }

    @Test
    void debianFullDataSetWhenInstalled() throws Exception {
        assumeTrue(Files.isDirectory(DataLocator.DEBIAN_DIR), "Debian's fashion-mnist package is not installed");
        DataLocator.Located l = new DataLocator(name -> null, DataLocator.defaultFallbacks(), null).locateFashionMnist(null);
        assertEquals(60000, l.train().size());
        assertEquals(10000, l.test().size());
        assertEquals("Fashion-MNIST train (60000 samples, 1x28x28) from /usr/share/datasets/fashion-mnist",
                l.train().description());
        assertEquals("Debian package fashion-mnist: /usr/share/datasets/fashion-mnist", l.source());
        Dataset train = l.train().subset(0, 50000), validation = l.train().subset(50000, 60000);
        assertEquals(50000, train.size());
        assertEquals(10000, validation.size());
        int[] counts = l.train().classCounts();
        for (int c : counts) assertEquals(6000, c);
    }
}
