package org.adanewton.data;

import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;

/**
 * Finds and loads a data set, saying where it came from.
 *
 * <p><b>Fashion-MNIST (or MNIST)</b>, {@link #fashionMnist(Path)}: the four IDX files
 * {@code train-images-idx3-ubyte}, {@code train-labels-idx1-ubyte}, {@code t10k-images-idx3-ubyte},
 * {@code t10k-labels-idx1-ubyte} (each raw or with {@code .gz}) are looked for, in this order,
 * <ol>
 * <li>in the explicit directory ({@code --data DIR}), or its {@code fashion-mnist/} subfolder;</li>
 * <li>in the directory named by the environment variable {@value #ENV} (or its
 * {@code fashion-mnist/} subfolder);</li>
 * <li>in Debian's {@code /usr/share/datasets/fashion-mnist} (package {@code fashion-mnist});</li>
 * <li>in the bundled 5,000 / 1,000 sample subset {@value #BUNDLED_DIR}: relative to the working
 * directory, to the system property {@value #HOME_PROPERTY}, and to the running jar
 * ({@code <jar dir>/../data/fashion-mnist-subset});</li>
 * <li>as classpath resources under {@code /}{@value #RESOURCE_DIR} (the CLI's jar carries them; the
 * library's jar carries no data).</li>
 * </ol>
 * When a directory is given explicitly or by {@value #ENV} but lacks files, a
 * {@link DataNotFoundException} names the directory and the missing files: there is no silent
 * fallback. When nothing is found, the message lists every place looked at. A place that holds
 * all four files but whose files are corrupt fails with a {@link DataFormatException}.
 *
 * <p><b>CIFAR-10</b>, {@link #cifar10(Path, boolean)}: the binary batches ({@link Cifar10Reader})
 * in the explicit directory, else in {@value #ENV}; in the directory itself or its
 * {@code cifar-10-batches-bin/} subfolder.
 *
 * <p>The environment, the fallback directories and the class loader are injectable
 * ({@link #DataLocator(Function, List, ClassLoader)}) for tests; the static methods use the real
 * ones.
 *
 * <p>Thread safety: immutable (given a thread-safe environment lookup, as {@code System::getenv}
 * is): safe to share between threads; every call reads the files anew.
 */
public final class DataLocator {
    /** Environment variable naming a data directory. */
    public static final String ENV = "ADANEWTON_DATA";
    /** Where Debian's {@code fashion-mnist} package installs the data set. */
    public static final Path DEBIAN_DIR = Path.of("/usr/share/datasets/fashion-mnist");
    /** The bundled subset, relative to the repository root. */
    public static final String BUNDLED_DIR = "data/fashion-mnist-subset";
    /** System property naming the repository (installation) root. */
    public static final String HOME_PROPERTY = "adanewton.home";
    /** Classpath folder (no leading slash) where the bundled subset may be packaged as resources. */
    public static final String RESOURCE_DIR = "adanewton-data/fashion-mnist-subset/";
    /** Subfolder of an explicit or {@value #ENV} directory also searched for Fashion-MNIST. */
    public static final String FASHION_SUBDIR = "fashion-mnist";
    /** Subfolder of an explicit or {@value #ENV} directory also searched for CIFAR-10. */
    public static final String CIFAR_SUBDIR = "cifar-10-batches-bin";
    public static final String TRAIN_IMAGES = "train-images-idx3-ubyte";
    public static final String TRAIN_LABELS = "train-labels-idx1-ubyte";
    public static final String TEST_IMAGES = "t10k-images-idx3-ubyte";
    public static final String TEST_LABELS = "t10k-labels-idx1-ubyte";
    /** The four IDX file names, each accepted raw or with the suffix {@code .gz}. */
    public static final List<String> IDX_FILES = List.of(TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS);
    public static final String CIFAR_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz";

    /**
     * A loaded data set: training and test parts, and which rule found them with the path
     * (e.g. "Debian package fashion-mnist: /usr/share/datasets/fashion-mnist"), for printing.
     */
    public record Located(Dataset train, Dataset test, String source) {
        /** Three lines: the source, then the training set and the test set, indented. */
        public String summary() {
            return source + "\n  train: " + train.description() + "\n  test:  " + test.description();
        }
    }

