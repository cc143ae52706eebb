package org.adanewton.cli;

import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The options of the commands that train (train, compare) besides the hyper-parameters
 * ({@link TrainOptions}): --preset, --out and --progress, as picocli mixins. --preset and --progress
 * read the same in both; --out's default differs (runs/PRESET-METHOD-TIME for train,
 * runs/compare-PRESET-TIME for compare), so each command mixes in its own {@link Out} and supplies
 * the name of its default directory. The parameter labels are those of the fields they replaced, so
 * the help reads as before. info's --preset (a preset to print, no default) is its own.
 */
final class RunOptions {
    private RunOptions() {}

    /** --preset, default fmnist-mlp. */
    static final class PresetOption {
        @Option(names = "--preset", paramLabel = "<preset>", defaultValue = "fmnist-mlp", description = "fmnist-mlp, mnist-mlp, cifar-mlp, fmnist-conv, mnist-conv, cifar-conv, fmnist-ae, mnist-ae, cifar-resnet20, fmnist-mlp-fast (default ${DEFAULT-VALUE}).")
        String name;
    }

    /** --progress, default auto. */
    static final class ProgressOption {
        @Option(names = "--progress", paramLabel = "<progressMode>", defaultValue = "auto", description = "auto, bar or lines (default ${DEFAULT-VALUE}).")
        ConsoleProgress.Mode mode;

        /** The console display of a run of the method with this label. */
        ConsoleProgress console(String label) {
            return new ConsoleProgress(System.out, ConsoleProgress.isTerminal(mode), label);
        }
    }

    /** --out: the directory given, else runs/NAME-TIME with the command's name. */
    abstract static class Out {
        /** This mixin's own spec (each subclass is only its annotated --out). */
        @Spec
        CommandSpec spec;

        /** The directory given, or null. */
        Path given() {
            return spec.findOption("--out").getValue();
        }

        /** The directory given, or runs/name-yyyyMMdd-HHmmss. */
        Path or(String name) {
            return given() != null ? given() : Path.of("runs", name + "-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        }
    }

    /** train's --out. */
    static final class TrainOut extends Out {
        @Option(names = "--out", description = "Output directory (default runs/PRESET-METHOD-TIME).")
        Path out;
    }

    /** compare's --out. */
    static final class CompareOut extends Out {
        @Option(names = "--out", description = "Output directory (default runs/compare-PRESET-TIME).")
        Path out;
    }
}
