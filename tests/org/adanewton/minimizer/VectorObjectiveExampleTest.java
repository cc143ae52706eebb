package org.adanewton.minimizer;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.FloatBuffer;
import org.adanewton.api.TerminationType;
import org.adanewton.api.VectorObjective;
import org.adanewton.backend.Vector;
import org.adanewton.backend.cpu.CpuBackend;
import org.junit.jupiter.api.Test;

/** The README's VectorObjective example (there n = 1,000,000; here smaller), as written there. */
class VectorObjectiveExampleTest {

    static MinimizeResult example(int n) {
        // f(x) = sum_i d_i x_i^2 / 2 - x_i, gradient and Hessian-vector product written in place on the CPU backend's float32 storage
        float[] d = new float[n];
        for (int i = 0; i < n; i++) d[i] = 1 + i % 100;
        VectorObjective quadratic = new VectorObjective() {
            public int dimension() { return n; }

            public double value(Vector x) {
                FloatBuffer xb = CpuBackend.buffer(x);   // x's own memory, no copy
                double f = 0;
                for (int i = 0; i < n; i++) f += 0.5 * d[i] * xb.get(i) * xb.get(i) - xb.get(i);
                return f;
            }

            public double gradient(Vector x, Vector g) {
                FloatBuffer xb = CpuBackend.buffer(x), gb = CpuBackend.buffer(g);
                for (int i = 0; i < n; i++) gb.put(i, d[i] * xb.get(i) - 1);
                return value(x);
            }

            public void hessianVector(Vector x, Vector v, Vector hv) {   // v, hv: the solver's own vectors
                FloatBuffer vb = CpuBackend.buffer(v), hb = CpuBackend.buffer(hv);
                for (int i = 0; i < n; i++) hb.put(i, d[i] * vb.get(i));
            }
        };
        try (CpuBackend backend = new CpuBackend()) {
            MinimizeResult r = Minimize.minimize(backend, quadratic, new double[n],
                    MinimizerOptions.builder().method(Method.TR_STEIHAUG).gradientTolerance(1e-3).build());
            System.out.println(r.termination() + ": f = " + r.f() + ", ||g|| = " + r.gradientNorm() + ", " + r.products() + " HVPs");
            return r;   // r.x(): the minimizer as double[]; r.summary().report(): counts and times
        }
    }

    @Test
    void theReadmeExampleConverges() {
        int n = 20_000;
        MinimizeResult r = example(n);
        assertEquals(TerminationType.CONVERGENCE, r.termination(), r.summary().report());
        for (int i = 0; i < n; i += 997) assertEquals(1.0 / (1 + i % 100), r.x()[i], 1e-4, "x[" + i + "]");
    }
}
