package org.adanewton.backend;

import static org.adanewton.Tolerances.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.adanewton.backend.cpu.CpuBackend;
import org.adanewton.backend.java.JavaBackend;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The CPU backend's vector operations against the Java reference, on lengths around the SIMD widths. */
class VectorOpsTest {

    private static double[] random(int n, long seed, double lo, double hi) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] x = new double[n];
        for (int i = 0; i < n; i++) x[i] = r.nextDouble(lo, hi);
        return x;
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 7, 8, 9, 63, 1000, 100_003})
    void cpuVectorOpsMatchJava(int n) {
        JavaBackend ref = new JavaBackend();
        CpuBackend cpu = new CpuBackend(2);
        // values exactly representable in float so both start from the same numbers
        double[] x = toFloat(random(n, 1, -2, 2)), y = toFloat(random(n, 2, -2, 2)), a = toFloat(random(n, 3, 0.5, 3));
        try (Vector rx = ref.vector(x); Vector ry = ref.vector(y); Vector ra = ref.vector(a);
                Vector cx = cpu.vector(x); Vector cy = cpu.vector(y); Vector ca = cpu.vector(a)) {
            assertClose("dot", cpu.dot(cx, cy), ref.dot(rx, ry), FLOAT_ATOL, 1e-12);
            assertClose("norm", cpu.norm(cx), ref.norm(rx), FLOAT_ATOL, 1e-12);
            assertClose("weightedNorm", cpu.weightedNorm(ca, cx), ref.weightedNorm(ra, rx), FLOAT_ATOL, 1e-12);
            ref.axpy(0.5, rx, ry);
            cpu.axpy(0.5, cx, cy);
            assertClose("axpy", cy.toArray(), ry.toArray(), FLOAT_ATOL, FLOAT_RTOL);
            ref.axpby(-1.5, rx, 0.25, ry);
            cpu.axpby(-1.5, cx, 0.25, cy);
            assertClose("axpby", cy.toArray(), ry.toArray(), FLOAT_ATOL, FLOAT_RTOL);
            ref.scale(3, ry);
            cpu.scale(3, cy);
            assertClose("scale", cy.toArray(), ry.toArray(), FLOAT_ATOL, FLOAT_RTOL);
            ref.multiply(rx, ra, ry);
            cpu.multiply(cx, ca, cy);
            assertClose("multiply", cy.toArray(), ry.toArray(), FLOAT_ATOL, FLOAT_RTOL);
            ref.divide(rx, ra, ry);
            cpu.divide(cx, ca, cy);
            assertClose("divide", cy.toArray(), ry.toArray(), FLOAT_ATOL, FLOAT_RTOL);
            ref.copy(ra, ry);
            cpu.copy(ca, cy);
            assertClose("copy", cy.toArray(), ry.toArray(), 0, 0);
            ref.fill(ry, 0.75);
            cpu.fill(cy, 0.75);
            assertClose("fill", cy.toArray(), ry.toArray(), 0, 0);
            assertEquals(0, cpu.countNonFinite(cy));
            if (n > 2) {
                double[] bad = cy.toArray();
                bad[1] = Double.NaN;
                bad[n - 1] = Double.POSITIVE_INFINITY;
                cpu.set(cy, bad);
                assertEquals(2, cpu.countNonFinite(cy));
            }
        }
    }

    private static double[] toFloat(double[] x) {
        for (int i = 0; i < x.length; i++) x[i] = (float) x[i];
        return x;
    }
}
