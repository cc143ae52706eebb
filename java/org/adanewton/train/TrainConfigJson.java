package org.adanewton.train;

import java.util.Locale;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import org.adanewton.backend.BackendKind;
import org.adanewton.minimizer.CubicPolicy;
import org.adanewton.minimizer.FirstOrderOptions;
import org.adanewton.minimizer.NetworkProblem;
import org.adanewton.minimizer.TrustRegionPolicy;
import org.adanewton.norm.NormOptions;
import org.adanewton.subproblem.KrylovOptions;

/**
 * A {@link TrainConfig} as state.json holds it (the "config" object of formats 1 and 2, unchanged):
 * the method and backend as their names, 0 for an option that is off. {@link StrictJson} reads and
 * writes every TrainConfig through this record; its refusals say "TrainConfig", as before.
 *
 * <p>Thread safety: immutable: safe to share between threads.
 */
record TrainConfigJson(String preset, String method, int epochs, int batch, int hessianBatch, NetworkProblem.Curvature curvature, long seed,
        TrustRegionPolicy trustRegion, CubicPolicy cubic, KrylovOptions krylov, NormOptions norm, FirstOrderOptions firstOrder, int warmEpochs,
        FirstOrderOptions warmStart, int warmBatch, double pivotEvery, double pivotGrowth, double pivotCap, double evalEvery, double checkpointEvery,
        int trainSamples, int threads, String backend) {

    /** Validates as the TrainConfig it stands for (a refused value is refused on reading, with TrainConfig's message). */
    TrainConfigJson {
        config(preset, method, epochs, batch, hessianBatch, curvature, seed, trustRegion, cubic, krylov, norm, firstOrder, warmEpochs, warmStart,
                warmBatch, pivotEvery, pivotGrowth, pivotCap, evalEvery, checkpointEvery, trainSamples, threads, backend);
    }

    static TrainConfigJson of(TrainConfig c) {
        return new TrainConfigJson(c.preset(), c.method().name(), c.epochs(), c.batch(), c.hessianBatch().orElse(0), c.curvature(), c.seed(),
                c.trustRegion(), c.cubic(), c.krylov(), c.norm(), c.firstOrder(), c.warmEpochs(), c.warmStart(), c.warmBatch(), c.pivotEvery().orElse(0),
                c.pivotGrowth(), c.pivotCap(), c.evalEvery(), c.checkpointEvery().orElse(0), c.trainSamples().orElse(0), c.threadCount(),
                c.backend().name().toLowerCase(Locale.ROOT));
    }

    TrainConfig config() {
        return config(preset, method, epochs, batch, hessianBatch, curvature, seed, trustRegion, cubic, krylov, norm, firstOrder, warmEpochs, warmStart,
                warmBatch, pivotEvery, pivotGrowth, pivotCap, evalEvery, checkpointEvery, trainSamples, threads, backend);
    }

    private static TrainConfig config(String preset, String method, int epochs, int batch, int hessianBatch, NetworkProblem.Curvature curvature,
            long seed, TrustRegionPolicy trustRegion, CubicPolicy cubic, KrylovOptions krylov, NormOptions norm, FirstOrderOptions firstOrder,
            int warmEpochs, FirstOrderOptions warmStart, int warmBatch, double pivotEvery, double pivotGrowth, double pivotCap, double evalEvery,
            double checkpointEvery, int trainSamples, int threads, String backend) {
        if (method == null) throw new IllegalArgumentException("method is null");
        if (backend == null) throw new IllegalArgumentException("backend is null");
        return new TrainConfig(preset, MethodSpec.parse(method), epochs, batch, OptionalInt.of(hessianBatch), curvature, seed, trustRegion, cubic, krylov,
                norm, firstOrder, warmEpochs, warmStart, warmBatch, OptionalDouble.of(pivotEvery), pivotGrowth, pivotCap, evalEvery,
                OptionalDouble.of(checkpointEvery), OptionalInt.of(trainSamples), OptionalInt.of(threads), BackendKind.parse(backend));
    }
}
