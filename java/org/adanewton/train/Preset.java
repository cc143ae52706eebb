package org.adanewton.train;

import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.adanewton.minimizer.FirstOrderOptions;
import org.adanewton.minimizer.TrustRegionPolicy;
import org.adanewton.nn.Loss;
import org.adanewton.nn.Network;
import org.adanewton.nn.Regularization;
import org.adanewton.norm.NormKind;
import org.adanewton.subproblem.KrylovOptions;

/**
 * The paper's experiment settings (Kohler et al., arXiv 1905.09201, and the authors' configs): network, data,
 * trust-region constants per norm, batch sizes, pivot safeguard, warm start, first-order learning
 * rates; and, beside them, cifar-resnet20 (He et al.'s ResNet-20, not from the paper). Every value
 * can be overridden by a flag of `train` / `compare`.
 *
 * <p>Thread safety: immutable (its maps and list are unmodifiable copies): safe to share between
 * threads.
 *
 * @param trainSamples  training samples used (the paper: 50,000 for classifiers)
 * @param trustRegion   Delta0, Dmax, eta1, eta2, gammaInc, gammaDec per norm
 * @param eps           the norms' eps
 * @param trBatch       second-order batch size
 * @param pivotEvery    pivot safeguard period in epochs (0: off)
 * @param pivotGrowth   batch growth factor at a failed pivot
 * @param pivotCap      batch cap as a fraction of the training set
 * @param warmEpochs    first-order warm-start epochs (the authors' "0" means one epoch)
 * @param warmStart     the warm-start optimizer
 * @param firstOrderLr  learning rates of the first-order baselines
 * @param firstOrderBatch batch size of the first-order baselines
 * @param compareMethods the methods `compare` runs by default
 * @param krylov        the second-order methods' Krylov settings (the paper's: at most 50 iterations,
 *                      tolerance 0.1, the model-decrease rule)
 */
