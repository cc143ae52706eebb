package org.adanewton.examples;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.adanewton.api.IterationSummary;
import org.adanewton.api.Summary;
import org.adanewton.backend.Backend;
import org.adanewton.backend.BackendKind;
import org.adanewton.backend.Batch;
import org.adanewton.backend.NetworkModel;
import org.adanewton.backend.Vector;
import org.adanewton.minimizer.Method;
import org.adanewton.minimizer.Minimizer;
import org.adanewton.minimizer.MinimizerOptions;
import org.adanewton.minimizer.NetworkProblem;
import org.adanewton.minimizer.TrustRegionPolicy;
import org.adanewton.nn.Loss;
import org.adanewton.nn.Network;
import org.adanewton.nn.Regularization;
import org.adanewton.norm.NormKind;
import org.adanewton.norm.NormOptions;
import org.adanewton.select.Backends;
import org.adanewton.subproblem.KrylovOptions;

/**
 * The README's library example, in a project that depends on the library as a user's would, run by
 * a test so it cannot rot:
 * build a network from layers, train it with the trust-region method in the RMSProp norm on float
 * arrays the caller holds, then read the Summary and the per-iteration metrics.
 */
public final class LibraryExample {

    /** What the example returns: the summary, the loss before/after on all the data, the iterations. */
    public record Outcome(Summary summary, double lossBefore, double lossAfter, List<IterationSummary> iterations) {}

    private LibraryExample() {}

    public static Outcome run() {
        // 1. data the caller holds: 2,000 samples of 20 features, 3 classes (a noisy linear rule)
        int n = 2000, d = 20, classes = 3;
        Random random = new Random(42);
        float[] x = new float[n * d];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            double best = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < d; j++) x[i * d + j] = (float) random.nextGaussian();
            for (int c = 0; c < classes; c++) {
                double score = x[i * d + c] + x[i * d + c + 3] + 0.3 * random.nextGaussian();
                if (score > best) {
                    best = score;
                    y[i] = c;
                }
            }
        }

        // 2. the network: 20-64-3 tanh, softmax cross-entropy, the paper's per-tensor L2 norm
        Network net = Network.builder(d).dense(64).tanh().dense(classes)
                .loss(Loss.SOFTMAX_CROSS_ENTROPY).regularization(Regularization.norm(1e-4)).build();

        // 3. TR with the RMSProp norm (Steihaug CG, the authors' Krylov settings), 5 epochs of batches of 256
        MinimizerOptions options = MinimizerOptions.builder()
                .method(Method.TR_STEIHAUG)
                .norm(NormOptions.builder(NormKind.RMSPROP).beta(0.8).eps(1e-10).build())
                .trustRegion(new TrustRegionPolicy(0.05, 10, 1e-12, 0.01, 0.95, 1.1, 1.75))
                .krylov(KrylovOptions.PAPER)
                .maxEpochs(5)
                .gradientTolerance(0)
                .build();

        // 4. a backend (CUDA if present, else the native CPU kernels, else the Java reference), closed last
        List<IterationSummary> iterations = new ArrayList<>();
        try (Backend backend = Backends.select(BackendKind.AUTO, 0).backend();
                NetworkProblem problem = new NetworkProblem(backend, net, x, y, null, 256, 0, NetworkProblem.Curvature.HESSIAN, 7);
                Vector w = backend.vector(net.initialize(7));
                Minimizer minimizer = new Minimizer(problem, options, w)) {
            double before = fullLoss(backend, net, w, x, y);
            Summary summary = minimizer.run(it -> iterations.add(it)); // a listener may return false to stop
            double after = fullLoss(backend, net, w, x, y);
            return new Outcome(summary, before, after, iterations);
        }
    }

    /** The loss on all the data (one batch). */
    static double fullLoss(Backend backend, Network net, Vector w, float[] x, int[] y) {
        try (NetworkModel model = backend.model(net, y.length); Batch all = backend.batch(net, y.length)) {
            all.set(x, y, y.length);
            return model.loss(w, all);
        }
    }

    public static void main(String[] args) {
        Outcome o = run();
        System.out.println(o.summary().report());
        IterationSummary last = o.iterations().get(o.iterations().size() - 1);
        System.out.printf(Locale.ROOT, "loss on all data: %.4f -> %.4f; last iteration: rho %.3f, radius %.3g, %d CG iterations (%s)%n",
                o.lossBefore(), o.lossAfter(), last.rho(), last.regularization(), last.krylovIterations(), last.solverExit());
    }
}
