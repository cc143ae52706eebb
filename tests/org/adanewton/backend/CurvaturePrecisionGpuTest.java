package org.adanewton.backend;

import static org.adanewton.Tolerances.FLOAT_ATOL;
import static org.adanewton.Tolerances.FLOAT_RTOL;
import static org.adanewton.Tolerances.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.Stream;
import org.adanewton.backend.cuda.CudaBackend;
import org.adanewton.nn.Loss;
import org.adanewton.nn.Network;
import org.adanewton.nn.Regularization;
import org.adanewton.nn.TestNetworks;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The CUDA backend's curvature products at TF32 and BF16 against FP32, on a small MLP and a small
 * ConvNet: the cached HVP, the cached Gauss-Newton product, the HVP from scratch and a native
 * Steihaug step on the Gauss-Newton matrix move away from FP32 (the precision took effect) by less than the named tolerance;
 * the gradient and the losses stay FP32's; back at FP32 the products are FP32's again. Runs where a
 * GPU or the CPU emulation answers (see GpuTest); the emulation's cuBLAS rounds the operands of
 * cublasGemmEx to TF32 / BF16 as the tensor cores do.
 *
 * <p>Tolerances: an operand rounded to TF32 (10 mantissa bits) is off by at most 2^-11 = 4.9e-4
 * relative, to BF16 (7 bits) by at most 2^-8 = 3.9e-3; a product's relative error (2-norm) is of that
 * order. Measured in the emulation (2026-12-02, the two networks below): TF32 1.8e-4 to 6.2e-4, BF16
 * 6.8e-4 to 4.2e-3 over the four products and steps (tests/cuda-emulation: TF32 3.8e-4 to 5.8e-4, BF16 3.4e-3
 * to 4.6e-3 on its cases). The tolerances
 * leave 6-7x margin over the largest.
 */
@GpuTest
class CurvaturePrecisionGpuTest {
    static final double TF32_PRODUCT_RTOL = 4e-3;
    static final double BF16_PRODUCT_RTOL = 3e-2;
    /** The same FP32 product computed twice (cuBLAS sgemm is deterministic for one shape and stream; the emulation is bitwise). */
    static final double FP32_REPEAT_RTOL = 1e-6;
    private static final int ROWS = 12;
    /**
     * CG iterations of the Steihaug solve: few, since k iterations apply a degree-k polynomial of
     * the (ill-conditioned, rank-deficient) Gauss-Newton matrix and magnify a product's error with
     * k; at 8 iterations the step moved 0.07-0.16 relative at TF32, which measures the matrix's
     * conditioning, not the products'.
     */
    private static final int STEIHAUG_ITERATIONS = 3;

    static Stream<Arguments> cases() {
        Network mlp = Network.builder(20).dense(24).tanh().dense(16).relu().dense(5).loss(Loss.SOFTMAX_CROSS_ENTROPY)
                .regularization(Regularization.squared(0.01)).build();
        Network conv = Network.builder(2, 8, 8).conv2d(2, 4, 3, 1, 1).relu().maxPool2d(2).conv2d(4, 6, 3).tanh().flatten().dense(5)
                .loss(Loss.SOFTMAX_CROSS_ENTROPY).regularization(Regularization.norm(0.01)).build();
        return Stream.of(Arguments.of("mlp 20-24-16-5", mlp), Arguments.of("conv-pool-conv-dense", conv));
    }

    /** Per precision: gradient, losses, cached HVP, cached Gauss-Newton, HVP from scratch, Steihaug step. */
    private record Run(double[] g, double loss, double hvpLoss, double[] hv, double[] gn, double[] hs, double[] s) {}

    private static Run run(NetworkModel m, Backend be, Vector w, Batch b, Vector v, CurvaturePrecision p) {
        int n = m.network().parameterCount();
        m.setCurvaturePrecision(p);
        assertEquals(p, m.curvaturePrecision());
        try (Vector g = be.allocate(n); Vector hv = be.allocate(n); Vector gn = be.allocate(n); Vector hs = be.allocate(n); Vector s = be.allocate(n);
                Vector a = be.vector(ones(n))) {
            double loss = m.gradient(w, b, g);
            m.hvpCached(v, hv);
            m.gaussNewtonCached(v, gn);
            // on the Gauss-Newton matrix (positive semidefinite: no exit on negative curvature, whose
            // step along -g would not see the products) within a large radius: the CG runs interior
            // iterations, each product at the precision
            double[] r = ((NativeCurvature) m.gaussNewton()).steihaug(g, a, 1e3, STEIHAUG_ITERATIONS, 1e-8, 0, s);
            assertTrue(r[2] == STEIHAUG_ITERATIONS && r[4] == 3, "the solve left after " + r[2] + " iterations with exit " + r[4]);
            double hvpLoss = m.hvp(w, b, v, hs);
            return new Run(g.toArray(), loss, hvpLoss, hv.toArray(), gn.toArray(), hs.toArray(), s.toArray());
        }
    }

