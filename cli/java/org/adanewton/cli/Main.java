package org.adanewton.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The adanewton command line: {@code ./adanewton --help} lists the commands.
 *
 * <p>Thread safety: each {@code run} call builds its own command line, but the commands print to
 * System.out and System.err, and bench sets OpenBLAS's process-wide thread count while it measures:
 * run one command at a time.
 */
@Command(name = "adanewton", mixinStandardHelpOptions = true, version = "adanewton 0.1.0",
        description = "Trust-region and cubic-regularization Newton methods with adaptive ellipsoidal norms.",
        subcommands = {TrainCommand.class, CompareCommand.class, SolveCommand.class, BenchCommand.class, InfoCommand.class})
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        // the library's System.Logger warnings (e.g. the fallback to the Java reference) as one line on stderr
        if (System.getProperty("java.util.logging.SimpleFormatter.format") == null)
            System.setProperty("java.util.logging.SimpleFormatter.format", "%4$s: %5$s%n");
        System.exit(run(args));
    }

    /** Runs the CLI and returns the exit code: 0 ok, 1 runtime failure, 2 invalid usage. */
    public static int run(String... args) {
        CommandLine cli = new CommandLine(new Main());
        cli.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            cmd.getErr().println("error: " + describe(ex));
            if (Boolean.getBoolean("adanewton.stacktrace")) ex.printStackTrace(cmd.getErr());
            return 1;
        });
        cli.setParameterExceptionHandler((ex, a) -> {
            CommandLine cmd = ex.getCommandLine();
            cmd.getErr().println("error: " + ex.getMessage());
            cmd.getErr().println("Try '" + cmd.getCommandSpec().qualifiedName() + " --help' for the options.");
            return 2;
        });
        try {
            return cli.execute(args);
        } catch (OutOfMemoryError | StackOverflowError e) { // picocli lets Errors through its handler
            System.err.println("error: " + describe(e));
            return 1;
        }
    }

    /**
     * What went wrong, in words: a file system refusal with its path and reason, memory with -Xmx
     * advice, the library's own messages as they are, anything else as an internal error to report.
     */
    static String describe(Throwable ex) {
        if (ex instanceof java.io.UncheckedIOException u && u.getCause() != null) ex = u.getCause();
        if (ex instanceof java.nio.file.NoSuchFileException f) return "no such file or directory: " + f.getFile();
        if (ex instanceof java.nio.file.AccessDeniedException f) return "permission denied: " + f.getFile();
        if (ex instanceof java.nio.file.NotDirectoryException f) return "not a directory: " + f.getFile();
        if (ex instanceof java.nio.file.FileAlreadyExistsException f) return "already exists (and is in the way): " + f.getFile();
        if (ex instanceof java.nio.file.FileSystemException f)
            return (f.getFile() == null ? "" : f.getFile() + (f.getOtherFile() == null ? "" : " -> " + f.getOtherFile()) + ": ")
                    + (f.getReason() == null ? "file system error" : f.getReason());
        if (ex instanceof java.io.IOException && ex.getMessage() != null && ex.getMessage().contains("No space left on device"))
            return "no space left on the device (" + ex.getMessage() + "); free some, or give --out another file system";
        if (ex instanceof OutOfMemoryError)
            return "out of memory (" + ex.getMessage() + "); give the JVM more with ADANEWTON_JAVA_OPTS=-Xmx8g, or use a smaller --batch or data set";
        if (ex instanceof StackOverflowError) return "internal error: stack overflow; please report it with the command that caused it";
        boolean ours = ex instanceof java.io.IOException || ex instanceof IllegalArgumentException || ex instanceof IllegalStateException
                || ex instanceof UnsupportedOperationException || ex.getClass().getName().startsWith("org.adanewton.");
        if (ours && ex.getMessage() != null && !ex.getMessage().isBlank()) return ex.getMessage();
        return "internal error (" + ex.getClass().getSimpleName() + (ex.getMessage() == null ? "" : ": " + ex.getMessage())
                + "); please report it, with the trace from -Dadanewton.stacktrace=true (ADANEWTON_JAVA_OPTS)";
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
