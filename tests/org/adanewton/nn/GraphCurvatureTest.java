package org.adanewton.nn;

import static org.adanewton.Tolerances.*;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.adanewton.backend.Backend;
import org.adanewton.backend.Batch;
import org.adanewton.backend.NetworkModel;
import org.adanewton.backend.Vector;
import org.adanewton.backend.java.JavaBackend;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Curvature of the graph networks on the Java reference, in both modes: the Hessian is symmetric
 * and linear, the Gauss-Newton product is symmetric positive semidefinite and equals J' H_loss J
 * with J a finite-difference Jacobian of the batch's outputs (with batch norm in training mode the
 * outputs of all rows depend on the parameters together).
 */
class GraphCurvatureTest {
    private static final Backend BE = new JavaBackend();
    private static final int ROWS = 6;

    static Stream<Arguments> cases() {
        List<Arguments> list = new ArrayList<>();
        for (boolean training : new boolean[] {true, false}) {
            for (Loss loss : Loss.values())
                for (Network net : TestNetworks.graphs(loss)) list.add(Arguments.of(net, training));
            for (Network net : TestNetworks.graphs()) list.add(Arguments.of(net, training));
        }
        return list.stream();
    }

    private static NetworkModel model(Network net, boolean training) {
        NetworkModel m = BE.model(net, ROWS);
        m.setTraining(training);
        m.setDropoutSeed(5);
        if (!training) m.setRunningStatistics(FiniteDifferenceTest.someStatistics(net, 3));
        return m;
    }

    @ParameterizedTest(name = "{0}, training {1}")
    @MethodSource("cases")
    void hessianIsSymmetricAndLinear(Network net, boolean training) {
        int n = net.parameterCount();
        try (NetworkModel m = model(net, training); Batch b = TestNetworks.batch(BE, net, ROWS, 1); Vector w = BE.vector(TestNetworks.point(net, 2));
                Vector g = BE.allocate(n); Vector u = BE.vector(TestNetworks.direction(n, 3)); Vector v = BE.vector(TestNetworks.direction(n, 4));
                Vector hu = BE.allocate(n); Vector hv = BE.allocate(n); Vector combo = BE.allocate(n); Vector hcombo = BE.allocate(n)) {
            m.gradient(w, b, g);
            m.hvpCached(u, hu);
            m.hvpCached(v, hv);
            double uhv = BE.dot(u, hv), vhu = BE.dot(v, hu), scale = BE.norm(u) * BE.norm(hv) + BE.norm(v) * BE.norm(hu);
            assertTrue(Math.abs(uhv - vhu) <= DOUBLE_RTOL * scale, "u'Hv = " + uhv + " but v'Hu = " + vhu + " for " + net.describe());
            BE.copy(u, combo);
            BE.axpby(-3, v, 2, combo);
            m.hvpCached(combo, hcombo);
            BE.axpy(-2, hu, hcombo);
            BE.axpy(3, hv, hcombo);
            double residual = BE.norm(hcombo), size = 2 * BE.norm(hu) + 3 * BE.norm(hv);
            assertTrue(residual <= DOUBLE_RTOL * size, "H(2u - 3v) != 2Hu - 3Hv: residual " + residual + " vs " + size);
        }
    }

    @ParameterizedTest(name = "{0}, training {1}")
    @MethodSource("cases")
    void gaussNewtonIsSymmetricPositiveSemidefinite(Network net, boolean training) {
        int n = net.parameterCount();
        try (NetworkModel m = model(net, training); Batch b = TestNetworks.batch(BE, net, ROWS, 1); Vector w = BE.vector(TestNetworks.point(net, 2));
                Vector g = BE.allocate(n); Vector u = BE.vector(TestNetworks.direction(n, 3)); Vector v = BE.vector(TestNetworks.direction(n, 4));
                Vector gu = BE.allocate(n); Vector gv = BE.allocate(n)) {
            m.gradient(w, b, g);
            m.gaussNewtonCached(u, gu);
            m.gaussNewtonCached(v, gv);
            double scale = BE.norm(u) * BE.norm(gv) + BE.norm(v) * BE.norm(gu);
            assertTrue(Math.abs(BE.dot(u, gv) - BE.dot(v, gu)) <= DOUBLE_RTOL * scale, "GN not symmetric for " + net.describe());
            assertTrue(BE.dot(u, gu) >= -DOUBLE_RTOL * BE.norm(u) * BE.norm(gu), "u'Gu = " + BE.dot(u, gu) + " < 0 for " + net.describe());
        }
    }

