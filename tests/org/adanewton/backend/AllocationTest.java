package org.adanewton.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.management.ManagementFactory;
import org.adanewton.backend.cpu.CpuBackend;
import org.adanewton.nn.Network;
import org.adanewton.nn.TestNetworks;
import org.junit.jupiter.api.Test;

/** Steady-state products on the CPU backend allocate nothing on the Java heap. */
class AllocationTest {
    static final Network NET = Network.builder(20).dense(16).tanh().dense(5).build();

    /** A gradient, then 5 cached HVPs and Gauss-Newton products with vector operations between. */
    static Runnable products(Backend be, NetworkModel m, Batch b, Vector w, Vector g, Vector v, Vector out) {
        return () -> {
            m.gradient(w, b, g);
            for (int i = 0; i < 5; i++) {
                m.hvpCached(v, out);
                m.gaussNewtonCached(v, out);
                be.axpy(be.dot(out, v) * 1e-9, out, v);
                be.scale(1.0 / be.norm(v), v);
            }
        };
    }

    /** Java heap bytes this thread allocates in `runs` calls of step, after 2000 calls of JIT warm-up (escape analysis). */
    static long heapBytes(Runnable step, int runs) {
        com.sun.management.ThreadMXBean bean = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        for (int i = 0; i < 2000; i++) step.run();
        long tid = Thread.currentThread().getId();
        long before = bean.getThreadAllocatedBytes(tid);
        for (int i = 0; i < runs; i++) step.run();
        return bean.getThreadAllocatedBytes(tid) - before;
    }

    @Test
    void cachedProductsAndVectorOpsAllocateNothing() {
        int n = NET.parameterCount();
        try (CpuBackend be = new CpuBackend(2); NetworkModel m = be.model(NET, 32); Batch b = TestNetworks.batch(be, NET, 32, 1);
                Vector w = be.vector(NET.initialize(1)); Vector g = be.allocate(n); Vector v = be.vector(TestNetworks.direction(n, 2));
                Vector out = be.allocate(n)) {
            assertEquals(0, heapBytes(products(be, m, b, w, g, v, out), 200), "bytes allocated by 200 steady-state iterations");
        }
    }

    /** The same on graph networks with batch norm (training mode) and dropout, with a new dropout seed each iteration. */
    @Test
    void graphNetworksWithModesAllocateNothing() {
        for (Network net : new Network[] {TestNetworks.residualCnn(org.adanewton.nn.Loss.SOFTMAX_CROSS_ENTROPY, org.adanewton.nn.Regularization.NONE),
                TestNetworks.normMlp(org.adanewton.nn.Loss.SQUARED_ERROR_MEAN, org.adanewton.nn.Regularization.squared(0.01))}) {
            int n = net.parameterCount();
            try (CpuBackend be = new CpuBackend(2); NetworkModel m = be.model(net, 8); Batch b = TestNetworks.batch(be, net, 8, 1);
                    Vector w = be.vector(net.initialize(1)); Vector g = be.allocate(n); Vector v = be.vector(TestNetworks.direction(n, 2));
                    Vector out = be.allocate(n)) {
                Runnable products = products(be, m, b, w, g, v, out);
                long[] seed = {0};
                Runnable iteration = () -> {
                    m.setDropoutSeed(++seed[0]);
                    products.run();
                };
                assertEquals(0, heapBytes(iteration, 100), "bytes allocated by 100 steady-state iterations of " + net.describe());
            }
        }
    }
}
