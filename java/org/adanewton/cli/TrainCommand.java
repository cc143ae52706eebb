package org.adanewton.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** Training. The trainer (TR/ARC minimizers, data, metrics) is not built yet: this says so. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Train a network (not available yet: coming with the optimizer and trainer steps).")
final class TrainCommand implements Callable<Integer> {

    @Override
    public Integer call() {
        System.out.println("""
                adanewton train: coming in the next step.
                This version has the foundation only: backends, networks with exact Hessian-vector
                products, and the benchmark. The trust-region/ARC minimizers and the trainer come next.
                Try:  ./adanewton bench        (kernel timings)
                      ./adanewton info         (backends, threads, libraries)""");
        return 0;
    }
}