    static Stream<Arguments> gaussNewtonCases() {
        List<Arguments> list = new ArrayList<>();
        for (Loss loss : Loss.values()) {
            list.add(Arguments.of(TestNetworks.residualCnn(loss, Regularization.NONE), true));
            list.add(Arguments.of(TestNetworks.residualCnn(loss, Regularization.squared(0.05)), false));
        }
        list.add(Arguments.of(TestNetworks.normMlp(Loss.SOFTMAX_CROSS_ENTROPY, Regularization.squared(0.05)), true));
        return list.stream();
    }

    /** GN v against J' H_loss J v + lambda v, J (all rows' outputs by the parameters) from central differences of the forward pass. */
    @ParameterizedTest(name = "{0}, training {1}")
    @MethodSource("gaussNewtonCases")
    void gaussNewtonIsJacobianTransposeLossHessianJacobian(Network net, boolean training) {
        int n = net.parameterCount();
        try (NetworkModel m = model(net, training); Batch b = TestNetworks.batch(BE, net, ROWS, 1); Vector w = BE.vector(TestNetworks.point(net, 2));
                Vector g = BE.allocate(n); Vector v = BE.vector(TestNetworks.direction(n, 4)); Vector gv = BE.allocate(n);
                Vector probe = BE.allocate(n)) {
            double[] w0 = w.toArray(), vd = v.toArray(), out = m.forward(w, b);
            double[][] jacobian = new double[out.length][n];
            for (int i = 0; i < n; i++) {
                double[] wp = w0.clone(), wm = w0.clone();
                wp[i] += FD_STEP;
                wm[i] -= FD_STEP;
                BE.set(probe, wp);
                double[] fp = m.forward(probe, b);
                BE.set(probe, wm);
                double[] fm = m.forward(probe, b);
                for (int k = 0; k < out.length; k++) jacobian[k][i] = (fp[k] - fm[k]) / (2 * FD_STEP);
            }
            m.gradient(w, b, g);
            m.gaussNewtonCached(v, gv);
            double[] jv = new double[out.length];
            for (int k = 0; k < out.length; k++)
                for (int i = 0; i < n; i++) jv[k] += jacobian[k][i] * vd[i];
            double[] hjv = lossHessianTimes(net, out, jv), expected = new double[n];
            for (int i = 0; i < n; i++) {
                for (int k = 0; k < out.length; k++) expected[i] += jacobian[k][i] * hjv[k];
                if (net.regularization().isActive()) expected[i] += net.regularization().lambda() * vd[i]; // squared: lambda I
            }
            assertClose("GN v vs J' H J v of " + net.describe(), gv.toArray(), expected, FD_ATOL * 10, FD_RTOL * 10);
        }
    }

    /** H_loss r for the loss of the outputs a (rows x d), from the loss formulas of Loss. */
    private static double[] lossHessianTimes(Network net, double[] a, double[] r) {
        int d = net.outputDim(), rows = a.length / d;
        double[] out = new double[a.length];
        for (int i = 0; i < rows; i++) {
            switch (net.loss()) {
                case SOFTMAX_CROSS_ENTROPY -> { // (diag p - p p') / B
                    double max = Double.NEGATIVE_INFINITY, sum = 0, pr = 0;
                    for (int j = 0; j < d; j++) max = Math.max(max, a[i * d + j]);
                    double[] p = new double[d];
                    for (int j = 0; j < d; j++) sum += p[j] = Math.exp(a[i * d + j] - max);
                    for (int j = 0; j < d; j++) pr += (p[j] /= sum) * r[i * d + j];
                    for (int j = 0; j < d; j++) out[i * d + j] = p[j] * (r[i * d + j] - pr) / rows;
                }
                case BINARY_CROSS_ENTROPY -> { // sigma'(a) / B
                    for (int j = 0; j < d; j++) {
                        double s = 1 / (1 + Math.exp(-a[i * d + j]));
                        out[i * d + j] = s * (1 - s) * r[i * d + j] / rows;
                    }
                }
                case SQUARED_ERROR_MEAN -> { for (int j = 0; j < d; j++) out[i * d + j] = 2 * r[i * d + j] / (rows * d); }
                case SQUARED_ERROR_SUM -> { for (int j = 0; j < d; j++) out[i * d + j] = 2 * r[i * d + j] / rows; }
            }
        }
        return out;
    }
}
