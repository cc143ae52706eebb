package org.adanewton.bench;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.adanewton.backend.Batch;
import org.adanewton.backend.NetworkModel;
import org.adanewton.backend.Vector;
import org.adanewton.backend.cpu.CpuBackend;
import org.adanewton.nn.Network;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Network kernels of the native CPU backend: loss, gradient, Hessian-vector products (from scratch
 * and at the cached point) and Gauss-Newton products, on random MNIST-shaped data.
 *
 * <p>Each benchmark/parameter combination runs in its own fork, so the cached point set up in
 * {@link #setUp()} (by a gradient() call) is still valid for {@code hvpCached} and
 * {@code gaussNewtonCached}, which never invalidate it.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 3, time = 1, timeUnit = TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class KernelBenchmarks {

    @Param({"784-128-10-tanh", "784-512-256-10-relu"})
    public String model;

    @Param({"128", "512", "2048"})
    public int batch;

    @Param({"2"})
    public int threads;

    private CpuBackend backend;
    private Network network;
    private NetworkModel networkModel;
    private Batch data;
    private Vector w;
    private Vector grad;
    private Vector v;
    private Vector out;

    static Network network(String name) {
        switch (name) {
            case "784-128-10-tanh":
                return Network.builder(784).dense(128).tanh().dense(10).build();
            case "784-512-256-10-relu":
                return Network.builder(784).dense(512).relu().dense(256).relu().dense(10).build();
            default:
                throw new IllegalArgumentException("unknown model " + name
                        + "; expected 784-128-10-tanh or 784-512-256-10-relu");
        }
    }

    @Setup(Level.Trial)
    public void setUp() {
        backend = new CpuBackend(threads);
        network = network(model);
        networkModel = backend.model(network, batch);
        data = backend.batch(network, batch);

        SplittableRandom random = new SplittableRandom(42);
        int inputDim = network.inputDim();
        int classes = network.outputDim();
        float[] inputs = new float[batch * inputDim];
        for (int i = 0; i < inputs.length; i++) inputs[i] = (float) random.nextDouble();
        int[] labels = new int[batch];
        for (int i = 0; i < batch; i++) labels[i] = random.nextInt(classes);
        data.set(inputs, labels, batch);

        int p = network.parameterCount();
        w = backend.vector(network.initialize(1));
        grad = backend.allocate(p);
        out = backend.allocate(p);
        double[] direction = new double[p];
        for (int i = 0; i < p; i++) direction[i] = random.nextDouble() * 2 - 1;
        v = backend.vector(direction);

        // Caches the point (w, data) for hvpCached and gaussNewtonCached.
        networkModel.gradient(w, data, grad);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        for (AutoCloseable c : new AutoCloseable[] {v, out, grad, w, data, networkModel, backend}) {
            if (c == null) continue;
            try {
                c.close();
            } catch (Exception e) {
                throw new IllegalStateException("closing " + c, e);
            }
        }
    }

    @Benchmark
    public double loss() {
        return networkModel.loss(w, data);
    }

    @Benchmark
    public double gradient() {
        return networkModel.gradient(w, data, grad);
    }

    @Benchmark
    public double hvpScratch() {
        return networkModel.hvp(w, data, v, out);
    }

    @Benchmark
    public void hvpCached(Blackhole bh) {
        networkModel.hvpCached(v, out);
        bh.consume(out);
    }

    @Benchmark
    public void gaussNewtonCached(Blackhole bh) {
        networkModel.gaussNewtonCached(v, out);
        bh.consume(out);
    }
}
