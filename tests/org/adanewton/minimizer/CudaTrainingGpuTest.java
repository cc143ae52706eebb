package org.adanewton.minimizer;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.adanewton.api.Summary;
import org.adanewton.backend.GpuTest;
import org.adanewton.backend.Vector;
import org.adanewton.backend.cuda.CudaBackend;
import org.adanewton.nn.Network;
import org.adanewton.norm.NormKind;
import org.adanewton.subproblem.KrylovOptions;
import org.junit.jupiter.api.Test;

/**
 * The whole stochastic TR / ARC loop on the device (batches, the RMSProp norm, the native device
 * solves, the minimizer) trains the small MLP of {@link StochasticTest} as it does on the CPU.
 */
@GpuTest
class CudaTrainingGpuTest {
    @Test
    void stochasticTrainingOnTheDeviceReducesTheLoss() {
        Network net = Network.builder(StochasticTest.FEATURES).dense(16).tanh().dense(StochasticTest.CLASSES).build();
        try (CudaBackend gpu = new CudaBackend()) {
            for (Method method : new Method[] {Method.TR_STEIHAUG, Method.TR_GLTR, Method.ARC}) {
                for (NetworkProblem.Curvature curvature : NetworkProblem.Curvature.values()) {
                    MinimizerOptions o = MinimizerOptions.builder().method(method).norm(NormKind.RMSPROP).gradientTolerance(0).maxEpochs(8)
                            .krylov(KrylovOptions.PAPER).trustRegion(new TrustRegionPolicy(0.05, 10, 1e-12, 0.01, 0.95, 1.1, 1.75)).build();
                    try (NetworkProblem p = new NetworkProblem(gpu, net, StochasticTest.X, StochasticTest.Y, null, 64, 32, curvature, 11);
                            Vector w = gpu.vector(net.initialize(4)); Minimizer m = new Minimizer(p, o, w)) {
                        double before = StochasticTest.fullLoss(gpu, net, w);
                        Summary s = m.run();
                        double after = StochasticTest.fullLoss(gpu, net, w);
                        assertTrue(after < 0.6 * before, method + " " + curvature + " on CUDA: loss " + before + " -> " + after + "\n" + s.report());
                        assertTrue(s.accepted() > s.iterations() / 3, s.report());
                    }
                }
            }
        }
    }
}
