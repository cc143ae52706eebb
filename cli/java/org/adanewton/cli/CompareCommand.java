package org.adanewton.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.adanewton.backend.Backend;
import org.adanewton.data.DataLocator;
import org.adanewton.select.Backends;
import org.adanewton.train.MethodSpec;
import org.adanewton.train.MetricsLog;
import org.adanewton.train.Preset;
import org.adanewton.train.TrainConfig;
import org.adanewton.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/** Runs several methods on one preset and writes compare.png and summary.csv. */
@Command(name = "compare", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Run several methods on one preset (default: the paper's 7 on fmnist-mlp, 100 epochs each).",
                "Writes one run directory per method, compare.png (ln training loss vs epochs, backprops and seconds; test accuracy vs epochs) and summary.csv."})
final class CompareCommand implements Callable<Integer> {
    @Mixin
    RunOptions.PresetOption preset;

    @Option(names = "--methods", split = ",", description = "Methods (default: the preset's: tr-uniform, tr-adagrad, tr-rmsprop, sgd, adagrad, rmsprop, adam).")
    List<String> methods;

    @Option(names = "--epochs", defaultValue = "100", description = "Epochs per method (default ${DEFAULT-VALUE}; the paper plots up to 250).")
    int epochs;

    @Option(names = "--target-log-loss", defaultValue = "-3.2", description = "Report epochs and seconds to reach ln(training loss) <= this (default ${DEFAULT-VALUE}).")
    double target;

    @Mixin
    RunOptions.CompareOut out;

    @Mixin
    RunOptions.ProgressOption progress;

    @Mixin
    TrainOptions options;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** One method's outcome. */
    record Outcome(String method, String label, List<MetricsLog.Row> rows, String status) {}

    @Override
    public Integer call() throws Exception {
        Preset p;
        List<TrainConfig> configs = new ArrayList<>();
        try {
            if (epochs < 1) throw new IllegalArgumentException("--epochs = " + epochs + "; must be >= 1");
            p = Preset.get(preset.name);
            for (String m : methods == null ? p.compareMethods() : methods) configs.add(options.apply(TrainConfig.of(p, MethodSpec.parse(m), epochs)));
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), TrainOptions.withFlags(e.getMessage(), TrainOptions.FLAGS));
        }
        Path dir = out.or("compare-" + p.name());
        Files.createDirectories(dir);
        Backends.Selection sel = options.execution.select();
        sel.notes().forEach(System.out::println);
        Backend backend = sel.backend();
        DataLocator.Located data = DataChoice.load(p, options.data);
        System.out.println("data: " + data.summary());
        List<Outcome> outcomes = new ArrayList<>();
        for (TrainConfig c : configs) {
            String label = c.method().label();
            System.out.printf(Locale.ROOT, "== %s: %d epochs, batch %d ==%n", label, c.epochs(), c.batch());
            try (Trainer t = TrainOptions.trainer(spec.commandLine(), c, p.network(), data, backend, dir.resolve(c.method().name()),
                    progress.console(label))) {
                Trainer.Result r = t.run(null);
                Plots.trainingRun(p.network().shortName(), label, r.rows(), dir.resolve(c.method().name()).resolve("train.png"));
                System.out.println(label + ": " + r.message());
                String note = TrainCommand.shortRunNote(c, r.last());
                if (note != null) System.out.println(note);
                outcomes.add(new Outcome(c.method().name(), label, r.rows(), r.status()));
            }
            plotAndSummarize(p, outcomes, dir); // after each method, so a long run shows its progress
        }
        System.out.println(Files.readString(dir.resolve("summary.csv"), StandardCharsets.UTF_8));
        System.out.println("results: " + dir.toAbsolutePath() + " (compare.png, summary.csv, one directory per method)");
        return 0;
    }

    private void plotAndSummarize(Preset p, List<Outcome> outcomes, Path dir) throws IOException {
        List<Plots.Curve> curves = new ArrayList<>();
        StringBuilder csv = new StringBuilder(String.format(Locale.ROOT,
                "method,status,epochs,final_train_loss,final_log_loss,final_train_accuracy,final_test_accuracy,epochs_to_target,seconds_to_target,"
                        + "backprops_to_target,total_seconds,target_log_loss%n"));
        for (Outcome o : outcomes) {
            curves.add(new Plots.Curve(o.label(), o.rows()));
            MetricsLog.Row last = o.rows().isEmpty() ? null : o.rows().get(o.rows().size() - 1);
            MetricsLog.Row hit = o.rows().stream().filter(r -> r.trainLoss() > 0 && Math.log(r.trainLoss()) <= target).findFirst().orElse(null);
            csv.append(String.format(Locale.ROOT, "%s,%s,%.2f,%.6g,%.4f,%.4f,%.4f,%s,%s,%s,%.1f,%.2f%n", o.label(), o.status(), last == null ? 0 : last.epoch(),
                    last == null ? Double.NaN : last.trainLoss(), last == null ? Double.NaN : Math.log(last.trainLoss()),
                    last == null ? Double.NaN : last.trainAccuracy(), last == null ? Double.NaN : last.testAccuracy(),
                    hit == null ? "not reached" : String.format(Locale.ROOT, "%.2f", hit.epoch()),
                    hit == null ? "not reached" : String.format(Locale.ROOT, "%.1f", hit.seconds()),
                    hit == null ? "not reached" : Long.toString(hit.backprops()), last == null ? 0 : last.seconds(), target));
        }
        Files.writeString(dir.resolve("summary.csv"), csv.toString(), StandardCharsets.UTF_8);
        Plots.lossCurves(p.network().shortName() + " (" + p.name() + ")", curves, dir.resolve("compare.png"));
    }
}
