package org.adanewton.nn;

import static org.adanewton.Tolerances.*;
import static org.junit.jupiter.api.Assertions.*;

import org.adanewton.backend.Backend;
import org.adanewton.backend.Batch;
import org.adanewton.backend.NetworkModel;
import org.adanewton.backend.Vector;
import org.adanewton.backend.cpu.CpuBackend;
import org.adanewton.backend.java.JavaBackend;
import org.junit.jupiter.api.Test;

/**
 * The trainer's order on a batch norm network: gradient, updateRunningStatistics, then the solve's
 * cached products. Folding the batch statistics into the running ones does not change the
 * training-mode model, so the cached point stays valid on every backend (a native engine that
 * dropped its cache there made every TR iteration fail), and the products are those before the fold.
 */
class RunningStatisticsCacheTest {
    @Test
    void cachedProductsSurviveTheRunningStatisticsUpdate() {
        Network net = TestNetworks.residualCnn(Loss.SOFTMAX_CROSS_ENTROPY, Regularization.NONE);
        int rows = 6;
        for (Backend be : new Backend[] {new JavaBackend(), new CpuBackend(2)}) {
            try (be; NetworkModel m = be.model(net, rows); Batch b = TestNetworks.batch(be, net, rows, 3); Vector w = be.vector(net.initialize(5));
                    Vector g = be.allocate(net.parameterCount()); Vector v = be.vector(net.initialize(6)); Vector before = be.allocate(net.parameterCount());
                    Vector after = be.allocate(net.parameterCount())) {
                m.gradient(w, b, g);
                m.hvpCached(v, before);
                double[] running = m.runningStatistics();
                m.updateRunningStatistics();
                assertNotEquals(running[0], m.runningStatistics()[0], be.kind() + ": the running mean moved");
                assertTrue(m.hasCachedPoint(), be.kind() + ": the cached point survives the update");
                m.hvpCached(v, after);
                double[] x = before.toArray(), y = after.toArray();
                for (int i = 0; i < x.length; i++) assertEquals(x[i], y[i], FLOAT_ATOL + FLOAT_RTOL * Math.abs(x[i]), be.kind() + ": H v [" + i + "]");
            }
        }
    }
}