    /** A fallback directory and the rule it stands for, e.g. ("bundled subset (working directory)", DIR). */
    public record Place(String rule, Path dir) {
        public Place {
            Objects.requireNonNull(rule, "rule");
            Objects.requireNonNull(dir, "dir");
        }
    }

    private final Function<String, String> env;
    private final List<Place> fallbacks;
    private final ClassLoader resources;

    /** The real environment, {@link #defaultFallbacks()} and this class's class loader. */
    public DataLocator() {
        this(System::getenv, defaultFallbacks(), DataLocator.class.getClassLoader());
    }

    /**
     * @param env       environment lookup (e.g. {@code System::getenv}); returns null when unset
     * @param fallbacks directories searched, in order, after the explicit directory and {@value #ENV}
     * @param resources class loader searched last for {@value #RESOURCE_DIR}, or null for none
     */
    public DataLocator(Function<String, String> env, List<Place> fallbacks, ClassLoader resources) {
        this.env = Objects.requireNonNull(env, "env");
        this.fallbacks = List.copyOf(fallbacks);
        this.resources = resources;
    }

    /**
     * Debian's directory, then the bundled subset relative to the working directory, to
     * {@value #HOME_PROPERTY} (when set) and to the running jar (or classes directory), without
     * duplicates.
     */
    public static List<Place> defaultFallbacks() {
        List<Place> places = new ArrayList<>();
        places.add(new Place("Debian package fashion-mnist", DEBIAN_DIR));
        places.add(new Place("bundled subset (working directory)", Path.of(BUNDLED_DIR).toAbsolutePath().normalize()));
        String home = System.getProperty(HOME_PROPERTY);
        if (home != null && !home.isBlank())
            places.add(new Place("bundled subset (" + HOME_PROPERTY + ")",
                    Path.of(home).resolve(BUNDLED_DIR).toAbsolutePath().normalize()));
        Path code = codeLocation();
        if (code != null && code.getParent() != null)
            places.add(new Place("bundled subset (next to " + code.getFileName() + ")",
                    code.getParent().resolve("..").resolve(BUNDLED_DIR).normalize()));
        Set<Path> seen = new LinkedHashSet<>();
        places.removeIf(p -> !seen.add(p.dir()));
        return places;
    }

    /** The jar (or classes directory) this class was loaded from, or null. */
    private static Path codeLocation() {
        try {
            var cs = DataLocator.class.getProtectionDomain().getCodeSource();
            if (cs == null || cs.getLocation() == null) return null;
            return Path.of(cs.getLocation().toURI()).toAbsolutePath().normalize();
        } catch (Exception e) { // SecurityException, URISyntaxException, a non-file URL
            return null;
        }
    }

    /** Fashion-MNIST (or MNIST) with the real environment and fallbacks; {@code explicitDir} may be null. */
    public static Located fashionMnist(Path explicitDir) throws IOException {
        return new DataLocator().locateFashionMnist(explicitDir);
    }

    /** CIFAR-10 (binary version) from {@code dir} or {@value #ENV}; {@code dir} may be null. */
    public static Located cifar10(Path dir, boolean scale) throws IOException {
        return new DataLocator().locateCifar10(dir, scale);
    }

