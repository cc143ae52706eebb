package org.adanewton.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.adanewton.backend.Backend;
import org.adanewton.backend.CurvaturePrecision;
import org.adanewton.data.DataLocator;
import org.adanewton.minimizer.TrustRegionPolicy;
import org.adanewton.nn.Network;
import org.adanewton.select.Backends;
import org.adanewton.train.Checkpoint;
import org.adanewton.train.DataSource;
import org.adanewton.train.MethodSpec;
import org.adanewton.train.MetricsLog;
import org.adanewton.train.Preset;
import org.adanewton.train.TrainConfig;
import org.adanewton.train.Trainer;
import org.adanewton.train.Weights;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/** Trains one network with one method; writes metrics, a plot and a checkpoint. */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Train a network (default: Fashion-MNIST MLP, TR with the RMSProp norm, the paper's preset, 20 epochs).",
                "Writes metrics.csv, metrics.jsonl, train.png and checkpoint/ under --out; Ctrl-C writes a checkpoint first."})
final class TrainCommand implements Callable<Integer> {
    @Mixin
    RunOptions.PresetOption preset;

    @Option(names = "--method", defaultValue = "tr-rmsprop",
            description = "SOLVER-NORM (tr, gltr, arc x uniform, adagrad, rmsprop, adam) or sgd, adagrad, rmsprop, adam, adamw (default ${DEFAULT-VALUE}).")
    String method;

    static final int DEFAULT_EPOCHS = 20;

    @Option(names = "--epochs", description = "Epochs (default 20; on --resume: extend the run to this many).")
    Integer epochs;

    @Mixin
    RunOptions.TrainOut out;

    @Option(names = "--resume", description = "Continue the run saved in this checkpoint directory (its configuration is used).")
    Path resume;

    @Option(names = "--init", paramLabel = "FILE.safetensors",
            description = "Start from these weights (a safetensors file named as PyTorch's state_dict: 0.weight, 0.bias, ...; a batch norm's "
                    + "running statistics too, when present) instead of the seeded initialization; not with --resume.")
    Path init;

    @Option(names = ModelFile.FLAG, paramLabel = "FILE.onnx",
            description = "Train this ONNX model (a PyTorch export: dense, conv, pooling, batch and layer norm, GELU, residual adds, concats, dropout) "
                    + "from its own weights and running statistics instead of the preset's network; the preset gives the data and the settings. "
                    + "Its input shape and output count must match the data; not with --init or --resume.")
    Path modelFile;

    @Mixin
    RunOptions.ProgressOption progress;

    @Option(names = "--profile", description = "At the end, print where the method's iterations spent their time (ms and % per iteration: "
            + "batch, gradient, norm, curvature products, Krylov vector work, trial loss, bookkeeping); TR/ARC methods.")
    boolean profile;

    @Option(names = "--curvature-precision", paramLabel = "P", defaultValue = "fp32", description = "fp32, tf32 or bf16: the precision of the "
            + "curvature products' GEMMs (float32 accumulation; gradients, losses and the Krylov recurrences stay float32/double). tf32 and bf16 run "
            + "on the CUDA backend (compute capability >= 8.0); the CPU backend refuses them with the reason. Default ${DEFAULT-VALUE}; not saved "
            + "with the run (give it again on --resume).")
    String curvaturePrecision;

    @Option(names = "--target-loss", paramLabel = "LOSS", description = "End the run at the first evaluation whose full training loss is at or "
            + "below LOSS (e.g. 0.0408 = e^-3.2); a checkpoint is written as at any end. Not saved with the run.")
    Double targetLoss;

    @Mixin
    TrainOptions options;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    private CommandLine.ParameterException usage(String message) {
        return new CommandLine.ParameterException(spec.commandLine(), message);
    }

