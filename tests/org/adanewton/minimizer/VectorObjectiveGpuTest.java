package org.adanewton.minimizer;

import static org.adanewton.Tolerances.assertClose;
import static org.junit.jupiter.api.Assertions.*;

import org.adanewton.api.TerminationType;
import org.adanewton.backend.GpuTest;
import org.adanewton.backend.Vector;
import org.adanewton.backend.cpu.CpuBackend;
import org.adanewton.backend.cuda.CudaBackend;
import org.adanewton.subproblem.KrylovOptions;
import org.junit.jupiter.api.Test;

/**
 * A VectorObjective on the CUDA backend (its products by the backend's own device operations):
 * converges, steady-state iterations make no device allocation, and the device address of a vector
 * is stable and refused for a vector of another backend.
 */
@GpuTest
class VectorObjectiveGpuTest {

    @Test
    void aVectorObjectiveRunsOnTheDeviceWithoutAllocating() {
        int n = 2000;
        try (CudaBackend be = new CudaBackend(); VectorObjectiveTest.DiagonalQuadratic q = VectorObjectiveTest.DiagonalQuadratic.create(be, n);
                Vector x = be.allocate(n); VectorObjectiveProblem p = new VectorObjectiveProblem(be, q)) {
            long address = CudaBackend.deviceAddress(x);
            assertNotEquals(0, address);
            assertEquals(address, CudaBackend.deviceAddress(x), "the same storage on every call");
            MinimizerOptions o = MinimizerOptions.builder().method(Method.TR_STEIHAUG).gradientTolerance(VectorObjectiveTest.FLOAT_GTOL)
                    .maxIterations(500).keepHistory(false).krylov(new KrylovOptions(50, 0.1, KrylovOptions.StoppingRule.RESIDUAL)).build();
            try (Minimizer m = new Minimizer(p, o, x)) {
                for (int i = 0; i < 3; i++) assertNull(m.next());
                long device = be.deviceAllocations();
                TerminationType why;
                do why = m.next(); while (why == null);
                assertEquals(TerminationType.CONVERGENCE, why, m.summary(why).report());
                assertEquals(0, be.deviceAllocations() - device, "device allocations in steady-state iterations");
            }
            assertClose("x", x.toArray(), q.solution(), VectorObjectiveTest.FLOAT_XTOL, VectorObjectiveTest.FLOAT_XTOL);
            try (CpuBackend cpu = new CpuBackend(1); Vector c = cpu.allocate(2)) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CudaBackend.deviceAddress(c));
                assertEquals("v is a CPU vector; CudaBackend.deviceAddress needs a CUDA vector", e.getMessage());
            }
        }
    }
}
