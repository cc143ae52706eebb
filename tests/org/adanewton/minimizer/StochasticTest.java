package org.adanewton.minimizer;

import static org.junit.jupiter.api.Assertions.*;

import java.util.SplittableRandom;
import org.adanewton.api.Summary;
import org.adanewton.backend.Backend;
import org.adanewton.backend.Batch;
import org.adanewton.backend.NetworkModel;
import org.adanewton.backend.Vector;
import org.adanewton.backend.cpu.CpuBackend;
import org.adanewton.backend.java.JavaBackend;
import org.adanewton.nn.Network;
import org.adanewton.norm.NormKind;
import org.adanewton.subproblem.KrylovOptions;
import org.junit.jupiter.api.Test;

/** Stochastic TR with the RMSProp norm reduces the training loss of a small MLP on synthetic data. */
class StochasticTest {
    static final int SAMPLES = 600, FEATURES = 8, CLASSES = 3;
    static final float[] X = new float[SAMPLES * FEATURES];
    static final int[] Y = new int[SAMPLES];

    static {
        SplittableRandom r = new SplittableRandom(2);
        double[][] teacher = new double[CLASSES][FEATURES];
        for (double[] row : teacher) for (int j = 0; j < FEATURES; j++) row[j] = r.nextGaussian();
        for (int i = 0; i < SAMPLES; i++) {
            double best = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < FEATURES; j++) X[i * FEATURES + j] = (float) r.nextGaussian();
            for (int c = 0; c < CLASSES; c++) {
                double z = 0;
                for (int j = 0; j < FEATURES; j++) z += teacher[c][j] * Math.tanh(X[i * FEATURES + j]);
                if (z > best) {
                    best = z;
                    Y[i] = c;
                }
            }
        }
    }

    static double fullLoss(Backend be, Network net, Vector w) {
        try (NetworkModel m = be.model(net, SAMPLES); Batch b = be.batch(net, SAMPLES)) {
            b.set(X, Y, SAMPLES);
            return m.loss(w, b);
        }
    }

    @Test
    void trustRegionWithRmsPropNormReducesTrainingLoss() {
        Network net = Network.builder(FEATURES).dense(16).tanh().dense(CLASSES).build();
        for (Backend be : new Backend[] {new CpuBackend(2), new JavaBackend()}) {
            for (Method method : new Method[] {Method.TR_STEIHAUG, Method.ARC}) {
                for (NetworkProblem.Curvature curvature : NetworkProblem.Curvature.values()) {
                    MinimizerOptions o = MinimizerOptions.builder().method(method).norm(NormKind.RMSPROP).gradientTolerance(0).maxEpochs(8)
                            .krylov(KrylovOptions.PAPER).trustRegion(new TrustRegionPolicy(0.05, 10, 1e-12, 0.01, 0.95, 1.1, 1.75)).build();
                    try (NetworkProblem p = new NetworkProblem(be, net, X, Y, null, 64, 32, curvature, 11);
                            Vector w = be.vector(net.initialize(4)); Minimizer m = new Minimizer(p, o, w)) {
                        double before = fullLoss(be, net, w);
                        Summary s = m.run();
                        double after = fullLoss(be, net, w);
                        assertTrue(after < 0.6 * before, be.kind() + " " + method + " " + curvature + ": loss " + before + " -> " + after + "\n" + s.report());
                        assertTrue(s.accepted() > s.iterations() / 3, s.report());
                    }
                }
            }
        }
    }
}