public record Preset(String name, String description, String dataset, Network network, int trainSamples, Map<NormKind, TrustRegionPolicy> trustRegion,
        double eps, int trBatch, double pivotEvery, double pivotGrowth, double pivotCap, int warmEpochs, FirstOrderOptions warmStart,
        Map<FirstOrderOptions.Kind, Double> firstOrderLr, int firstOrderBatch, List<String> compareMethods, KrylovOptions krylov) {

    public Preset {
        trustRegion = Collections.unmodifiableMap(new EnumMap<>(trustRegion));
        firstOrderLr = Collections.unmodifiableMap(new LinkedHashMap<>(firstOrderLr));
        compareMethods = List.copyOf(compareMethods);
        if (krylov == null) throw new IllegalArgumentException("krylov is null");
    }

    /** A preset with the paper's Krylov settings ({@link KrylovOptions#PAPER}). */
    public Preset(String name, String description, String dataset, Network network, int trainSamples, Map<NormKind, TrustRegionPolicy> trustRegion,
            double eps, int trBatch, double pivotEvery, double pivotGrowth, double pivotCap, int warmEpochs, FirstOrderOptions warmStart,
            Map<FirstOrderOptions.Kind, Double> firstOrderLr, int firstOrderBatch, List<String> compareMethods) {
        this(name, description, dataset, network, trainSamples, trustRegion, eps, trBatch, pivotEvery, pivotGrowth, pivotCap, warmEpochs, warmStart,
                firstOrderLr, firstOrderBatch, compareMethods, KrylovOptions.PAPER);
    }

    /** CG iterations per step of {@code fmnist-mlp-fast}. */
    public static final int FAST_MAX_KRYLOV = 4;

    /**
     * fmnist-mlp with at most {@value #FAST_MAX_KRYLOV} CG iterations per step instead of 50 (not
     * from the paper): on Debian's full Fashion-MNIST, 2 threads, TR-RMSProp reached log loss -3.2
     * in one epoch fewer and about 20% less training time than the paper preset (the README's "Time
     * to accuracy"; one seed); 2 CG iterations were slower (log loss -2.48 after 120 epochs).
     */
    private static Preset fast() {
        Preset b = get("fmnist-mlp");
        return new Preset("fmnist-mlp-fast", b.description() + " with at most " + FAST_MAX_KRYLOV + " CG iterations per step (not from the paper)",
                b.dataset(), b.network(), b.trainSamples(), b.trustRegion(), b.eps(), b.trBatch(), b.pivotEvery(), b.pivotGrowth(), b.pivotCap(),
                b.warmEpochs(), b.warmStart(), b.firstOrderLr(), b.firstOrderBatch(), b.compareMethods(),
                b.krylov().toBuilder().maxIterations(FAST_MAX_KRYLOV).build());
    }

    public static final List<String> NAMES = List.of("fmnist-mlp", "mnist-mlp", "cifar-mlp", "fmnist-conv", "mnist-conv", "cifar-conv", "fmnist-ae",
            "mnist-ae", "cifar-resnet20", "fmnist-mlp-fast");

    /** The (F)MNIST ConvNet: conv5x5 1->20, maxpool2, conv5x5 20->50, maxpool2, fc 800->500, fc 500->10, ReLU; 431,080 parameters. */
    static Network mnistConvNet() {
        return Network.builder(1, 28, 28).conv2d(1, 20, 5).relu().maxPool2d(2).conv2d(20, 50, 5).relu().maxPool2d(2).flatten().dense(500).relu()
                .dense(10).loss(Loss.SOFTMAX_CROSS_ENTROPY).regularization(Regularization.norm(1e-4)).build();
    }

    /** The CIFAR ConvNet: conv5 3->6, pool, conv5 6->16, pool, fc 400->120->84->10, softplus; 62,006 parameters. */
    static Network cifarConvNet() {
        return Network.builder(3, 32, 32).conv2d(3, 6, 5).softplus().maxPool2d(2).conv2d(6, 16, 5).softplus().maxPool2d(2).flatten().dense(120)
                .softplus().dense(84).softplus().dense(10).loss(Loss.SOFTMAX_CROSS_ENTROPY).regularization(Regularization.norm(1e-4)).build();
    }

    /**
     * ResNet-20 for CIFAR-10 (He et al. 2016, arXiv 1512.03385, section 4.2): conv3x3 3->16 without
     * bias, batch norm, ReLU; three stages of three basic blocks (conv3x3, batch norm, ReLU, conv3x3,
     * batch norm, plus the shortcut, then ReLU) with 16, 32 and 64 channels; the first block of
     * stages 2 and 3 has stride 2 and a projection shortcut (conv1x1 without bias, batch norm);
     * global average pooling; dense 64->10. The modules are named as in the common PyTorch
     * implementation (conv1, bn1, layer1.0.conv1, layer1.0.bn1, ..., layer2.0.shortcut.0,
     * layer2.0.shortcut.1, linear; its shortcut option 'B'), so its state_dict loads either way;
     * 272,474 parameters; squared L2 1e-4 (He et al.'s weight decay).
     */
    static Network resnet20() {
        Network.Builder b = Network.builder(3, 32, 32).conv2d(3, 16, 3, 1, 1, false).module("conv1").batchNorm().module("bn1").relu();
        int in = 16;
        for (int stage = 1; stage <= 3; stage++) {
            int c = 16 << (stage - 1);
            for (int block = 0; block < 3; block++) {
                int stride = stage > 1 && block == 0 ? 2 : 1;
                String m = "layer" + stage + "." + block, x = m + ".in";
                b.save(x).conv2d(in, c, 3, stride, 1, false).module(m + ".conv1").batchNorm().module(m + ".bn1").relu()
                        .conv2d(c, c, 3, 1, 1, false).module(m + ".conv2").batchNorm().module(m + ".bn2");
                if (stride != 1 || in != c) {
                    String main = m + ".main";
                    b.save(main).from(x).conv2d(in, c, 1, stride, 0, false).module(m + ".shortcut.0").batchNorm().module(m + ".shortcut.1").add(main);
                } else {
                    b.add(x);
                }
                b.relu();
                in = c;
            }
        }
        return b.globalAvgPool().dense(10).module("linear").loss(Loss.SOFTMAX_CROSS_ENTROPY).regularization(Regularization.squared(1e-4)).build();
    }

    /**
     * cifar-resnet20 (not from the paper): the TR constants of cifar-conv, the TR batch 512, the
     * pivot every 10 epochs, one warm-start epoch of Adam (lr 1e-3); the first-order baselines at
     * batch 128 with SGD lr 0.1 (no momentum: the baselines are plain), Adam and AdamW 1e-3.
     */
    private static Preset resnet20Preset() {
        return new Preset("cifar-resnet20", "CIFAR-10 ResNet-20 (He et al. 2016, arXiv 1512.03385; batch norm, projection shortcuts; raw pixels as "
                + "cifar-conv; not from arXiv 1905.09201)", "cifar-10", resnet20(), 50_000, cifarTrustRegion(), 1e-10, 512, 10, 1.05, 0.2, 1,
                FirstOrderOptions.of(FirstOrderOptions.Kind.ADAM, 1e-3), learningRates(0.1, 0.01, 1e-3, 1e-3), 128,
                List.of("tr-uniform", "tr-adagrad", "tr-rmsprop", "sgd", "adagrad", "rmsprop", "adam"));
    }

    /** The ConvNet presets (arXiv 1905.09201). */
    private static Preset convNet(String name) {
        Map<FirstOrderOptions.Kind, Double> lrs = learningRates(0.01, 0.01, 1e-4, 1e-3);
        List<String> methods = List.of("tr-uniform", "tr-adagrad", "tr-rmsprop", "sgd", "adagrad", "rmsprop", "adam");
        if (name.equals("cifar-conv")) {
            return new Preset(name, "CIFAR-10 ConvNet (conv5 3->6, pool, conv5 6->16, pool, 400-120-84-10, softplus; raw pixels)", "cifar-10",
                    cifarConvNet(), 50_000, cifarTrustRegion(), 1e-10, 512, 10, 1.05, 0.2, 20, FirstOrderOptions.of(FirstOrderOptions.Kind.ADAGRAD, 0.01),
                    lrs, 128, methods);
        }
        Map<NormKind, TrustRegionPolicy> t = new EnumMap<>(NormKind.class);
        boolean fashion = name.equals("fmnist-conv");
        double eta2 = fashion ? 0.95 : 0.9;
        t.put(NormKind.UNIFORM, tr(1e-4, 10, 1e-5, eta2, 1.1, 1.1));
        t.put(NormKind.ADAGRAD, tr(1e-4, 10, 1e-5, eta2, 1.1, 1.1));
        t.put(NormKind.RMSPROP, tr(1e-4, 10, 1e-5, eta2, 1.1, 1.5));
        t.put(NormKind.ADAM, t.get(NormKind.RMSPROP));
        return new Preset(name, (fashion ? "Fashion-MNIST" : "MNIST") + " ConvNet (conv5x5 1->20, maxpool2, conv5x5 20->50, maxpool2, 800-500-10, ReLU)",
                fashion ? "fashion-mnist" : "mnist", mnistConvNet(), 50_000, t, 1e-16, fashion ? 4096 : 2048, 5, 1.025, 0.1, 1,
                FirstOrderOptions.of(FirstOrderOptions.Kind.RMSPROP, 5e-4), lrs, 128, methods);
    }

    /** True for the autoencoder presets (inputs are their own targets). */
    public boolean autoencoder() {
        return network.loss() != Loss.SOFTMAX_CROSS_ENTROPY;
    }

    /**
     * The deep autoencoder 784-1000-500-250-30-250-500-1000-784: sigmoid hidden layers, linear code
     * and output, squared error summed per image (arXiv 1905.09201); 2,837,314 parameters.
     */
    static Network autoencoderNetwork() {
        Network.Builder b = Network.builder(784);
        for (int w : new int[] {1000, 500, 250}) b.dense(w).sigmoid();
        b.dense(30);
        for (int w : new int[] {250, 500, 1000}) b.dense(w).sigmoid();
        return b.dense(784).loss(Loss.SQUARED_ERROR_SUM).build();
    }

    /** The (F)MNIST autoencoder: one set of TR constants for every norm, AdaGrad warm start. */
    private static Preset autoencoder(String name) {
        if (!name.equals("fmnist-ae") && !name.equals("mnist-ae")) throw new IllegalArgumentException("preset = '" + name + "'; must be one of " + NAMES);
        Map<NormKind, TrustRegionPolicy> t = new EnumMap<>(NormKind.class);
        for (NormKind k : NormKind.values()) t.put(k, tr(1e-3, 10, 1e-5, 0.9, 1.1, 1.25));
        Map<FirstOrderOptions.Kind, Double> lrs = learningRates(0.05, 0.01, 1e-3, 1e-3);
        boolean fashion = name.startsWith("fmnist");
        return new Preset(name, (fashion ? "Fashion-MNIST" : "MNIST") + " deep autoencoder 784-1000-500-250-30-250-500-1000-784 (arXiv 1905.09201)",
                fashion ? "fashion-mnist" : "mnist", autoencoderNetwork(), 60_000, t, 1e-10, 512, 5, 1.075, 0.05, 1,
                FirstOrderOptions.of(FirstOrderOptions.Kind.ADAGRAD, 0.01), lrs, 128,
                List.of("tr-uniform", "tr-adagrad", "tr-rmsprop", "sgd", "adagrad", "rmsprop", "adam"));
    }

    /** The first-order learning rates: SGD, AdaGrad, RMSProp, and Adam's for Adam and AdamW. */
    private static Map<FirstOrderOptions.Kind, Double> learningRates(double sgd, double adagrad, double rmsprop, double adam) {
        Map<FirstOrderOptions.Kind, Double> lrs = new LinkedHashMap<>();
        lrs.put(FirstOrderOptions.Kind.SGD, sgd);
        lrs.put(FirstOrderOptions.Kind.ADAGRAD, adagrad);
        lrs.put(FirstOrderOptions.Kind.RMSPROP, rmsprop);
        lrs.put(FirstOrderOptions.Kind.ADAM, adam);
        lrs.put(FirstOrderOptions.Kind.ADAMW, adam);
        return lrs;
    }

    /** cifar-conv's TR constants per norm (Adam's norm takes RMSProp's). */
    private static Map<NormKind, TrustRegionPolicy> cifarTrustRegion() {
        Map<NormKind, TrustRegionPolicy> t = new EnumMap<>(NormKind.class);
        t.put(NormKind.UNIFORM, tr(0.005, 10, 0.01, 0.95, 1.1, 1.25));
        t.put(NormKind.ADAGRAD, tr(0.005, 10, 0.01, 0.95, 1.1, 1.25));
        t.put(NormKind.RMSPROP, tr(1e-4, 10, 0.01, 0.95, 1.1, 1.25));
        t.put(NormKind.ADAM, t.get(NormKind.RMSPROP));
        return t;
    }

    private static TrustRegionPolicy tr(double d0, double dmax, double eta1, double eta2, double inc, double dec) {
        return new TrustRegionPolicy(d0, dmax, Math.min(1e-14, d0 / 10), eta1, eta2, inc, dec);
    }

    private static Network mlp(int in, int... hidden) {
        Network.Builder b = Network.builder(in);
        for (int h : hidden) b.dense(h).tanh();
        return b.dense(10).loss(Loss.SOFTMAX_CROSS_ENTROPY).regularization(Regularization.norm(1e-4)).build();
    }

    /**
     * The preset's optimizer settings, a line each: the TR constants per norm, the batches, the
     * Krylov settings, eps, the pivot safeguard, the warm start and the first-order learning rates.
     */
    public String settings() {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "training samples: %d; TR batch %d; first-order batch %d%n", trainSamples, trBatch, firstOrderBatch));
        b.append(String.format(Locale.ROOT, "trust region (Delta0, Dmax, eta1, eta2, gamma_inc, gamma_dec) per norm:%n"));
        for (Map.Entry<NormKind, TrustRegionPolicy> e : trustRegion.entrySet()) {
            TrustRegionPolicy t = e.getValue();
            b.append(String.format(Locale.ROOT, "  %-8s %g, %g, %g, %g, %g, %g%n", e.getKey().name().toLowerCase(Locale.ROOT), t.initialRadius(),
                    t.maxRadius(), t.eta1(), t.eta2(), t.gammaInc(), t.gammaDec()));
        }
        KrylovOptions k = krylov;
        b.append(String.format(Locale.ROOT, "Krylov: at most %d iterations, tolerance %g, %s rule; norm eps %g%n", k.maxIterations(), k.tolerance(),
                k.rule().name().toLowerCase(Locale.ROOT).replace('_', '-'), eps));
        b.append(pivotEvery > 0
                ? String.format(Locale.ROOT, "pivot: every %g epochs, batch x%g on failure, up to %g of the training set%n", pivotEvery, pivotGrowth, pivotCap)
                : String.format(Locale.ROOT, "pivot: off%n"));
        b.append(warmEpochs > 0
                ? String.format(Locale.ROOT, "warm start: %d epoch(s) of %s, lr %g%n", warmEpochs, warmStart.label(), warmStart.lr())
                : String.format(Locale.ROOT, "warm start: none%n"));
        b.append("first-order learning rates:");
        firstOrderLr.forEach((kind, lr) -> b.append(String.format(Locale.ROOT, " %s %g", kind.name().toLowerCase(Locale.ROOT), lr)));
        return b.append(System.lineSeparator()).toString();
    }

    public static Preset get(String name) {
        if (name.equals("cifar-resnet20")) return resnet20Preset();
        if (name.equals("fmnist-mlp-fast")) return fast();
        if (name.endsWith("-ae")) return autoencoder(name);
        if (name.endsWith("-conv")) return convNet(name);
        List<String> methods = List.of("tr-uniform", "tr-adagrad", "tr-rmsprop", "sgd", "adagrad", "rmsprop", "adam");
        Map<FirstOrderOptions.Kind, Double> lrs = learningRates(0.005, 0.005, 1e-4, 1e-3);
        Map<NormKind, TrustRegionPolicy> t = new EnumMap<>(NormKind.class);
        switch (name) {
            case "fmnist-mlp" -> {
                t.put(NormKind.UNIFORM, tr(0.05, 10, 0.01, 0.8, 1.1, 1.25));
                t.put(NormKind.ADAGRAD, tr(0.05, 10, 0.01, 0.95, 1.1, 1.5));
                t.put(NormKind.RMSPROP, tr(1e-4, 10, 0.01, 0.95, 1.1, 1.75));
            }
            case "mnist-mlp" -> {
                t.put(NormKind.UNIFORM, tr(0.05, 10, 0.01, 0.95, 1.1, 1.5));
                t.put(NormKind.ADAGRAD, tr(0.05, 10, 0.01, 0.95, 1.1, 1.25));
                t.put(NormKind.RMSPROP, tr(1e-4, 10, 0.01, 0.95, 1.01, 1.75));
            }
            case "cifar-mlp" -> {
                t.put(NormKind.UNIFORM, tr(0.05, 10, 0.01, 0.95, 1.1, 1.25));
                t.put(NormKind.ADAGRAD, tr(0.05, 10, 0.01, 0.95, 1.1, 1.25));
                t.put(NormKind.RMSPROP, tr(1e-4, 10, 0.01, 0.95, 1.1, 1.75));
            }
            default -> throw new IllegalArgumentException("preset = '" + name + "'; must be one of " + NAMES);
        }
        t.put(NormKind.ADAM, t.get(NormKind.RMSPROP)); // not in the paper: Adam's norm takes RMSProp's constants
        FirstOrderOptions warm = FirstOrderOptions.of(FirstOrderOptions.Kind.SGD, 0.005);
        return switch (name) {
            case "fmnist-mlp" -> new Preset(name, "Fashion-MNIST, MLP 784-128-10 tanh (arXiv 1905.09201)", "fashion-mnist", mlp(784, 128), 50_000,
                    t, 1e-10, 512, 10, 1.05, 0.2, 1, warm, lrs, 128, methods);
            case "mnist-mlp" -> new Preset(name, "MNIST, MLP 784-128-10 tanh", "mnist", mlp(784, 128), 50_000, t, 1e-10, 512, 10, 1.05, 0.2, 1, warm,
                    lrs, 128, methods);
            default -> new Preset(name, "CIFAR-10, MLP 3072-128-128-10 tanh (raw pixels, as the authors' code)", "cifar-10", mlp(3072, 128, 128),
                    50_000, t, 1e-10, 512, 10, 1.05, 0.2, 1, warm, lrs, 128, methods);
        };
    }
}
