package org.adanewton.subproblem;

import java.util.function.LongSupplier;
import java.util.stream.Stream;
import org.adanewton.api.StepResult;
import org.adanewton.api.StepSolver;
import org.adanewton.backend.Backend;
import org.adanewton.backend.Batch;
import org.adanewton.backend.CurvatureOperator;
import org.adanewton.backend.NetworkModel;
import org.adanewton.backend.Vector;
import org.adanewton.nn.Network;
import org.adanewton.nn.TestNetworks;
import org.junit.jupiter.params.provider.Arguments;

/**
 * The solves that the native-solve tests compare across backends and loops: Steihaug, GLTR and
 * ARC, on the Hessian or the Gauss-Newton matrix, for three region sizes, at a fixed point of a
 * network on 50 samples in the metric diag(0.5 + 0.25 (i mod 7)).
 */
public final class SolveCases {
    private SolveCases() {}

    /** (solver name, Gauss-Newton?, radius or sigma) for every solver, both curvatures and three sizes. */
    public static Stream<Arguments> all() {
        return Stream.of("steihaug", "gltr", "arc").flatMap(solver -> Stream.of(false, true).flatMap(gn -> Stream.of(0.05, 0.5, 50.0)
                .map(reg -> Arguments.of(solver, gn, reg))));
    }

    /** "steihaug", "gltr" or "arc", with tolerance 0.01 and the residual rule, for the curvature op (native where it offers it). */
    public static StepSolver solver(String name, Backend be, int n, int maxIterations, CurvatureOperator op) {
        KrylovOptions k = new KrylovOptions(maxIterations, 0.01, KrylovOptions.StoppingRule.RESIDUAL);
        return switch (name) {
            case "steihaug" -> KrylovSolvers.steihaug(be, n, k);
            case "gltr" -> KrylovSolvers.gltr(be, n, k);
            default -> KrylovSolvers.arc(be, n, k);
        };
    }

    /** A solve's result, its step, and what the counter advanced during it. */
    public record Outcome(StepResult result, double[] step, long counted) {}

    /**
     * One solve. javaLoop hides the native solve, so the solver's Java loop runs over the backend's
     * vectors and products; counter is read around the solve (host synchronizations on CUDA).
     */
    public static Outcome solve(Backend be, Network net, String name, boolean gn, double reg, int maxIterations, boolean javaLoop,
            LongSupplier counter) {
        int n = net.parameterCount();
        double[] metric = new double[n];
        for (int i = 0; i < n; i++) metric[i] = 0.5 + (i % 7) * 0.25;
        try (NetworkModel m = be.model(net, 50); Batch b = TestNetworks.batch(be, net, 50, 3); Vector w = be.vector(TestNetworks.point(net, 4));
                Vector g = be.allocate(n); Vector a = be.vector(metric); Vector s = be.allocate(n)) {
            m.gradient(w, b, g);
            CurvatureOperator op = gn ? m.gaussNewton() : m.hessian();
            if (javaLoop) {
                CurvatureOperator inner = op;
                op = inner::apply; // hides the native solve: the Java loop runs
            }
            StepSolver solver = solver(name, be, n, maxIterations, op);
            try (AutoCloseable closeSolver = (AutoCloseable) solver) {
                long before = counter.getAsLong();
                StepResult r = solver.solve(g, op, a, reg, s);
                long counted = counter.getAsLong() - before; // before reading s back, which the counter may see
                return new Outcome(r, s.toArray(), counted);
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