    /**
     * Fashion-MNIST (or MNIST) by the rules in the class description.
     *
     * @param explicitDir the {@code --data} directory, or null
     * @throws DataNotFoundException if an explicit or {@value #ENV} directory lacks the files, or
     *                               nothing is found anywhere (the message lists every place)
     * @throws DataFormatException   if the files found are corrupt
     */
    public Located locateFashionMnist(Path explicitDir) throws IOException {
        if (explicitDir != null) return loadRequired("--data", explicitDir);
        String fromEnv = env.apply(ENV);
        if (fromEnv != null && !fromEnv.isBlank()) return loadRequired(ENV, Path.of(fromEnv));
        List<String> looked = new ArrayList<>();
        looked.add("--data DIR: not given");
        looked.add(ENV + ": not set");
        for (Place p : fallbacks) {
            Path dir = p.dir();
            if (!Files.isDirectory(dir)) {
                looked.add(p.rule() + ": " + dir + " (no such directory)");
                continue;
            }
            List<String> missing = new ArrayList<>();
            List<Path> files = idxFiles(dir, missing);
            if (missing.isEmpty()) return load(p.rule(), dir, files, isBundled(p) ? "Fashion-MNIST subset" : null);
            looked.add(p.rule() + ": " + dir + " (missing " + String.join(", ", missing) + ")");
        }
        if (resources != null) {
            Located fromClasspath = loadResources(looked);
            if (fromClasspath != null) return fromClasspath;
        }
        throw new DataNotFoundException("Fashion-MNIST not found. Looked at:\n  - " + String.join("\n  - ", looked)
                + "\nPass --data DIR or set " + ENV + " to a directory holding " + fileList() + " (each raw or .gz).");
    }

    /**
     * CIFAR-10 from {@code dir} (if not null) or else {@value #ENV}: the directory itself or its
     * {@value #CIFAR_SUBDIR} subfolder must hold the 5 training batches and the test batch.
     *
     * @throws DataNotFoundException if neither is given or the batches are missing (names them)
     */
    public Located locateCifar10(Path dir, boolean scale) throws IOException {
        String rule = "--data";
        Path base = dir;
        if (base == null) {
            String fromEnv = env.apply(ENV);
            if (fromEnv == null || fromEnv.isBlank())
                throw new DataNotFoundException("CIFAR-10 not found: download the binary version (" + CIFAR_URL
                        + "), extract it, and pass --data DIR (or set " + ENV + "); neither was given");
            rule = ENV;
            base = Path.of(fromEnv);
        }
        List<String> names = new ArrayList<>(Cifar10Reader.TRAIN_FILES);
        names.add(Cifar10Reader.TEST_FILE);
        Path sub = base.resolve(CIFAR_SUBDIR);
        List<String> missingBase = missing(base, names), missingSub = missing(sub, names);
        Path found = missingBase.isEmpty() ? base : missingSub.isEmpty() ? sub : null;
        if (found == null) {
            boolean reportSub = missingSub.size() < missingBase.size();
            throw new DataNotFoundException("CIFAR-10 not found in " + rule + " directory " + base
                    + (Files.isDirectory(base) ? "" : " (no such directory)") + ": missing "
                    + String.join(", ", reportSub ? missingSub : missingBase) + " in " + (reportSub ? sub : base)
                    + " (looked in " + base + " and " + sub + "). Download the binary version (" + CIFAR_URL
                    + "), extract it, and pass --data DIR");
        }
        Dataset train = Cifar10Reader.readTrain(found, scale);
        Dataset test = Cifar10Reader.readTest(found, scale);
        return new Located(train, test, rule + ": " + found.toAbsolutePath());
    }

    private static List<String> missing(Path dir, List<String> names) {
        List<String> out = new ArrayList<>();
        for (String n : names) if (!Files.isRegularFile(dir.resolve(n))) out.add(n);
        return out;
    }

    /** The explicit or environment directory (or its fashion-mnist/ subfolder): no fallback if incomplete. */
    private Located loadRequired(String rule, Path dir) throws IOException {
        if (!Files.isDirectory(dir))
            throw new DataNotFoundException("Fashion-MNIST not found: the " + rule + " directory " + dir
                    + " does not exist (it should hold " + fileList() + ", each raw or .gz)");
        List<String> missing = new ArrayList<>();
        List<Path> files = idxFiles(dir, missing);
        if (missing.isEmpty()) return load(rule, dir, files, null);
        Path sub = dir.resolve(FASHION_SUBDIR);
        if (Files.isDirectory(sub)) {
            List<String> missingSub = new ArrayList<>();
            List<Path> subFiles = idxFiles(sub, missingSub);
            if (missingSub.isEmpty()) return load(rule, sub, subFiles, null);
        }
        throw new DataNotFoundException("Fashion-MNIST not found in the " + rule + " directory " + dir + ": missing "
                + String.join(", ", missing) + " (each raw or .gz; also looked in " + sub + ")");
    }

