package org.adanewton.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The adanewton command line: {@code ./adanewton --help} lists the commands. */
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
            cmd.getErr().println("error: " + (ex.getMessage() == null ? ex.toString() : ex.getMessage()));
            if (Boolean.getBoolean("adanewton.stacktrace")) ex.printStackTrace(cmd.getErr());
            return 1;
        });
        cli.setParameterExceptionHandler((ex, a) -> {
            CommandLine cmd = ex.getCommandLine();
            cmd.getErr().println("error: " + ex.getMessage());
            cmd.getErr().println("Try '" + cmd.getCommandSpec().qualifiedName() + " --help' for the options.");
            return 2;
        });
        return cli.execute(args);
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
