package org.adanewton.bench;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import org.adanewton.backend.Vector;
import org.adanewton.backend.cpu.CpuBackend;
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
 * Streaming vector kernels of the native CPU backend (single-threaded SIMD loops) at the
 * parameter counts of the two benchmark networks: 784-128-10 (101,770) and 784-512-256-10 (535,818).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 3, time = 1, timeUnit = TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class VectorBenchmarks {

    @Param({"101770", "535818"})
    public int n;

    private CpuBackend backend;
    private Vector x;
    private Vector y;
    private Vector a;

    @Setup(Level.Trial)
    public void setUp() {
        backend = new CpuBackend(1); // vector kernels are single-threaded whatever the thread count
        SplittableRandom random = new SplittableRandom(7);
        double[] xs = new double[n];
        double[] ys = new double[n];
        double[] as = new double[n];
        for (int i = 0; i < n; i++) {
            xs[i] = random.nextDouble() * 2 - 1;
            ys[i] = random.nextDouble() * 2 - 1;
            as[i] = 0.5 + random.nextDouble(); // positive weights, like a diagonal metric
        }
        x = backend.vector(xs);
        y = backend.vector(ys);
        a = backend.vector(as);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (x != null) x.close();
        if (y != null) y.close();
        if (a != null) a.close();
        if (backend != null) backend.close();
    }

    @Benchmark
    public double dot() {
        return backend.dot(x, y);
    }

    /** y += alpha x with a tiny alpha, so y stays bounded over millions of calls. */
    @Benchmark
    public void axpy(Blackhole bh) {
        backend.axpy(1e-7, x, y);
        bh.consume(y);
    }

    @Benchmark
    public double weightedNorm() {
        return backend.weightedNorm(a, x);
    }
}
