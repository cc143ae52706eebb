package org.adanewton.train;

import org.adanewton.backend.BackendKind;
import org.adanewton.minimizer.CubicPolicy;
import org.adanewton.minimizer.FirstOrderOptions;
import org.adanewton.minimizer.NetworkProblem;
import org.adanewton.minimizer.TrustRegionPolicy;
import org.adanewton.norm.NormKind;
import org.adanewton.norm.NormOptions;
import org.adanewton.subproblem.KrylovOptions;

/**
 * Everything one training run uses, fully resolved (a preset plus overrides); saved in every
 * checkpoint so that --resume needs nothing else.
 *
 * <p>Thread safety: immutable: safe to share between threads.
 *
 * @param method          a {@link MethodSpec} name, e.g. "tr-rmsprop" or "adam"
 * @param epochs          total epochs (warm start included); an epoch = training-set size samples drawn for gradients
 * @param batch           samples per iteration
 * @param hessianBatch    samples for the curvature products (0: the whole batch)
 * @param curvature       exact Hessian or Gauss-Newton
 * @param firstOrder      the optimizer of a first-order method (null for second-order methods)
 * @param warmEpochs      first-order warm-start epochs before a second-order method (0: none)
 * @param pivotEvery      pivot safeguard period in epochs (0: off); pivotGrowth, pivotCap: batch growth and cap (fraction of the data)
 * @param evalEvery       full training loss, test loss and accuracy every this many epochs
 * @param checkpointEvery checkpoint every this many epochs (0: only at the end and on Ctrl-C)
 * @param trainSamples    training samples used (the first ones; 0: all)
 * @param threads         kernel threads (0: all processors)
 */
public record TrainConfig(String preset, String method, int epochs, int batch, int hessianBatch, NetworkProblem.Curvature curvature, long seed,
        TrustRegionPolicy trustRegion, CubicPolicy cubic, KrylovOptions krylov, NormOptions norm, FirstOrderOptions firstOrder, int warmEpochs,
        FirstOrderOptions warmStart, int warmBatch, double pivotEvery, double pivotGrowth, double pivotCap, double evalEvery, double checkpointEvery,
        int trainSamples, int threads, String backend) {

    public TrainConfig {
        MethodSpec spec = MethodSpec.parse(method);
        if (epochs < 1) throw new IllegalArgumentException("epochs = " + epochs + "; must be >= 1");
        if (batch < 1) throw new IllegalArgumentException("batch = " + batch + "; must be >= 1");
        if (hessianBatch < 0 || hessianBatch > batch)
            throw new IllegalArgumentException("hessianBatch = " + hessianBatch + "; must be in [0, batch = " + batch + "]");
        if (spec.isSecondOrder() && (trustRegion == null || cubic == null || krylov == null || norm == null))
            throw new IllegalArgumentException("a second-order method needs trustRegion, cubic, krylov and norm options");
        if (!spec.isSecondOrder() && firstOrder == null) throw new IllegalArgumentException("a first-order method needs its optimizer options");
        if (warmEpochs < 0) throw new IllegalArgumentException("warmEpochs = " + warmEpochs + "; must be >= 0");
        if (warmEpochs > 0 && (warmStart == null || warmBatch < 1)) throw new IllegalArgumentException("a warm start needs its optimizer and batch");
        if (warmEpochs >= epochs && spec.isSecondOrder())
            throw new IllegalArgumentException("warmEpochs = " + warmEpochs + "; must be < epochs = " + epochs);
        if (!(pivotEvery >= 0 && pivotEvery < Double.POSITIVE_INFINITY))
            throw new IllegalArgumentException("pivotEvery = " + pivotEvery + "; must be finite and >= 0 (0: off)");
        if (!(pivotGrowth >= 1 && pivotGrowth < Double.POSITIVE_INFINITY))
            throw new IllegalArgumentException("pivotGrowth = " + pivotGrowth + "; must be finite and >= 1");
        if (!(pivotCap > 0 && pivotCap <= 1)) throw new IllegalArgumentException("pivotCap = " + pivotCap + "; must be in (0, 1]");
        if (!(evalEvery > 0 && evalEvery < Double.POSITIVE_INFINITY))
            throw new IllegalArgumentException("evalEvery = " + evalEvery + "; must be finite and > 0");
        if (!(checkpointEvery >= 0 && checkpointEvery < Double.POSITIVE_INFINITY))
            throw new IllegalArgumentException("checkpointEvery = " + checkpointEvery + "; must be finite and >= 0 (0: at the end only)");
        if (trainSamples < 0) throw new IllegalArgumentException("trainSamples = " + trainSamples + "; must be >= 0");
        if (threads < 0 || threads > 256) throw new IllegalArgumentException("threads = " + threads + "; must be in [0, 256] (0: all processors)");
        BackendKind.parse(backend); // "backend = 'x'; must be one of ..."
        if (curvature == null) throw new IllegalArgumentException("curvature is null");
    }

    /** The same run with another epoch count (to extend a run on --resume). */
    public TrainConfig withEpochs(int newEpochs) {
        return new TrainConfig(preset, method, newEpochs, batch, hessianBatch, curvature, seed, trustRegion, cubic, krylov, norm, firstOrder, warmEpochs,
                warmStart, warmBatch, pivotEvery, pivotGrowth, pivotCap, evalEvery, checkpointEvery, trainSamples, threads, backend);
    }

    /** The same run on other threads or another backend (a resume may change where it runs). */
    public TrainConfig withExecution(int newThreads, String newBackend) {
        return new TrainConfig(preset, method, epochs, batch, hessianBatch, curvature, seed, trustRegion, cubic, krylov, norm, firstOrder, warmEpochs,
                warmStart, warmBatch, pivotEvery, pivotGrowth, pivotCap, evalEvery, checkpointEvery, trainSamples, newThreads, newBackend);
    }

    public MethodSpec methodSpec() {
        return MethodSpec.parse(method);
    }

    /** The preset's settings for a method over `epochs` epochs. */
    public static TrainConfig of(Preset p, MethodSpec m, int epochs) {
        if (m.isSecondOrder()) {
            NormKind kind = m.norm();
            NormOptions norm = NormOptions.builder(kind).eps(p.eps()).build();
            // the preset's warm start never takes the whole run (a 1-epoch run is then all second-order)
            int warm = Math.min(p.warmEpochs(), epochs - 1);
            return new TrainConfig(p.name(), m.name(), epochs, p.trBatch(), 0, NetworkProblem.Curvature.HESSIAN, 1, p.trustRegion().get(kind),
                    CubicPolicy.DEFAULT, KrylovOptions.PAPER, norm, null, warm, p.warmStart(), p.firstOrderBatch(), p.pivotEvery(),
                    p.pivotGrowth(), p.pivotCap(), 1, 0, p.trainSamples(), 0, "auto");
        }
        double lr = p.firstOrderLr().getOrDefault(m.firstOrder(), 1e-3);
        return new TrainConfig(p.name(), m.name(), epochs, p.firstOrderBatch(), 0, NetworkProblem.Curvature.HESSIAN, 1, null, null, null, null,
                FirstOrderOptions.of(m.firstOrder(), lr), 0, null, 0, 0, 1, 1, 1, 0, p.trainSamples(), 0, "auto");
    }
}