    private static double[] ones(int n) {
        double[] a = new double[n];
        java.util.Arrays.fill(a, 1.0);
        return a;
    }

    static double relativeError(double[] x, double[] y) {
        double num = 0, den = 0;
        for (int i = 0; i < x.length; i++) {
            num += (x[i] - y[i]) * (x[i] - y[i]);
            den += y[i] * y[i];
        }
        return Math.sqrt(num / Math.max(den, 1e-300));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void productsAtTf32AndBf16(String name, Network net) {
        int n = net.parameterCount();
        try (CudaBackend be = new CudaBackend(); NetworkModel m = be.model(net, ROWS); Batch b = TestNetworks.batch(be, net, ROWS, 21);
                Vector w = be.vector(TestNetworks.point(net, 22)); Vector v = be.vector(TestNetworks.direction(n, 23))) {
            for (CurvaturePrecision p : CurvaturePrecision.values()) assertNull(be.unsupported(p), p + " refused on the device: " + be.unsupported(p));
            Run fp32 = run(m, be, w, b, v, CurvaturePrecision.FP32);
            for (CurvaturePrecision p : new CurvaturePrecision[] {CurvaturePrecision.TF32, CurvaturePrecision.BF16}) {
                Run low = run(m, be, w, b, v, p);
                double tol = p == CurvaturePrecision.TF32 ? TF32_PRODUCT_RTOL : BF16_PRODUCT_RTOL;
                assertClose(name + " " + p + " loss", low.loss, fp32.loss, FLOAT_ATOL, FLOAT_RTOL);
                assertClose(name + " " + p + " hvp's loss", low.hvpLoss, fp32.hvpLoss, FLOAT_ATOL, FLOAT_RTOL);
                assertClose(name + " " + p + " gradient", low.g, fp32.g, FLOAT_ATOL, FLOAT_RTOL);
                String[] what = {"cached HVP", "Gauss-Newton", "HVP from scratch", "Steihaug step"};
                double[][] x = {low.hv, low.gn, low.hs, low.s}, y = {fp32.hv, fp32.gn, fp32.hs, fp32.s};
                for (int k = 0; k < what.length; k++) {
                    double e = relativeError(x[k], y[k]);
                    System.out.printf("[precision] %s %s %s: relative error vs fp32 %.3g (tolerance %s)%n", name, p, what[k], e, tol);
                    assertTrue(e > 0, name + " " + p + " " + what[k] + " equals fp32's: the precision did not take effect");
                    assertTrue(e <= tol, name + " " + p + " " + what[k] + ": relative error " + e + " > " + tol);
                }
            }
            Run again = run(m, be, w, b, v, CurvaturePrecision.FP32);
            double[][] x = {again.hv, again.gn, again.hs, again.s}, y = {fp32.hv, fp32.gn, fp32.hs, fp32.s};
            for (int k = 0; k < x.length; k++)
                assertTrue(relativeError(x[k], y[k]) <= FP32_REPEAT_RTOL, name + ": back at FP32, product " + k + " differs by " + relativeError(x[k], y[k]));
        }
    }

    /** A change of precision keeps the cached point (it touches the products only). */
    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void aChangeKeepsTheCachedPoint(String name, Network net) {
        int n = net.parameterCount();
        try (CudaBackend be = new CudaBackend(); NetworkModel m = be.model(net, ROWS); Batch b = TestNetworks.batch(be, net, ROWS, 31);
                Vector w = be.vector(TestNetworks.point(net, 32)); Vector v = be.vector(TestNetworks.direction(n, 33)); Vector g = be.allocate(n);
                Vector hv = be.allocate(n)) {
            m.gradient(w, b, g);
            m.setCurvaturePrecision(CurvaturePrecision.BF16);
            assertTrue(m.hasCachedPoint(), name);
            m.hvpCached(v, hv);
            assertTrue(be.countNonFinite(hv) == 0, name);
        }
    }
}
