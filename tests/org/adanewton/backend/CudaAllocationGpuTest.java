package org.adanewton.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.adanewton.api.StepSolver;
import org.adanewton.backend.cuda.CudaBackend;
import org.adanewton.nn.TestNetworks;
import org.adanewton.subproblem.KrylovOptions;
import org.adanewton.subproblem.KrylovSolvers;
import org.junit.jupiter.api.Test;

/**
 * Steady-state iterations on the CUDA backend allocate nothing: no device or pinned memory in
 * gradients, cached products, vector operations and whole solves (after the first solve has grown
 * the work space), and nothing on the Java heap in products and vector operations.
 */
@GpuTest
class CudaAllocationGpuTest {

    @Test
    void steadyStateIterationsAllocateNothing() {
        int n = AllocationTest.NET.parameterCount();
        KrylovOptions k = new KrylovOptions(10, 1e-8, KrylovOptions.StoppingRule.RESIDUAL);
        try (CudaBackend be = new CudaBackend(); NetworkModel m = be.model(AllocationTest.NET, 32);
                Batch b = TestNetworks.batch(be, AllocationTest.NET, 32, 1); Vector w = be.vector(AllocationTest.NET.initialize(1));
                Vector g = be.allocate(n); Vector v = be.vector(TestNetworks.direction(n, 2)); Vector out = be.allocate(n); Vector a = be.allocate(n);
                Vector s = be.allocate(n); StepSolver cg = KrylovSolvers.steihaug(be, n, k);
                StepSolver arc = KrylovSolvers.arc(be, n, k)) {
            be.fill(a, 1.0);
            Runnable solves = () -> {
                m.gradient(w, b, g);
                cg.solve(g, m.hessian(), a, 1.0, s);
                arc.solve(g, m.gaussNewton(), a, 1.0, s);
            };
            solves.run(); // grows the solves' work space once
            long device = be.deviceAllocations();
            assertEquals(0, AllocationTest.heapBytes(AllocationTest.products(be, m, b, w, g, v, out), 200),
                    "Java heap bytes allocated by 200 steady-state iterations");
            for (int i = 0; i < 20; i++) solves.run();
            assertEquals(0, be.deviceAllocations() - device, "device and pinned allocations in 2200 iterations and 20 pairs of solves");
        }
    }
}
