package org.adanewton.norm;

import static org.adanewton.Tolerances.*;
import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.adanewton.api.Norm;
import org.adanewton.backend.Backend;
import org.adanewton.backend.Vector;
import org.adanewton.backend.cpu.CpuBackend;
import org.adanewton.backend.java.JavaBackend;
import org.junit.jupiter.api.Test;

class NormTest {
    private static final List<Backend> BACKENDS = List.of(new JavaBackend(), new CpuBackend(2));

    @Test
    void updateFormulas() {
        double[] g1 = {1, -2, 0, 3}, g2 = {0.5, 0, 0, -1};
        for (Backend be : BACKENDS) {
            double rtol = be instanceof JavaBackend ? 1e-14 : FLOAT_RTOL;
            try (Vector a = be.vector(g1); Vector b = be.vector(g2)) {
                try (DiagonalNorm n = DiagonalNorm.create(be, 4, NormOptions.builder(NormKind.RMSPROP).beta(0.8).eps(1e-3).build())) {
                    n.update(a);
                    n.update(b);
                    double[] m = n.metric().toArray();
                    for (int i = 0; i < 4; i++) {
                        double v = 0.8 * (0.2 * g1[i] * g1[i]) + 0.2 * g2[i] * g2[i];
                        assertClose("rmsprop a[" + i + "]", m[i], Math.sqrt(v) + 1e-3, 1e-7, rtol);
                    }
                }
                try (DiagonalNorm n = DiagonalNorm.create(be, 4, NormOptions.builder(NormKind.ADAGRAD).eps(0).build())) {
                    n.update(a);
                    n.update(b);
                    double[] m = n.metric().toArray();
                    for (int i = 0; i < 4; i++) {
                        double v = g1[i] * g1[i] + g2[i] * g2[i];
                        assertClose("adagrad a[" + i + "]", m[i], Math.max(Math.sqrt(v), NormOptions.DEFAULT_A_MIN), 1e-7, rtol);
                    }
                }
                try (DiagonalNorm n = DiagonalNorm.create(be, 4, NormOptions.builder(NormKind.ADAM).beta2(0.9).eps(1e-8).build())) {
                    n.update(a);
                    n.update(b);
                    double[] m = n.metric().toArray();
                    for (int i = 0; i < 4; i++) {
                        double v = (0.9 * 0.1 * g1[i] * g1[i] + 0.1 * g2[i] * g2[i]) / (1 - 0.81);
                        assertClose("adam a[" + i + "]", m[i], Math.sqrt(v) + 1e-8, 1e-7, rtol);
                    }
                }
                try (DiagonalNorm n = DiagonalNorm.create(be, 4, NormOptions.builder(NormKind.RMSPROP).beta(0.5).eps(1e-4)
                        .epsPlacement(EpsPlacement.INITIAL_ACCUMULATOR).build())) {
                    n.update(a);
                    double[] m = n.metric().toArray();
                    for (int i = 0; i < 4; i++)
                        assertClose("code-form a[" + i + "]", m[i], Math.sqrt(0.5 * 1e-4 + 0.5 * g1[i] * g1[i]), 1e-7, rtol);
                }
            }
        }
    }

    @Test
    void metricIsNeverZeroOrNonFiniteAndClampHolds() {
        for (Backend be : BACKENDS) {
            for (NormKind kind : NormKind.values()) {
                try (DiagonalNorm n = DiagonalNorm.create(be, 3, NormOptions.builder(kind).eps(1e-30).epsPlacement(EpsPlacement.INITIAL_ACCUMULATOR)
                        .build()); Vector zero = be.allocate(3); Vector huge = be.vector(1e30, -1e30, 1e19)) {
                    for (int k = 0; k < 300; k++) n.update(zero);
                    for (double v : n.metric().toArray()) assertTrue(v > 0 && Double.isFinite(v), kind + ": a = " + v);
                    n.update(huge);
                    for (double v : n.metric().toArray()) assertTrue(v > 0 && Double.isFinite(v), kind + ": a = " + v);
                }
                try (DiagonalNorm n = DiagonalNorm.create(be, 3, NormOptions.builder(kind).clamp(0.5, 2).build());
                        Vector g = be.vector(100, 0, 1)) {
                    n.update(g);
                    for (double v : n.metric().toArray()) assertTrue(v >= 0.5 * (1 - 1e-7) && v <= 2 * (1 + 1e-7), kind + " clamp: " + v);
                }
            }
        }
    }

    @Test
    void nonFiniteGradientIsRefusedAndChangesNothing() {
        for (Backend be : BACKENDS) {
            try (DiagonalNorm n = DiagonalNorm.create(be, 2, NormOptions.of(NormKind.RMSPROP)); Vector g = be.vector(1, 2);
                    Vector bad = be.vector(1, Double.NaN)) {
                n.update(g);
                double[] before = n.metric().toArray();
                assertFalse(n.update(bad));
                assertArrayEquals(before, n.metric().toArray());
                assertEquals(1, n.updates());
            }
        }
    }

    @Test
    void stateRoundTripsExactly() {
        for (Backend be : BACKENDS) {
            try (DiagonalNorm a = DiagonalNorm.create(be, 3, NormOptions.of(NormKind.ADAM)); DiagonalNorm b = DiagonalNorm.create(be, 3, NormOptions.of(NormKind.ADAM));
                    Vector g = be.vector(0.3, -1, 2)) {
                a.update(g);
                a.update(g);
                b.restoreState(a.saveState());
                assertArrayEquals(a.metric().toArray(), b.metric().toArray());
                a.update(g);
                b.update(g);
                assertArrayEquals(a.metric().toArray(), b.metric().toArray());
                assertEquals(3, b.updates());
                Norm.NormState foreign = new Norm.NormState("rmsprop", 1, new double[3]);
                assertTrue(assertThrows(IllegalArgumentException.class, () -> b.restoreState(foreign)).getMessage().contains("rmsprop"));
            }
        }
    }

    @Test
    void invalidOptionsNameTheRule() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> NormOptions.builder(NormKind.RMSPROP).beta(1).build()).getMessage()
                .contains("beta = 1.0; must be in [0, 1)"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> NormOptions.builder(NormKind.ADAM).eps(-1).build()).getMessage()
                .contains("eps = -1.0"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> NormOptions.builder(NormKind.ADAM).clamp(0, 1).build()).getMessage()
                .contains("aMin = 0.0"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> NormKind.parse("l1")).getMessage().contains("norm = 'l1'"));
    }
}
