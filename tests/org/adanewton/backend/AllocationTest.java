package org.adanewton.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.management.ManagementFactory;
import org.adanewton.backend.cpu.CpuBackend;
import org.adanewton.nn.Batch;
import org.adanewton.nn.Network;
import org.adanewton.nn.NetworkModel;
import org.adanewton.nn.TestNetworks;
import org.junit.jupiter.api.Test;

/** Steady-state products on the CPU backend allocate nothing on the Java heap. */
class AllocationTest {

    @Test
    void cachedProductsAndVectorOpsAllocateNothing() {
        com.sun.management.ThreadMXBean bean = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        Network net = Network.builder(20).dense(16).tanh().dense(5).build();
        int n = net.parameterCount();
        try (CpuBackend be = new CpuBackend(2); NetworkModel m = be.model(net, 32); Batch b = TestNetworks.batch(be, net, 32, 1);
                Vector w = be.vector(net.initialize(1)); Vector g = be.allocate(n); Vector v = be.vector(TestNetworks.direction(n, 2));
                Vector out = be.allocate(n)) {
            Runnable step = () -> {
                m.gradient(w, b, g);
                for (int i = 0; i < 5; i++) {
                    m.hvpCached(v, out);
                    m.gaussNewtonCached(v, out);
                    be.axpy(be.dot(out, v) * 1e-9, out, v);
                    be.scale(1.0 / be.norm(v), v);
                }
            };
            for (int i = 0; i < 2000; i++) step.run(); // JIT warm-up (escape analysis)
            long tid = Thread.currentThread().getId();
            long before = bean.getThreadAllocatedBytes(tid);
            for (int i = 0; i < 200; i++) step.run();
            long allocated = bean.getThreadAllocatedBytes(tid) - before;
            assertEquals(0, allocated, "bytes allocated by 200 steady-state iterations");
        }
    }
}
