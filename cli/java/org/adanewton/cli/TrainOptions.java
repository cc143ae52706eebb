package org.adanewton.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.adanewton.backend.Backend;
import org.adanewton.data.DataLocator;
import org.adanewton.minimizer.CubicPolicy;
import org.adanewton.minimizer.FirstOrderOptions;
import org.adanewton.minimizer.NetworkProblem;
import org.adanewton.minimizer.TrustRegionPolicy;
import org.adanewton.nn.Network;
import org.adanewton.norm.EpsPlacement;
import org.adanewton.norm.NormOptions;
import org.adanewton.subproblem.KrylovOptions;
import org.adanewton.train.MethodSpec;
import org.adanewton.train.TrainConfig;
import org.adanewton.train.Trainer;
import picocli.CommandLine;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The hyper-parameter overrides shared by `train` and `compare`: each flag, when given, replaces the preset's value. */
final class TrainOptions {
    @Option(names = "--batch", description = "Samples per iteration (preset: 512 for TR/ARC, 128 first-order).")
    Integer batch;
    @Option(names = "--hessian-batch", description = "Samples for the curvature products (0: the whole batch).")
    Integer hessianBatch;
    @Option(names = "--curvature", description = "hessian or gauss-newton (default hessian).")
    String curvature;
    @Option(names = "--lr", description = "Learning rate of a first-order method (preset per method).")
    Double lr;
    @Option(names = "--momentum", description = "SGD momentum.")
    Double momentum;
    @Option(names = "--delta0", description = "Initial trust-region radius.")
    Double delta0;
    @Option(names = "--delta-max", description = "Largest radius.")
    Double deltaMax;
    @Option(names = "--eta1", description = "Acceptance threshold on rho.")
    Double eta1;
    @Option(names = "--eta2", description = "Very-successful threshold on rho.")
    Double eta2;
    @Option(names = "--gamma-inc", description = "Radius increase factor.")
    Double gammaInc;
    @Option(names = "--gamma-dec", description = "Radius decrease factor.")
    Double gammaDec;
    @Option(names = "--sigma0", description = "Initial ARC weight sigma.")
    Double sigma0;
    @Option(names = "--max-krylov", description = "Krylov iterations per step (preset 50).")
    Integer maxKrylov;
    @Option(names = "--krylov-tol", description = "Krylov tolerance cap (preset 0.1).")
    Double krylovTol;
    @Option(names = "--krylov-rule", description = "model-decrease (preset) or residual.")
    String krylovRule;
    @Option(names = "--eps", description = "The norm's eps (preset 1e-10).")
    Double eps;
    @Option(names = "--eps-placement", description = "after-root (paper) or initial-accumulator (authors' code).")
    String epsPlacement;
    @Option(names = "--beta", description = "RMSProp norm decay (0.8).")
    Double beta;
    @Option(names = "--clamp", split = ",", description = "aMin,aMax: clamp the norm's diagonal.")
    double[] clamp;
    @Option(names = "--warm-epochs", description = "First-order warm-start epochs before TR/ARC (preset 1).")
    Integer warmEpochs;
    @Option(names = "--warm-lr", description = "Warm-start SGD learning rate (preset 0.005).")
    Double warmLr;
    @Option(names = "--pivot-every", description = "Pivot safeguard period in epochs (0: off; preset 10).")
    Double pivotEvery;
    @Option(names = "--pivot-growth", description = "Batch growth at a failed pivot (preset 1.05).")
    Double pivotGrowth;
    @Option(names = "--pivot-cap", description = "Batch cap, fraction of the data (preset 0.2).")
    Double pivotCap;
    @Option(names = "--train-samples", description = "Training samples used (preset 50000; 0: all).")
    Integer trainSamples;
    @Option(names = "--eval-every", description = "Evaluate every this many epochs (default 1).")
    Double evalEvery;
    @Option(names = "--checkpoint-every", description = "Checkpoint every this many epochs (default: at the end and on Ctrl-C).")
    Double checkpointEvery;
    @Option(names = "--seed", description = "Seed of the initialization and the batches (default 1).")
    Long seed;
    @Mixin
    ExecutionOptions.Train execution;
    @Option(names = "--data", description = "Directory with the dataset (else $ADANEWTON_DATA, Debian's Fashion-MNIST, the bundled subset).")
    Path data;

