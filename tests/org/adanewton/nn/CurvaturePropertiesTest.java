package org.adanewton.nn;

import static org.adanewton.Tolerances.*;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.stream.Stream;
import org.adanewton.backend.Backend;
import org.adanewton.backend.Batch;
import org.adanewton.backend.NetworkModel;
import org.adanewton.backend.Vector;
import org.adanewton.backend.cpu.CpuBackend;
import org.adanewton.backend.java.JavaBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Symmetry and linearity of H, and Gauss-Newton = Hessian for a linear network with squared error. */
class CurvaturePropertiesTest {

    static Stream<Arguments> cases() {
        List<Backend> backends = List.of(new JavaBackend(), new CpuBackend(2));
        return backends.stream().flatMap(be -> TestNetworks.all().stream().map(n -> Arguments.of(be, n)));
    }

    private static double tolerance(Backend be) {
        return be.kind() == org.adanewton.backend.BackendKind.JAVA ? DOUBLE_RTOL : FLOAT_IDENTITY_RTOL;
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void hessianIsSymmetricAndLinear(Backend be, Network net) {
        int n = net.parameterCount();
        try (NetworkModel model = be.model(net, 9); Batch b = TestNetworks.batch(be, net, 9, 1);
                Vector w = be.vector(TestNetworks.point(net, 2)); Vector g = be.allocate(n);
                Vector u = be.vector(TestNetworks.direction(n, 3)); Vector v = be.vector(TestNetworks.direction(n, 4));
                Vector hu = be.allocate(n); Vector hv = be.allocate(n); Vector combo = be.allocate(n); Vector hcombo = be.allocate(n)) {
            model.gradient(w, b, g);
            model.hvpCached(u, hu);
            model.hvpCached(v, hv);
            double uhv = be.dot(u, hv), vhu = be.dot(v, hu);
            double scale = be.norm(u) * be.norm(hv) + 1e-12;
            assertTrue(Math.abs(uhv - vhu) <= tolerance(be) * scale, "u'Hv = " + uhv + " but v'Hu = " + vhu + " for " + net);
            // H(2u - 3v) = 2Hu - 3Hv
            be.copy(u, combo);
            be.axpby(-3, v, 2, combo);
            model.hvpCached(combo, hcombo);
            be.axpy(-2, hu, hcombo);
            be.axpy(3, hv, hcombo);
            double residual = be.norm(hcombo), size = 2 * be.norm(hu) + 3 * be.norm(hv) + 1e-12;
            assertTrue(residual <= tolerance(be) * size, "H is not linear: residual " + residual + " vs " + size + " for " + net);
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void gaussNewtonIsSymmetricPositiveSemidefiniteForConvexLosses(Backend be, Network net) {
        int n = net.parameterCount();
        try (NetworkModel model = be.model(net, 9); Batch b = TestNetworks.batch(be, net, 9, 1);
                Vector w = be.vector(TestNetworks.point(net, 2)); Vector g = be.allocate(n);
                Vector u = be.vector(TestNetworks.direction(n, 3)); Vector v = be.vector(TestNetworks.direction(n, 4));
                Vector gu = be.allocate(n); Vector gv = be.allocate(n)) {
            model.gradient(w, b, g);
            model.gaussNewtonCached(u, gu);
            model.gaussNewtonCached(v, gv);
            double scale = be.norm(u) * be.norm(gv) + 1e-12;
            assertTrue(Math.abs(be.dot(u, gv) - be.dot(v, gu)) <= tolerance(be) * scale, "GN not symmetric for " + net);
            assertTrue(be.dot(u, gu) >= -tolerance(be) * be.norm(u) * be.norm(gu), "u'Gu < 0 for " + net);
        }
    }

    /** One dense layer with identity output: linear in its parameters, so H = J' H_loss J exactly. */
    @Test
    void gaussNewtonEqualsHessianForSingleLinearLayerWithSquaredError() {
        for (Backend be : List.of(new JavaBackend(), new CpuBackend(2))) {
            for (Loss loss : List.of(Loss.SQUARED_ERROR_MEAN, Loss.SQUARED_ERROR_SUM)) {
                Network net = Network.builder(5).dense(3).loss(loss).regularization(Regularization.squared(0.1)).build();
                try (Batch b = TestNetworks.batch(be, net, 11, 6)) {
                    double rtol = be.kind() == org.adanewton.backend.BackendKind.JAVA ? DOUBLE_RTOL : FLOAT_RTOL;
                    assertGaussNewtonEqualsHessian(be, net, b, rtol);
                }
            }
        }
    }

    /**
     * A deep linear network is bilinear in its parameters, so H = GN + (residual terms); at a point
     * whose targets are the network's own outputs (zero residual) the two agree.
     */
    @Test
    void gaussNewtonEqualsHessianForDeepLinearNetworkAtZeroResidual() {
        Network net = Network.builder(5).dense(7).dense(4).dense(3).loss(Loss.SQUARED_ERROR_SUM).build();
        for (Backend be : List.of(new JavaBackend(), new CpuBackend(2))) {
            try (Batch b = TestNetworks.batch(be, net, 13, 6); NetworkModel model = be.model(net, 13);
                    Vector w = be.vector(TestNetworks.point(net, 7))) {
                double[] out = model.forward(w, b);
                float[] targets = new float[out.length];
                for (int i = 0; i < out.length; i++) targets[i] = (float) out[i];
                float[] x = new float[13 * 5];
                java.util.SplittableRandom r = new java.util.SplittableRandom(6);
                for (int i = 0; i < x.length; i++) x[i] = (float) r.nextDouble(-1, 1); // same inputs as TestNetworks.fill
                b.set(x, targets, 13);
                // float targets leave a residual of ~1e-7, which bounds the agreement
                assertGaussNewtonEqualsHessian(be, net, b, 1e-4);
            }
        }
    }

    private static void assertGaussNewtonEqualsHessian(Backend be, Network net, Batch b, double rtol) {
        int n = net.parameterCount();
        try (NetworkModel model = be.model(net, b.rows()); Vector w = be.vector(TestNetworks.point(net, 7));
                Vector g = be.allocate(n); Vector v = be.vector(TestNetworks.direction(n, 8)); Vector hv = be.allocate(n);
                Vector gv = be.allocate(n)) {
            model.gradient(w, b, g);
            model.hvpCached(v, hv);
            model.gaussNewtonCached(v, gv);
            assertClose("GN vs H (" + be.kind() + ", " + net + ")", gv.toArray(), hv.toArray(), rtol, rtol);
        }
    }
}
