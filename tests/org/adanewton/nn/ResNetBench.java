package org.adanewton.nn;

import java.util.Arrays;
import java.util.Locale;
import org.adanewton.backend.Batch;
import org.adanewton.backend.NetworkModel;
import org.adanewton.backend.Vector;
import org.adanewton.backend.cpu.CpuBackend;

/**
 * Not a test (surefire runs *Test only): ResNet-20 for CIFAR-10 (He et al. 2016: a 3x3 conv of 16
 * channels without bias, batch norm, relu; 3 stages of 3 basic blocks of 16, 32 and 64 channels,
 * stride 2 at the start of stages 2 and 3 with a 1x1 conv (no bias) and batch norm on the
 * shortcut; global average pooling; dense 64 -> 10) on the CPU backend in training mode: the
 * median time of the forward, the gradient, the cached exact HVP and the cached Gauss-Newton
 * product at one batch of random 3x32x32 inputs, wall and process CPU time per thread (the two
 * differ on a loaded machine), with the matrix-product GFLOP/s (Network.*FlopsPerSample). Module names follow the usual PyTorch CIFAR ResNet (conv1, bn1,
 * layer1.0.conv1, ..., layer2.0.shortcut.0, linear).
 * Usage: ResNetBench [batch [threads [repeats]]] (default 128, 2, 5).
 */
public final class ResNetBench {
    private ResNetBench() {}

    /** ResNet-20 for 3x32x32 inputs and 10 classes. */
    public static Network resnet20() {
        Network.Builder b = Network.builder(3, 32, 32).conv2d(3, 16, 3, 1, 1, false).module("conv1").batchNorm().module("bn1").relu();
        int in = 16;
        for (int stage = 0; stage < 3; stage++) {
            int channels = 16 << stage;
            for (int block = 0; block < 3; block++) {
                int stride = stage > 0 && block == 0 ? 2 : 1;
                String name = "layer" + (stage + 1) + "." + block;
                b.save(name).conv2d(in, channels, 3, stride, 1, false).module(name + ".conv1").batchNorm().module(name + ".bn1").relu()
                        .conv2d(channels, channels, 3, 1, 1, false).module(name + ".conv2").batchNorm().module(name + ".bn2");
                if (stride != 1 || in != channels)
                    b.save(name + ".main").from(name).conv2d(in, channels, 1, stride, 0, false).module(name + ".shortcut.0").batchNorm()
                            .module(name + ".shortcut.1").add(name + ".main").relu();
                else b.add(name).relu();
                in = channels;
            }
        }
        return b.globalAvgPool().dense(10).module("linear").build();
    }

    private interface Op {
        void run();
    }

    private static final com.sun.management.OperatingSystemMXBean OS =
            (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();

    /** {median wall ms, median process CPU ms} of repeats runs after one warm-up. */
    private static double[] medianMs(int repeats, Op op) {
        op.run(); // warm-up
        double[] ms = new double[repeats], cpu = new double[repeats];
        for (int r = 0; r < repeats; r++) {
            long t0 = System.nanoTime(), c0 = OS.getProcessCpuTime();
            op.run();
            ms[r] = (System.nanoTime() - t0) / 1e6;
            cpu[r] = (OS.getProcessCpuTime() - c0) / 1e6;
        }
        Arrays.sort(ms);
        Arrays.sort(cpu);
        return new double[] {ms[repeats / 2], cpu[repeats / 2]};
    }

    public static void main(String[] args) {
        int batch = args.length > 0 ? Integer.parseInt(args[0]) : 128;
        int threads = args.length > 1 ? Integer.parseInt(args[1]) : 2;
        int repeats = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        Network net = resnet20();
        int n = net.parameterCount();
        System.out.printf(Locale.ROOT, "ResNet-20: %d layers, %,d parameters; batch %d, %d threads, median of %d%n", net.layers().size(), n, batch, threads,
                repeats);
        try (CpuBackend be = new CpuBackend(threads); NetworkModel m = be.model(net, batch); Batch b = TestNetworks.batch(be, net, batch, 1);
                Vector w = be.vector(net.initialize(2)); Vector v = be.vector(TestNetworks.direction(n, 3)); Vector g = be.allocate(n);
                Vector out = be.allocate(n)) {
            m.setDropoutSeed(1);
            double[] forward = medianMs(repeats, () -> m.forward(w, b));
            double[] gradient = medianMs(repeats, () -> m.gradient(w, b, g));
            m.gradient(w, b, g);
            double[] hvp = medianMs(repeats, () -> m.hvpCached(v, out));
            double[] gn = medianMs(repeats, () -> m.gaussNewtonCached(v, out));
            report("forward", forward, net.forwardFlopsPerSample() * batch, threads);
            report("gradient", gradient, net.gradientFlopsPerSample() * batch, threads);
            report("cached HVP", hvp, net.hvpCachedFlopsPerSample() * batch, threads);
            report("cached Gauss-Newton", gn, Double.NaN, threads);
        }
    }

    /** Wall time, the process CPU time per thread (the wall time of an unloaded machine, near enough) and the GFLOP/s of both. */
    private static void report(String what, double[] ms, double flops, int threads) {
        double perThread = ms[1] / threads;
        String rate = Double.isNaN(flops) ? ""
                : String.format(Locale.ROOT, "  %6.1f GFLOP/s wall, %6.1f per CPU time (%.2f GFLOP of matrix products)", flops / ms[0] * 1e-6,
                        flops / perThread * 1e-6, flops * 1e-9);
        System.out.printf(Locale.ROOT, "%-20s %9.1f ms wall, %9.1f ms CPU / %d threads%s%n", what, ms[0], perThread, threads, rate);
    }
}