    @Override
    public Integer call() throws Exception {
        TrainConfig config;
        Checkpoint.Loaded loaded = null;
        Preset p;
        CurvaturePrecision precision;
        try {
            precision = CurvaturePrecision.parse(curvaturePrecision);
        } catch (IllegalArgumentException e) {
            throw usage("--curvature-precision = " + curvaturePrecision + ": must be fp32, tf32 or bf16");
        }
        if (targetLoss != null && !(targetLoss > 0))
            throw usage("--target-loss = " + targetLoss + "; must be > 0 (a training loss; e.g. 0.0408 for log loss -3.2)");
        try {
            if (modelFile != null && init != null)
                throw new IllegalArgumentException(ModelFile.FLAG + " and --init both give the starting weights (" + ModelFile.FLAG
                        + ": the model's own initializers); give one of them");
            if (resume != null) {
                if (init != null)
                    throw new IllegalArgumentException("--init is not taken with --resume: a resumed run continues from its checkpoint's weights; "
                            + "start a new run (without --resume) to begin from " + init);
                if (modelFile != null)
                    throw new IllegalArgumentException(ModelFile.FLAG + " is not taken with --resume: a resumed run continues its checkpoint's network "
                            + "and weights; start a new run (without --resume) to train " + modelFile);
                refuseFlagsResumeCannotHonour();
                Checkpoint.Location found = Checkpoint.locate(resume);
                if (found.note() != null) System.out.println("checkpoint: " + found.note());
                Checkpoint.State state = Checkpoint.readState(found.dir());
                config = state.config();
                if (spec.commandLine().getParseResult().hasMatchedOption("--preset") && !preset.name.equals(config.preset()))
                    throw new IllegalArgumentException("--preset = " + preset.name + " but the checkpoint in " + resume + " is a " + config.preset()
                            + " run (" + state.network() + "); a checkpoint resumes only its own network");
                if (spec.commandLine().getParseResult().hasMatchedOption("--method") && !MethodSpec.parse(method).equals(config.method()))
                    throw new IllegalArgumentException("--method = " + method + " but the checkpoint in " + resume + " is a " + config.method().name()
                            + " run");
                p = Preset.get(config.preset());
                if (epochs != null) {
                    int straight = Math.min(p.warmEpochs(), epochs - 1); // the warm start a run started for `epochs` would have
                    boolean shortened = config.warmEpochs() == config.epochs() - 1; // capped by its first epoch count, not set by --warm-epochs
                    if (config.method().isSecondOrder() && shortened && config.warmEpochs() < straight)
                        System.out.printf(Locale.ROOT, "note: this run was started for %d epochs with %d warm-start epoch(s); a run started for %d "
                                + "epochs has %d. It continues as started, so it will not match a straight %d-epoch run.%n", config.epochs(),
                                config.warmEpochs(), epochs, straight, epochs);
                    config = config.withEpochs(epochs);
                }
                // where it runs may change (results then match an uninterrupted run only on the same backend and threads)
                var parsed = spec.commandLine().getParseResult();
                if (parsed.hasMatchedOption("--backend") || parsed.hasMatchedOption("--threads"))
                    config = config.withExecution(parsed.hasMatchedOption("--threads") ? options.execution.threads() : config.threadCount(),
                            parsed.hasMatchedOption("--backend") ? options.execution.backend() : config.backend());
                loaded = Checkpoint.read(found.dir(), p.network());
            } else {
                p = Preset.get(preset.name);
                MethodSpec m = MethodSpec.parse(method);
                List<String> unused = options.unused(m);
                if (!unused.isEmpty())
                    throw new IllegalArgumentException(String.join(", ", unused) + (unused.size() == 1 ? " does" : " do") + " not apply to --method "
                            + method + " (" + (m.isSecondOrder() ? "a second-order method" : "a first-order method") + "); leave "
                            + (unused.size() == 1 ? "it" : "them") + " out");
                config = options.apply(TrainConfig.of(p, m, epochs == null ? DEFAULT_EPOCHS : epochs));
            }
        } catch (IllegalArgumentException e) {
            throw usage(TrainOptions.withFlags(e.getMessage(), TrainOptions.FLAGS));
        }
        Weights.StateDict initial = null;
        ModelFile model = null;
        if (modelFile != null) {
            try {
                model = ModelFile.read(modelFile, p.network());
            } catch (IllegalArgumentException e) {
                throw usage(e.getMessage());
            }
            System.out.println(model.summary());
            initial = model.state();
        }
        Network network = model == null ? p.network() : model.network();
        if (init != null) {
            try {
                initial = Weights.loadStateDict(p.network(), init);
            } catch (IOException e) { // the library's message starts with the file: named once, after the flag
                String why = String.valueOf(e.getMessage());
                throw usage("--init = " + init + (why.startsWith(init.toString()) ? why.substring(init.toString().length()) : ": " + why));
            }
            System.out.printf(Locale.ROOT, "init: %d tensors from %s%n", p.network().parameters().size(), init);
        }
        Path dir = out.given() == null && resume != null ? resume.toAbsolutePath().getParent()
                : out.or((model == null ? p.name() : model.name()) + "-" + config.method().name());
        Backends.Selection sel = Backends.select(config.backend(), config.threadCount());
        sel.notes().forEach(System.out::println);
        String unsupported = sel.backend().unsupported(precision);
        if (unsupported != null) throw usage("--curvature-precision = " + precision.cliName() + ": " + unsupported);
        DataSource recorded = loaded == null ? null : loaded.state().data();
        // a resumed run reads the data it was trained on, unless --data says otherwise
        Path dataDir = options.data != null || recorded == null || recorded.source() == null || !Files.isDirectory(Path.of(recorded.source()))
                ? options.data : Path.of(recorded.source());
        DataLocator.Located data = DataChoice.load(p, dataDir);
        System.out.println("data: " + data.summary());
        if (model != null) {
            try {
                model.check(data.train());
            } catch (IllegalArgumentException e) {
                throw usage(e.getMessage());
            }
        }
        if (loaded != null) {
            DataSource now = DataSource.of(data.train(), data.test());
            if (recorded == null) {
                System.out.println("note: this checkpoint does not record its data (it predates that); they cannot be checked");
            } else if (!recorded.sameData(now)) {
                if (options.data == null)
                    throw usage("the checkpoint in " + resume + " was trained on " + recorded.describe() + ", but the data found now are "
                            + now.describe() + "; give --data DIR: the run's own data, or other data to continue on them on purpose");
                System.out.println("note: continuing on other data, as --data asks: the checkpoint was trained on " + recorded.describe());
                loaded = loaded.onData(now);
            }
        }
        Backend backend = sel.backend();
        System.out.printf(Locale.ROOT, "network: %s (%d parameters); method %s; %d epochs; batch %d%n", network.shortName(), network.parameterCount(),
                config.method().label(), config.epochs(), config.batch());
        try (Trainer trainer = TrainOptions.trainer(spec.commandLine(), config, network, data, backend, dir, progress.console(config.method().label()))) {
            // Ctrl-C: the hook asks the trainer to stop and waits for its checkpoint, then for the plot
            CountDownLatch plotted = new CountDownLatch(1);
            Thread hook = new Thread(() -> {
                trainer.requestStop();
                try {
                    if (trainer.awaitFinish(120_000)) plotted.await(60, TimeUnit.SECONDS);
                } catch (InterruptedException ignored) {
                    Thread.currentThread().interrupt();
                }
            }, "adanewton-checkpoint-on-exit");
            Runtime.getRuntime().addShutdownHook(hook);
            Trainer.Result r;
            try {
                if (initial != null) trainer.startFrom(initial);
                if (targetLoss != null) trainer.stopAtLoss(targetLoss);
                trainer.setCurvaturePrecision(precision);
                r = trainer.run(loaded);
                Plots.trainingRun(network.shortName(), config.method().label(), r.rows(), dir.resolve("train.png"));
            } finally {
                plotted.countDown();
            }
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // Ctrl-C: the hook is running and has waited for this checkpoint and plot
            }
            MetricsLog.Row last = r.last();
            System.out.println(r.message());
            if (profile) {
                Trainer.Profile pr = trainer.profile();
                if (pr == null) System.out.println("profile: --profile times the iterations of TR/ARC methods; " + config.method().name() + " is first-order");
                else ProfileReport.print(System.out, pr, ProfileReport.describe(config, precision, backend));
            }
            String note = shortRunNote(config, last);
            if (note != null) System.out.println(note);
            if (last != null)
                System.out.printf(Locale.ROOT, "final: epoch %.2f, train loss %.6f, test accuracy %s, %d gradients, %d HVPs, %.1f s (evaluation excluded)%n",
                        last.epoch(), last.trainLoss(), Double.isFinite(last.testAccuracy()) ? String.format(Locale.ROOT, "%.2f%%", 100 * last.testAccuracy()) : "-",
                        last.gradients(), last.hvps(), last.seconds());
            System.out.println("results: " + dir.toAbsolutePath() + " (metrics.csv, metrics.jsonl, train.png, checkpoint/)");
            return r.status().equals("completed") || r.status().equals("interrupted") || r.status().equals("target_reached") ? 0 : 1;
        }
    }

    /** The options a resumed run takes from its checkpoint (all of TrainOptions but where the data are and what runs it). */
    private void refuseFlagsResumeCannotHonour() {
        List<String> settings = spec.mixins().get("options").options().stream().map(CommandLine.Model.OptionSpec::longestName).toList();
        List<String> given = new ArrayList<>();
        for (CommandLine.Model.OptionSpec o : spec.commandLine().getParseResult().matchedOptions()) {
            String name = o.longestName();
            if (settings.contains(name) && !RESUME_MAY_SET.contains(name)) given.add(name);
        }
        if (!given.isEmpty())
            throw new IllegalArgumentException(String.join(", ", given) + (given.size() == 1 ? " is" : " are") + " not taken with --resume: a resumed "
                    + "run continues with its checkpoint's settings (only --epochs, " + String.join(", ", RESUME_MAY_SET)
                    + " may be given); start a new run to change them");
    }

    /** What a resumed run may still be told: where the data are, and the kernels' backend and threads. */
    static final List<String> RESUME_MAY_SET = List.of("--data", "--backend", "--threads");

    /** Radius growth below which a trust-region run is too short to show its method's behaviour. */
    static final double SHORT_RUN_GROWTH = 10;

    /**
     * A one-line note when a trust-region run ends with its radius still within
     * {@value #SHORT_RUN_GROWTH}x of where it started (the paper's presets start small and grow
     * slowly, so a run of a few iterations trains little and looks broken); null otherwise.
     */
    static String shortRunNote(TrainConfig config, MetricsLog.Row last) {
        TrustRegionPolicy t = config.trustRegion();
        MethodSpec m = config.method();
        if (t == null || !m.isSecondOrder() || m.method().cubic || last == null || !(last.regularization() < SHORT_RUN_GROWTH * t.initialRadius()))
            return null;
        return String.format(Locale.ROOT, "note: %s's radius ended at %.2g, within %sx of its start (--delta0 %s, growing at most %sx per step "
                + "up to --delta-max %s): a run this short cannot show the method's behaviour; train for more --epochs or start from a larger --delta0.",
                config.method().label(), last.regularization(), plain(SHORT_RUN_GROWTH), plain(t.initialRadius()), plain(t.gammaInc()),
                plain(t.maxRadius()));
    }

    /** 1.0E-4 as 0.0001, 10.0 as 10. */
    private static String plain(double v) {
        return java.math.BigDecimal.valueOf(v).stripTrailingZeros().toPlainString();
    }
}
