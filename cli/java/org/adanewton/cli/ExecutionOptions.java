package org.adanewton.cli;

import org.adanewton.backend.BackendKind;
import org.adanewton.select.Backends;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * --backend and --threads: where a command computes. One parse for all ({@link #backend()},
 * {@link BackendKind#parse}: "backend = 'x'; must be one of auto, cuda, cpu, java", which the
 * commands report with the flag's name). Each command mixes in the subclass that keeps its own
 * default and help text:
 * <ul>
 * <li>{@link Train} (train, compare, through {@link TrainOptions}): backend auto, threads 0 (all processors);
 * <li>{@link Info} (info): backend auto, threads 0;
 * <li>{@link Bench} (bench): backend cpu (it measures the native kernels), threads 0.
 * </ul>
 */
abstract class ExecutionOptions {
    /** This mixin's own spec: the subclass's options are read through it (so each subclass is only its annotated fields). */
    @Spec
    CommandSpec spec;

    /** Kernel threads (0: all processors). */
    int threads() {
        return spec.findOption("--threads").getValue();
    }

    /** The backend asked for; IllegalArgumentException naming the accepted values. */
    BackendKind backend() {
        return BackendKind.parse(spec.findOption("--backend").getValue());
    }

    /** The backend asked for, with the notes on how it was chosen. */
    Backends.Selection select() {
        return Backends.select(backend(), threads());
    }

    /** train and compare: auto. */
    static final class Train extends ExecutionOptions {
        @Option(names = "--threads", defaultValue = "0", description = "Kernel threads (0: all processors).")
        int threads;
        @Option(names = "--backend", defaultValue = "auto", description = "auto, cuda, cpu or java (default ${DEFAULT-VALUE}).")
        String backend;
    }

    /** info: auto. */
    static final class Info extends ExecutionOptions {
        @Option(names = "--backend", defaultValue = "auto", description = "auto, cuda, cpu or java (default: ${DEFAULT-VALUE}).")
        String backend;
        @Option(names = "--threads", defaultValue = "0", description = "Kernel threads (0 = all processors).")
        int threads;
    }

    /** bench: cpu, the native kernels it measures. */
    static final class Bench extends ExecutionOptions {
        @Option(names = "--threads", defaultValue = "0", description = "Threads (0 = all processors).")
        int threads;
        @Option(names = "--backend", paramLabel = "<backendName>", defaultValue = "cpu", description = "cpu, cuda or java (default: ${DEFAULT-VALUE}).")
        String backend;
    }
}
