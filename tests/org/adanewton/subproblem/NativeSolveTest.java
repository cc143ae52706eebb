package org.adanewton.subproblem;

import static org.adanewton.Tolerances.*;
import static org.junit.jupiter.api.Assertions.*;

import org.adanewton.backend.Backend;
import org.adanewton.backend.cpu.CpuBackend;
import org.adanewton.backend.java.JavaBackend;
import org.adanewton.nn.Network;
import org.adanewton.subproblem.SolveCases.Outcome;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The native whole-solves (Steihaug, GLTR, ARC; Hessian and Gauss-Newton) against the same
 * algorithms looping in Java over the CPU backend's vectors (same float arithmetic) and over the
 * Java backend (double).
 */
class NativeSolveTest {
    /** Native solve vs Java loop on the same float vectors: only summation order differs. */
    private static final double SAME_PRECISION_RTOL = 2e-3;
    /** Float CG vs double CG: Krylov iterations amplify float rounding. */
    private static final double CROSS_PRECISION_RTOL = 2e-2;

    private static final Network NET = Network.builder(12).dense(10).tanh().dense(6).softplus().dense(4).build();

    private static Outcome solve(Backend be, String name, boolean gn, double reg, boolean forceJavaLoop) {
        return SolveCases.solve(be, NET, name, gn, reg, 30, forceJavaLoop, () -> 0);
    }

    @ParameterizedTest(name = "{0} gaussNewton={1} regularization={2}")
    @MethodSource("org.adanewton.subproblem.SolveCases#all")
    void nativeSolveMatchesJavaLoops(String name, boolean gn, double reg) {
        CpuBackend cpu = new CpuBackend(2);
        Outcome nat = solve(cpu, name, gn, reg, false);
        Outcome loop = solve(cpu, name, gn, reg, true);
        Outcome ref = solve(new JavaBackend(), name, gn, reg, false);
        assertEquals(loop.result().exit(), nat.result().exit(), "exit reason");
        assertEquals(loop.result().iterations(), nat.result().iterations(), "iterations");
        assertClose("step (native vs Java loop, float)", nat.step(), loop.step(), SAME_PRECISION_RTOL, SAME_PRECISION_RTOL);
        assertClose("model decrease", nat.result().modelDecrease(), loop.result().modelDecrease(), 1e-7, SAME_PRECISION_RTOL);
        assertClose("step (native float vs Java double)", nat.step(), ref.step(), CROSS_PRECISION_RTOL, CROSS_PRECISION_RTOL);
        assertClose("model decrease vs double", nat.result().modelDecrease(), ref.result().modelDecrease(), 1e-6, CROSS_PRECISION_RTOL);
        assertClose("step norm vs double", nat.result().stepNorm(), ref.result().stepNorm(), 1e-6, CROSS_PRECISION_RTOL);
    }
}