    /** The four files of dir (raw preferred over .gz); adds "name[.gz]" to missing for each absent one. */
    private static List<Path> idxFiles(Path dir, List<String> missing) {
        List<Path> files = new ArrayList<>();
        for (String name : IDX_FILES) {
            Path raw = dir.resolve(name), gz = dir.resolve(name + ".gz");
            if (Files.isRegularFile(raw)) files.add(raw);
            else if (Files.isRegularFile(gz)) files.add(gz);
            else missing.add(name + "[.gz]");
        }
        return files;
    }

    private static String fileList() {
        return String.join(", ", IDX_FILES);
    }

    private static boolean isBundled(Place p) {
        return p.dir().normalize().endsWith(Path.of(BUNDLED_DIR));
    }

    private static Located load(String rule, Path dir, List<Path> files, String name) throws IOException {
        String base = name != null ? name : nameFor(dir);
        Dataset train = IdxReader.read(files.get(0), files.get(1), base + " train");
        Dataset test = IdxReader.read(files.get(2), files.get(3), base + " test");
        if (test.channels() != train.channels() || test.height() != train.height() || test.width() != train.width())
            throw new DataFormatException(files.get(2).toString(), -1, "the test images are " + test.shape() + " but the training images ("
                    + files.get(0) + ") are " + train.shape() + "; both sets must have one shape");
        return new Located(train, test, rule + ": " + dir.toAbsolutePath().normalize());
    }

    /** "Fashion-MNIST" or "MNIST" from the directory's path, else the neutral "IDX data". */
    private static String nameFor(Path dir) {
        String p = dir.toAbsolutePath().toString().toLowerCase(Locale.ROOT);
        return p.contains("fashion") ? "Fashion-MNIST" : p.contains("mnist") ? "MNIST" : "IDX data";
    }

    /** The subset packaged as classpath resources, or null (noting the absence in looked). */
    private Located loadResources(List<String> looked) throws IOException {
        List<String> names = new ArrayList<>(), missing = new ArrayList<>();
        for (String n : IDX_FILES) {
            if (resources.getResource(RESOURCE_DIR + n) != null) names.add(RESOURCE_DIR + n);
            else if (resources.getResource(RESOURCE_DIR + n + ".gz") != null) names.add(RESOURCE_DIR + n + ".gz");
            else missing.add(n + "[.gz]");
        }
        if (!missing.isEmpty()) {
            looked.add("bundled subset (classpath): /" + RESOURCE_DIR + (missing.size() == IDX_FILES.size()
                    ? " (absent)" : " (missing " + String.join(", ", missing) + ")"));
            return null;
        }
        String source = "classpath:/" + RESOURCE_DIR;
        IdxReader.Images trainImages = resourceImages(names.get(0));
        int[] trainLabels = resourceLabels(names.get(1));
        IdxReader.Images testImages = resourceImages(names.get(2));
        int[] testLabels = resourceLabels(names.get(3));
        Dataset train = IdxReader.dataset(trainImages, "classpath:/" + names.get(0), trainLabels,
                "classpath:/" + names.get(1), "Fashion-MNIST subset train", source);
        Dataset test = IdxReader.dataset(testImages, "classpath:/" + names.get(2), testLabels,
                "classpath:/" + names.get(3), "Fashion-MNIST subset test", source);
        return new Located(train, test, "bundled subset (classpath): " + source);
    }

    private IdxReader.Images resourceImages(String name) throws IOException {
        try (InputStream in = open(name)) {
            return IdxReader.readImages(in, "classpath:/" + name, -1);
        }
    }

    private int[] resourceLabels(String name) throws IOException {
        try (InputStream in = open(name)) {
            return IdxReader.readLabels(in, "classpath:/" + name, -1);
        }
    }

    private InputStream open(String name) throws IOException {
        URL url = resources.getResource(name);
        if (url == null) throw new DataNotFoundException("classpath resource /" + name + " disappeared");
        return url.openStream();
    }
}
