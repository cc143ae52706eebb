package org.adanewton.backend;

import static org.adanewton.Tolerances.*;
import static org.junit.jupiter.api.Assertions.*;

import java.util.SplittableRandom;
import java.util.function.LongSupplier;
import org.adanewton.backend.cpu.CpuBackend;
import org.adanewton.backend.cuda.CudaBackend;
import org.adanewton.backend.java.JavaBackend;
import org.adanewton.minimizer.FirstOrderOptimizer;
import org.adanewton.minimizer.FirstOrderOptions;
import org.adanewton.nn.Network;
import org.adanewton.nn.Regularization;
import org.adanewton.nn.TestNetworks;
import org.adanewton.select.Backends;
import org.adanewton.subproblem.SolveCases.Outcome;
import org.adanewton.subproblem.SolveCases;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The CUDA backend against the CPU backend and the Java reference (named float32 tolerances):
 * vector operations, fused first-order steps, every network kernel (dense, conv2d, pooling) for
 * every activation and loss, the whole Steihaug, GLTR and ARC solves on the device, and the number
 * of host synchronizations they make. Runs only where a GPU answers (see {@link GpuTest}).
 */
@GpuTest
class CudaParityGpuTest {

    private static double[] random(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] x = new double[n];
        for (int i = 0; i < n; i++) x[i] = (float) r.nextDouble(-1, 1);
        return x;
    }

    @Test
    void vectorOperationsMatchTheCpuBackend() {
        try (CudaBackend gpu = new CudaBackend()) {
            CpuBackend cpu = new CpuBackend(2);
            for (int n : new int[] {1, 255, 256, 257, 100_003}) {
                double[] x = random(n, 1), y = random(n, 2), a = random(n, 3);
                for (int i = 0; i < n; i++) a[i] = Math.abs(a[i]) + 0.5;
                try (Vector gx = gpu.vector(x); Vector gy = gpu.vector(y); Vector ga = gpu.vector(a); Vector cx = cpu.vector(x); Vector cy = cpu.vector(y);
                        Vector ca = cpu.vector(a)) {
                    assertClose("dot", gpu.dot(gx, gy), cpu.dot(cx, cy), FLOAT_ATOL, 1e-9);
                    assertClose("weightedNorm", gpu.weightedNorm(ga, gx), cpu.weightedNorm(ca, cx), FLOAT_ATOL, 1e-9);
                    gpu.axpby(0.5, gx, -2, gy);
                    cpu.axpby(0.5, cx, -2, cy);
                    assertClose("axpby", gy.toArray(), cy.toArray(), FLOAT_ATOL, FLOAT_RTOL);
                    gpu.divide(gy, ga, gy);
                    cpu.divide(cy, ca, cy);
                    assertClose("divide", gy.toArray(), cy.toArray(), FLOAT_ATOL, FLOAT_RTOL);
                    gpu.accumulateSquares(0.8, 0.2, gx, ga);
                    cpu.accumulateSquares(0.8, 0.2, cx, ca);
                    gpu.rootMetric(ga, 1, 1e-8, 1e-12, 1e15, gy);
                    cpu.rootMetric(ca, 1, 1e-8, 1e-12, 1e15, cy);
                    assertClose("rootMetric", gy.toArray(), cy.toArray(), FLOAT_ATOL, FLOAT_RTOL);
                    assertEquals(0, gpu.countNonFinite(gy));
                }
            }
        }
    }

    @Test
    void fusedFirstOrderStepsMatchTheReference() {
        try (CudaBackend gpu = new CudaBackend()) {
            JavaBackend ref = new JavaBackend();
            for (FirstOrderOptions.Kind kind : FirstOrderOptions.Kind.values()) {
                FirstOrderOptions o = FirstOrderOptions.of(kind, 0.01);
                double[][] out = new double[2][];
                int k = 0;
                for (Backend be : new Backend[] {gpu, ref}) {
                    try (FirstOrderOptimizer opt = new FirstOrderOptimizer(be, 1000, o); Vector w = be.vector(random(1000, 4)); Vector g = be.allocate(1000)) {
                        for (int s = 0; s < 5; s++) {
                            be.set(g, random(1000, 10 + s));
                            opt.step(w, g);
                        }
                        out[k++] = w.toArray();
                    }
                }
                assertClose(kind + " on CUDA", out[0], out[1], FLOAT_ATOL, FLOAT_RTOL);
            }
        }
    }

    @Test
    void networkKernelsMatchTheReference() {
        JavaBackend ref = new JavaBackend();
        try (CudaBackend gpu = new CudaBackend()) {
            for (Network net : TestNetworks.all()) {
                int n = net.parameterCount();
                double[][] got = new double[2][];
                double[] loss = new double[2];
                int k = 0;
                for (Backend be : new Backend[] {gpu, ref}) {
                    try (NetworkModel m = be.model(net, 37); Batch b = TestNetworks.batch(be, net, 37, 11); Vector w = be.vector(TestNetworks.point(net, 12));
                            Vector v = be.vector(TestNetworks.direction(n, 13)); Vector g = be.allocate(n); Vector hv = be.allocate(n);
                            Vector gn = be.allocate(n); Vector hs = be.allocate(n)) {
                        loss[k] = m.gradient(w, b, g);
                        m.hvpCached(v, hv);
                        m.gaussNewtonCached(v, gn);
                        m.hvp(w, b, v, hs);
                        double[] all = new double[4 * n];
                        System.arraycopy(g.toArray(), 0, all, 0, n);
                        System.arraycopy(hv.toArray(), 0, all, n, n);
                        System.arraycopy(gn.toArray(), 0, all, 2 * n, n);
                        System.arraycopy(hs.toArray(), 0, all, 3 * n, n);
                        got[k++] = all;
                    }
                }
                assertClose("loss " + net, loss[0], loss[1], FLOAT_ATOL, FLOAT_RTOL);
                assertClose("gradient, HVP, GN, HVP from scratch " + net, got[0], got[1], FLOAT_ATOL, FLOAT_RTOL);
            }
        }
    }

    /** Native device solve vs the Java loop over the same device products: only summation order differs. */
    private static final double SOLVE_RTOL = 2e-3;
    /** Device vs CPU: the products round differently (GEMM blocking), which a Krylov solve amplifies. */
    private static final double CROSS_BACKEND_RTOL = 2e-2;

    /** One solve (see SolveCases) at a fixed point of SOLVE_NET; counted: the device's host waits during it (0 on the CPU). */
    private static Outcome solve(Backend be, String name, boolean gn, double reg, int maxIterations, boolean javaLoop) {
        LongSupplier syncs = be instanceof CudaBackend c ? c::hostSynchronizations : () -> 0;
        return SolveCases.solve(be, SOLVE_NET, name, gn, reg, maxIterations, javaLoop, syncs);
    }

    private static final Network SOLVE_NET = Network.builder(12).dense(10).tanh().dense(6).softplus().dense(4)
            .regularization(Regularization.norm(1e-3)).build();

    @ParameterizedTest(name = "{0} gaussNewton={1} regularization={2}")
    @MethodSource("org.adanewton.subproblem.SolveCases#all")
    void wholeSolvesOnTheDeviceMatchTheJavaLoopAndTheCpu(String name, boolean gn, double reg) {
        Outcome dev, loop, cpu;
        try (CudaBackend gpu = new CudaBackend()) {
            dev = solve(gpu, name, gn, reg, 30, false);
            loop = solve(gpu, name, gn, reg, 30, true);
        }
        cpu = solve(new CpuBackend(2), name, gn, reg, 30, false);
        // the same products: the native device solve is the Java loop, up to summation order
        assertEquals(loop.result().exit(), dev.result().exit(), "exit reason (native vs Java loop on the device)");
        assertEquals(loop.result().iterations(), dev.result().iterations(), "iterations (native vs Java loop on the device)");
        assertClose("model decrease", dev.result().modelDecrease(), loop.result().modelDecrease(), FLOAT_ATOL, SOLVE_RTOL);
        assertClose("step (native vs Java loop on the device)", dev.step(), loop.step(), FLOAT_ATOL, SOLVE_RTOL);
        // another backend's products: the same outcome, a stopping test may pass one iteration apart
        assertEquals(cpu.result().exit(), dev.result().exit(), "exit reason (CUDA vs CPU)");
        assertTrue(Math.abs(cpu.result().iterations() - dev.result().iterations()) <= 1,
                "iterations: CUDA " + dev.result().iterations() + ", CPU " + cpu.result().iterations());
        assertClose("model decrease (CUDA vs CPU)", dev.result().modelDecrease(), cpu.result().modelDecrease(), FLOAT_ATOL, CROSS_BACKEND_RTOL);
    }

    /**
     * The host waits only where a branch needs a scalar: 1 + 2 per CG iteration (Steihaug), 1 + 1 per
     * Lanczos iteration, none inside a product (the norm regularizer's Hessian included).
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"steihaug", "gltr", "arc"})
    void hostSynchronizationsPerIteration(String name) {
        try (CudaBackend gpu = new CudaBackend()) {
            // a region out of reach (and a tiny sigma for ARC), so that the solve runs several iterations
            Outcome dev = solve(gpu, name, true, name.equals("arc") ? 1e-6 : 1e6, 25, false);
            int k = dev.result().iterations();
            assertTrue(k >= 2, "the solve ran " + k + " iterations; the check needs a few");
            long allowed = name.equals("steihaug") ? 1 + 2L * k : 1 + k;
            assertTrue(dev.counted() <= allowed, name + ": " + dev.counted() + " host synchronizations in " + k + " iterations; at most " + allowed);

            int n = SOLVE_NET.parameterCount();
            try (NetworkModel m = gpu.model(SOLVE_NET, 50); Batch b = TestNetworks.batch(gpu, SOLVE_NET, 50, 3);
                    Vector w = gpu.vector(TestNetworks.point(SOLVE_NET, 4)); Vector g = gpu.allocate(n); Vector v = gpu.vector(TestNetworks.direction(n, 5));
                    Vector hv = gpu.allocate(n)) {
                long before = gpu.hostSynchronizations();
                m.gradient(w, b, g);
                assertEquals(1, gpu.hostSynchronizations() - before, "host synchronizations in a gradient (the loss value)");
                before = gpu.hostSynchronizations();
                m.hvpCached(v, hv);
                m.gaussNewtonCached(v, hv);
                assertEquals(0, gpu.hostSynchronizations() - before, "host synchronizations in cached products");
            }
        }
    }

    @Test
    void autoPicksTheDeviceAfterItsSelfTest() {
        Backends.Selection sel = Backends.select(BackendKind.AUTO, 1);
        try (Backend be = sel.backend()) {
            assertEquals(BackendKind.CUDA, be.kind(), String.join("; ", sel.notes()));
        }
    }

    @Test
    void closingTheBackendClosesItsModelsAndBatches() {
        Network net = Network.builder(6).dense(5).tanh().dense(3).build();
        CudaBackend gpu = new CudaBackend();
        NetworkModel model = gpu.model(net, 4);
        Batch batch = gpu.batch(net, 4);
        gpu.close();
        assertTrue(model.isClosed() && batch.isClosed(), "the backend's models and batches close with it");
        model.close(); // idempotent: nothing reaches the destroyed context
        batch.close();
    }
}
