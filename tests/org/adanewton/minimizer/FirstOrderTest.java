package org.adanewton.minimizer;

import static org.adanewton.Tolerances.*;
import static org.junit.jupiter.api.Assertions.*;

import java.util.SplittableRandom;
import org.adanewton.backend.Backend;
import org.adanewton.backend.Vector;
import org.adanewton.backend.cpu.CpuBackend;
import org.adanewton.backend.java.JavaBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class FirstOrderTest {
    private static final int N = 37;

    private static double[] random(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] x = new double[N];
        for (int i = 0; i < N; i++) x[i] = (float) r.nextGaussian();
        return x;
    }

    private static FirstOrderOptions options(FirstOrderOptions.Kind kind) {
        FirstOrderOptions o = FirstOrderOptions.of(kind, 0.01);
        return kind == FirstOrderOptions.Kind.SGD ? new FirstOrderOptions(kind, 0.01, 0.9, true, 0.9, 0.99, 1e-8, 1e-3)
                : new FirstOrderOptions(kind, o.lr(), 0, false, o.beta1(), o.beta2(), o.eps(), 1e-3);
    }

    private static double[] run(Backend be, FirstOrderOptions o, int steps) {
        try (FirstOrderOptimizer opt = new FirstOrderOptimizer(be, N, o); Vector w = be.vector(random(1)); Vector g = be.allocate(N)) {
            for (int k = 0; k < steps; k++) {
                be.set(g, random(100 + k));
                opt.step(w, g);
            }
            return w.toArray();
        }
    }

    @ParameterizedTest
    @EnumSource(FirstOrderOptions.Kind.class)
    void fusedNativeKernelMatchesJavaReference(FirstOrderOptions.Kind kind) {
        assertClose(kind + " native vs Java", run(new CpuBackend(2), options(kind), 10), run(new JavaBackend(), options(kind), 10), FLOAT_ATOL,
                FLOAT_RTOL);
    }

    @Test
    void adamMatchesItsFormulaWrittenOut() {
        FirstOrderOptions o = options(FirstOrderOptions.Kind.ADAM);
        double[] w = random(1), m = new double[N], v = new double[N];
        for (int t = 1; t <= 3; t++) {
            double[] g = random(100 + t - 1);
            for (int i = 0; i < N; i++) {
                double d = g[i] + o.weightDecay() * w[i];
                m[i] = o.beta1() * m[i] + (1 - o.beta1()) * d;
                v[i] = o.beta2() * v[i] + (1 - o.beta2()) * d * d;
                double mh = m[i] / (1 - Math.pow(o.beta1(), t)), vh = v[i] / (1 - Math.pow(o.beta2(), t));
                w[i] -= o.lr() * mh / (Math.sqrt(vh) + o.eps());
            }
        }
        assertClose("adam", run(new JavaBackend(), o, 3), w, 1e-14, 1e-12);
    }

    @Test
    void stateRoundTrips() {
        JavaBackend be = new JavaBackend();
        FirstOrderOptions o = options(FirstOrderOptions.Kind.ADAMW);
        try (FirstOrderOptimizer a = new FirstOrderOptimizer(be, N, o); FirstOrderOptimizer b = new FirstOrderOptimizer(be, N, o);
                Vector wa = be.vector(random(1)); Vector wb = be.vector(random(1)); Vector g = be.vector(random(5))) {
            a.step(wa, g);
            b.restoreState(a.saveState());
            be.copy(wa, wb);
            a.step(wa, g);
            b.step(wb, g);
            assertArrayEquals(wa.toArray(), wb.toArray());
        }
    }

    @Test
    void invalidOptionsNameTheRule() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new FirstOrderOptions(FirstOrderOptions.Kind.SGD, 0, 0, false, 0.9, 0.9, 1e-8, 0))
                .getMessage().contains("lr = 0.0"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new FirstOrderOptions(FirstOrderOptions.Kind.SGD, 0.1, 0, true, 0.9, 0.9, 1e-8, 0))
                .getMessage().contains("nesterov"));
    }
}
