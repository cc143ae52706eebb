package org.adanewton.cli;

import java.util.concurrent.Callable;
import org.adanewton.data.DataLocator;
import org.adanewton.select.Backends;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** What runs here: backends available and chosen, threads, library versions. */
@Command(name = "info", mixinStandardHelpOptions = true, description = "Show the backends, threads and native libraries.")
final class InfoCommand implements Callable<Integer> {

    @picocli.CommandLine.Mixin
    ExecutionOptions.Info execution;

    @Option(names = "--data", description = "A dataset directory to check.")
    java.nio.file.Path data;

    @Option(names = "--preset", description = "Print this preset's network layer by layer and its parameter count.")
    String preset;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        if (preset != null) {
            org.adanewton.train.Preset p;
            try {
                p = org.adanewton.train.Preset.get(preset);
            } catch (IllegalArgumentException e) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), e.getMessage());
            }
            System.out.println(p.name() + ": " + p.description());
            System.out.println(p.network().describe());
            System.out.print(p.settings());
            return 0;
        }
        System.out.println("java: " + System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
        System.out.println("processors: " + Runtime.getRuntime().availableProcessors());
        System.out.println("platform: " + Backends.platform() + " (native kernels built for: " + String.join(", ", Backends.nativePlatforms())
                + "; elsewhere the Java reference runs)");
        System.out.println("native library: " + Backends.nativeLibraryInfo());
        var cuda = Backends.cudaProbe();
        System.out.println("cuda probe: " + (cuda.available() ? cuda.devices() + " device(s): " : "") + cuda.message());
        Backends.Selection s = execution.select();
        s.notes().forEach(System.out::println);
        try {
            System.out.println("data (Fashion-MNIST, first match of --data, $" + DataLocator.ENV + ", Debian, bundled): "
                    + DataLocator.fashionMnist(data).summary());
        } catch (java.io.IOException | RuntimeException e) {
            System.out.println("data: not found: " + e.getMessage());
        }
        return 0;
    }
}
