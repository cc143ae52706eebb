package org.adanewton.backend;

import static org.adanewton.Tolerances.*;
import static org.junit.jupiter.api.Assertions.*;

import java.util.SplittableRandom;
import org.adanewton.api.StepResult;
import org.adanewton.backend.cpu.CpuBackend;
import org.adanewton.backend.cuda.CudaBackend;
import org.adanewton.backend.java.JavaBackend;
import org.adanewton.minimizer.FirstOrderOptimizer;
import org.adanewton.minimizer.FirstOrderOptions;
import org.adanewton.nn.Batch;
import org.adanewton.nn.Network;
import org.adanewton.nn.NetworkModel;
import org.adanewton.nn.TestNetworks;
import org.adanewton.subproblem.KrylovOptions;
import org.adanewton.subproblem.SteihaugCg;
import org.junit.jupiter.api.Test;

/**
 * The CUDA backend against the CPU backend and the Java reference (named float32 tolerances):
 * vector operations, fused first-order steps, every network kernel (dense, conv2d, pooling) for
 * every activation and loss, and a Steihaug solve. Runs only where a GPU answers (see {@link GpuTest}).
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

    @Test
    void steihaugOnTheDeviceMatchesTheCpuSolve() {
        Network net = Network.builder(30).dense(40).tanh().dense(5).build();
        int n = net.parameterCount();
        double[][] steps = new double[2][];
        int k = 0;
        try (CudaBackend gpu = new CudaBackend()) {
            for (Backend be : new Backend[] {gpu, new CpuBackend(2)}) {
                try (NetworkModel m = be.model(net, 64); Batch b = TestNetworks.batch(be, net, 64, 1); Vector w = be.vector(TestNetworks.point(net, 2));
                        Vector g = be.allocate(n); Vector a = be.allocate(n); Vector s = be.allocate(n);
                        SteihaugCg cg = new SteihaugCg(be, n, new KrylovOptions(20, 0.01, KrylovOptions.StoppingRule.RESIDUAL))) {
                    m.gradient(w, b, g);
                    be.fill(a, 1.0);
                    StepResult r = cg.solve(g, m.hessian(), a, 0.5, s);
                    assertTrue(r.isFinite());
                    steps[k++] = s.toArray();
                }
            }
        }
        assertClose("Steihaug step CUDA vs CPU", steps[0], steps[1], 2e-3, 2e-3);
    }
}