    /**
     * The flag that sets each parameter the library's records name in their refusals (e.g.
     * "initialRadius = -1.0; must be finite and > 0" is about --delta0).
     */
    static final Map<String, String> FLAGS = Map.ofEntries(Map.entry("initialRadius", "--delta0"), Map.entry("maxRadius", "--delta-max"),
            Map.entry("minRadius", "--delta0 (the minimum radius follows it: delta0 / 10)"), Map.entry("eta1", "--eta1"), Map.entry("eta2", "--eta2"),
            Map.entry("gammaInc", "--gamma-inc"), Map.entry("gammaDec", "--gamma-dec"), Map.entry("initialSigma", "--sigma0"),
            Map.entry("maxIterations", "--max-krylov"), Map.entry("tolerance", "--krylov-tol"), Map.entry("eps", "--eps"), Map.entry("beta", "--beta"),
            Map.entry("aMin", "--clamp aMin"), Map.entry("aMax", "--clamp aMax"), Map.entry("lr", "--lr"), Map.entry("momentum", "--momentum"),
            Map.entry("batch", "--batch"), Map.entry("hessianBatch", "--hessian-batch"), Map.entry("warmEpochs", "--warm-epochs"),
            Map.entry("pivotEvery", "--pivot-every"), Map.entry("pivotGrowth", "--pivot-growth"), Map.entry("pivotCap", "--pivot-cap"),
            Map.entry("evalEvery", "--eval-every"), Map.entry("checkpointEvery", "--checkpoint-every"), Map.entry("trainSamples", "--train-samples"),
            Map.entry("threads", "--threads"), Map.entry("epochs", "--epochs"), Map.entry("backend", "--backend"), Map.entry("rule", "--krylov-rule"),
            Map.entry("epsPlacement", "--eps-placement"), Map.entry("curvature", "--curvature"));

    private static final Pattern NAMED = Pattern.compile("(?<![\\w-])([a-zA-Z][a-zA-Z0-9]*) = ");

    /** The refusal with each parameter name replaced by its flag ("eta2 = 0.4; must be in [eta1 = 0.5, 1)" -> "--eta2 = 0.4; ... [--eta1 = ..."). */
    static String withFlags(String message, Map<String, String> flags) {
        if (message == null) return null;
        Matcher m = NAMED.matcher(message);
        StringBuilder out = new StringBuilder();
        while (m.find()) m.appendReplacement(out, Matcher.quoteReplacement(flags.getOrDefault(m.group(1), m.group(1)) + " = "));
        return m.appendTail(out).toString();
    }

    /** The same exception with its parameter names as flags. */
    static IllegalArgumentException withFlags(IllegalArgumentException e, Map<String, String> flags) {
        return new IllegalArgumentException(withFlags(e.getMessage(), flags), e);
    }

    /**
     * The flags given that the method does not use: the trust-region, cubic, Krylov, norm, warm-start
     * and pivot settings for a first-order method; the learning rate and momentum for a second-order
     * one (its warm start's rate is --warm-lr); the radius settings for ARC and sigma0 for TR.
     */
    List<String> unused(MethodSpec m) {
        Map<String, Object> given = new LinkedHashMap<>();
        given.put("--lr", lr);
        given.put("--momentum", momentum);
        given.put("--delta0", delta0);
        given.put("--delta-max", deltaMax);
        given.put("--gamma-inc", gammaInc);
        given.put("--gamma-dec", gammaDec);
        given.put("--sigma0", sigma0);
        given.put("--eta1", eta1);
        given.put("--eta2", eta2);
        given.put("--max-krylov", maxKrylov);
        given.put("--krylov-tol", krylovTol);
        given.put("--krylov-rule", krylovRule);
        given.put("--eps", eps);
        given.put("--eps-placement", epsPlacement);
        given.put("--beta", beta);
        given.put("--clamp", clamp);
        given.put("--warm-epochs", warmEpochs);
        given.put("--warm-lr", warmLr);
        given.put("--pivot-every", pivotEvery);
        given.put("--pivot-growth", pivotGrowth);
        given.put("--pivot-cap", pivotCap);
        given.put("--hessian-batch", hessianBatch);
        given.put("--curvature", curvature);
        List<String> unused = new ArrayList<>();
        List<String> radius = List.of("--delta0", "--delta-max", "--gamma-inc", "--gamma-dec");
        for (Map.Entry<String, Object> e : given.entrySet()) {
            if (e.getValue() == null) continue;
            String flag = e.getKey();
            boolean firstOrderFlag = flag.equals("--lr") || flag.equals("--momentum");
            boolean used = m.isSecondOrder()
                    ? !firstOrderFlag && !(m.method().cubic ? radius.contains(flag) : flag.equals("--sigma0"))
                    : firstOrderFlag;
            if (!used) unused.add(flag);
        }
        return unused;
    }

