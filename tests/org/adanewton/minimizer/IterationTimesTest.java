package org.adanewton.minimizer;

import static org.junit.jupiter.api.Assertions.*;

import org.adanewton.backend.Backend;
import org.adanewton.backend.Vector;
import org.adanewton.backend.cpu.CpuBackend;
import org.adanewton.backend.java.JavaBackend;
import org.adanewton.nn.Network;
import org.adanewton.norm.NormKind;
import org.adanewton.subproblem.KrylovOptions;
import org.junit.jupiter.api.Test;

/** The minimizer's time accounting: disjoint parts that add up, the products' count and, on the CPU, their own time. */
class IterationTimesTest {
    /** Slack for the parts' sum against the whole: only rounding of nanosecond sums. */
    static final double SUM_TOLERANCE_SECONDS = 1e-6;

    @Test
    void partsAddUpAndProductsAreTimedInNativeSolves() {
        Network net = Network.builder(StochasticTest.FEATURES).dense(16).tanh().dense(StochasticTest.CLASSES).build();
        for (Backend be : new Backend[] {new CpuBackend(2), new JavaBackend()}) {
            MinimizerOptions o = MinimizerOptions.builder().method(Method.TR_STEIHAUG).norm(NormKind.RMSPROP).gradientTolerance(0).maxIterations(25)
                    .krylov(KrylovOptions.PAPER).trustRegion(new TrustRegionPolicy(0.05, 10, 1e-12, 0.01, 0.95, 1.1, 1.75)).build();
            try (NetworkProblem p = new NetworkProblem(be, net, StochasticTest.X, StochasticTest.Y, null, 64, 0, NetworkProblem.Curvature.HESSIAN, 3);
                    Vector w = be.vector(net.initialize(4)); Minimizer m = new Minimizer(p, o, w)) {
                m.run();
                IterationTimes t = m.times();
                String on = be.kind().toString();
                assertEquals(25, t.iterations(), on);
                assertEquals(m.products(), t.products(), on);
                assertTrue(t.products() > 0, on);
                for (double part : new double[] {t.sample(), t.gradient(), t.normUpdate(), t.solve(), t.trial()}) assertTrue(part > 0, on + ": " + t);
                assertTrue(t.bookkeeping() >= -SUM_TOLERANCE_SECONDS, on + ": " + t);
                assertTrue(t.total() >= t.sample() + t.gradient() + t.normUpdate() + t.solve() + t.trial() - SUM_TOLERANCE_SECONDS, on + ": " + t);
                if (be instanceof CpuBackend) { // a native solve times its products: a positive part of the solve
                    assertTrue(t.productTime() > 0 && t.productTime() < t.solve(), on + ": " + t);
                    assertTrue(t.vectorWork() > 0, on + ": " + t);
                } else {
                    assertTrue(Double.isNaN(t.productTime()), on + ": a Java loop does not time its products: " + t);
                }
            }
        }
    }
}
