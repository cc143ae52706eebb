package org.adanewton.subproblem;

import static org.adanewton.Tolerances.*;
import static org.junit.jupiter.api.Assertions.*;

import java.util.stream.Stream;
import org.adanewton.api.CurvatureOperator;
import org.adanewton.api.StepResult;
import org.adanewton.api.StepSolver;
import org.adanewton.backend.Backend;
import org.adanewton.backend.Vector;
import org.adanewton.backend.cpu.CpuBackend;
import org.adanewton.backend.java.JavaBackend;
import org.adanewton.nn.Batch;
import org.adanewton.nn.Network;
import org.adanewton.nn.NetworkModel;
import org.adanewton.nn.TestNetworks;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
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

    static Stream<Arguments> cases() {
        return Stream.of("steihaug", "gltr", "arc").flatMap(solver -> Stream.of(false, true).flatMap(gn -> Stream.of(0.05, 0.5, 50.0)
                .map(reg -> Arguments.of(solver, gn, reg))));
    }

    private static StepSolver solver(String name, Backend be, int n) {
        KrylovOptions k = new KrylovOptions(30, 0.01, KrylovOptions.StoppingRule.RESIDUAL);
        return switch (name) {
            case "steihaug" -> new SteihaugCg(be, n, k);
            case "gltr" -> new LanczosTrustRegion(be, n, k);
            default -> new LanczosCubic(be, n, k);
        };
    }

    private record Outcome(StepResult result, double[] step) {}

    private static Outcome solve(Backend be, String name, boolean gn, double reg, boolean forceJavaLoop) {
        Network net = Network.builder(12).dense(10).tanh().dense(6).softplus().dense(4).build();
        int n = net.parameterCount();
        double[] a = new double[n];
        for (int i = 0; i < n; i++) a[i] = 0.5 + (i % 7) * 0.25;
        try (NetworkModel model = be.model(net, 50); Batch b = TestNetworks.batch(be, net, 50, 3); Vector w = be.vector(TestNetworks.point(net, 4));
                Vector g = be.allocate(n); Vector metric = be.vector(a); Vector s = be.allocate(n)) {
            model.gradient(w, b, g);
            CurvatureOperator op = gn ? model.gaussNewton() : model.hessian();
            if (forceJavaLoop) {
                CurvatureOperator inner = op;
                op = inner::apply; // hides the native solve: the Java loop runs
            }
            StepSolver solver = solver(name, be, n);
            StepResult r = solver.solve(g, op, metric, reg, s);
            ((AutoCloseable) solver).close();
            return new Outcome(r, s.toArray());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @ParameterizedTest(name = "{0} gaussNewton={1} regularization={2}")
    @MethodSource("cases")
    void nativeSolveMatchesJavaLoops(String name, boolean gn, double reg) {
        CpuBackend cpu = new CpuBackend(2);
        Outcome nat = solve(cpu, name, gn, reg, false);
        Outcome loop = solve(cpu, name, gn, reg, true);
        Outcome ref = solve(new JavaBackend(), name, gn, reg, false);
        assertEquals(loop.result.exit(), nat.result.exit(), "exit reason");
        assertEquals(loop.result.iterations(), nat.result.iterations(), "iterations");
        assertClose("step (native vs Java loop, float)", nat.step, loop.step, SAME_PRECISION_RTOL, SAME_PRECISION_RTOL);
        assertClose("model decrease", nat.result.modelDecrease(), loop.result.modelDecrease(), 1e-7, SAME_PRECISION_RTOL);
        assertClose("step (native float vs Java double)", nat.step, ref.step, CROSS_PRECISION_RTOL, CROSS_PRECISION_RTOL);
        assertClose("model decrease vs double", nat.result.modelDecrease(), ref.result.modelDecrease(), 1e-6, CROSS_PRECISION_RTOL);
        assertClose("step norm vs double", nat.result.stepNorm(), ref.result.stepNorm(), 1e-6, CROSS_PRECISION_RTOL);
    }
}