    /** A trainer, or a usage error (exit 2) naming the flag whose value it refuses (an interval below one iteration, data of another shape). */
    static Trainer trainer(CommandLine cli, TrainConfig config, Network network, DataLocator.Located data, Backend backend, Path dir,
            Trainer.Progress progress) {
        try {
            return new Trainer(config, network, data.train(), data.test(), backend, dir, progress);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cli, withFlags(e.getMessage(), FLAGS));
        }
    }

    /** Sets a value that was given on the command line. */
    private static <T> void given(T value, java.util.function.Consumer<T> setter) {
        if (value != null) setter.accept(value);
    }

    private static <T> T or(T value, T fallback) {
        return value != null ? value : fallback;
    }

    /** base with every given flag applied; invalid values throw IllegalArgumentException naming the flag. */
    TrainConfig apply(TrainConfig b) {
        try {
            return build(b);
        } catch (IllegalArgumentException e) {
            throw withFlags(e, FLAGS);
        }
    }

    private TrainConfig build(TrainConfig b) {
        TrustRegionPolicy tr = b.trustRegion();
        if (tr != null) {
            TrustRegionPolicy.Builder t = tr.toBuilder();
            given(delta0, t::delta0); // the one rule for what --delta0 changes (the minimum radius follows it)
            given(deltaMax, t::maxRadius);
            given(eta1, t::eta1);
            given(eta2, t::eta2);
            given(gammaInc, t::gammaInc);
            given(gammaDec, t::gammaDec);
            tr = t.build();
        }
        CubicPolicy cubic = b.cubic();
        if (cubic != null && sigma0 != null) cubic = cubic.withInitialSigma(sigma0);
        KrylovOptions k = b.krylov();
        if (k != null) {
            KrylovOptions.Builder kb = k.toBuilder();
            if (krylovRule != null) kb.rule(KrylovOptions.StoppingRule.parse(krylovRule));
            given(maxKrylov, kb::maxIterations);
            given(krylovTol, kb::tolerance);
            k = kb.build();
        }
        NormOptions norm = b.norm();
        if (norm != null) {
            NormOptions.Builder nb = NormOptions.builder(norm.kind()).beta(or(beta, norm.beta())).beta2(norm.beta2()).eps(or(eps, norm.eps()))
                    .biasCorrection(norm.biasCorrection()).clamp(norm.aMin(), norm.aMax()).epsPlacement(norm.epsPlacement());
            if (epsPlacement != null) nb.epsPlacement(EpsPlacement.parse(epsPlacement));
            if (clamp != null) {
                if (clamp.length != 2) throw new IllegalArgumentException("--clamp takes two values aMin,aMax; got " + clamp.length);
                nb.clamp(clamp[0], clamp[1]);
            }
            norm = nb.build();
        }
        FirstOrderOptions fo = b.firstOrder();
        if (fo != null)
            fo = new FirstOrderOptions(fo.kind(), or(lr, fo.lr()), or(momentum, fo.momentum()), fo.nesterov(), fo.beta1(), fo.beta2(), fo.eps(),
                    fo.weightDecay());
        FirstOrderOptions warm = b.warmStart();
        if (warm != null && warmLr != null) {
            try {
                warm = new FirstOrderOptions(warm.kind(), warmLr, warm.momentum(), warm.nesterov(), warm.beta1(), warm.beta2(), warm.eps(),
                        warm.weightDecay());
            } catch (IllegalArgumentException e) {
                throw withFlags(e, Map.of("lr", "--warm-lr"));
            }
        }
        NetworkProblem.Curvature curv = b.curvature();
        if (curvature != null) curv = NetworkProblem.Curvature.parse(curvature);
        TrainConfig.Builder c = b.toBuilder().curvature(curv).trustRegion(tr).cubic(cubic).krylov(k).norm(norm).firstOrder(fo).warmStart(warm)
                .warmEpochs(b.firstOrder() == null ? or(warmEpochs, b.warmEpochs()) : 0).threads(execution.threads());
        given(batch, c::batch);
        given(hessianBatch, c::hessianBatch);
        given(seed, c::seed);
        given(pivotEvery, c::pivotEvery);
        given(pivotGrowth, c::pivotGrowth);
        given(pivotCap, c::pivotCap);
        given(evalEvery, c::evalEvery);
        given(checkpointEvery, c::checkpointEvery);
        given(trainSamples, c::trainSamples);
        TrainConfig config = c.build();
        return config.toBuilder().backend(execution.backend()).build(); // its name checked last, as before
    }
}
