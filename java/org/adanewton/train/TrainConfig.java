package org.adanewton.train;

import java.util.OptionalDouble;
import java.util.OptionalInt;
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
 * checkpoint so that --resume needs nothing else (state.json keeps its format: see
 * {@link TrainConfigJson}). Build with {@link #builder()} or {@link #of}, change with
 * {@link #toBuilder()}.
 *
 * <p>The options that may be off are optional: empty means off (the builder's int and double
 * setters take the CLI's 0 for off, so the accepted values and the refusals stay as typed).
 *
 * <p>Thread safety: immutable: safe to share between threads (its Builder is not thread-safe).
 *
 * @param method          the method, e.g. tr-rmsprop or adam
 * @param epochs          total epochs (warm start included); an epoch = training-set size samples drawn for gradients
 * @param batch           samples per iteration
 * @param hessianBatch    samples for the curvature products (empty: the whole batch)
 * @param curvature       exact Hessian or Gauss-Newton
 * @param firstOrder      the optimizer of a first-order method (null for second-order methods)
 * @param warmEpochs      first-order warm-start epochs before a second-order method (0: none)
 * @param pivotEvery      pivot safeguard period in epochs (empty: off); pivotGrowth, pivotCap: batch growth and cap (fraction of the data)
 * @param evalEvery       full training loss, test loss and accuracy every this many epochs
 * @param checkpointEvery checkpoint every this many epochs (empty: only at the end and on Ctrl-C)
 * @param trainSamples    training samples used (the first ones; empty: all)
 * @param threads         kernel threads (empty: all processors)
 * @param backend         where the run computes
 */
public record TrainConfig(String preset, MethodSpec method, int epochs, int batch, OptionalInt hessianBatch, NetworkProblem.Curvature curvature,
        long seed, TrustRegionPolicy trustRegion, CubicPolicy cubic, KrylovOptions krylov, NormOptions norm, FirstOrderOptions firstOrder,
        int warmEpochs, FirstOrderOptions warmStart, int warmBatch, OptionalDouble pivotEvery, double pivotGrowth, double pivotCap, double evalEvery,
        OptionalDouble checkpointEvery, OptionalInt trainSamples, OptionalInt threads, BackendKind backend) {

    public TrainConfig {
        if (method == null) throw new IllegalArgumentException("method is null");
        if (epochs < 1) throw new IllegalArgumentException("epochs = " + epochs + "; must be >= 1");
        if (batch < 1) throw new IllegalArgumentException("batch = " + batch + "; must be >= 1");
        hessianBatch = offWhenZero(hessianBatch);
        pivotEvery = offWhenZero(pivotEvery);
        checkpointEvery = offWhenZero(checkpointEvery);
        trainSamples = offWhenZero(trainSamples);
        threads = offWhenZero(threads);
        int hb = hessianBatch.orElse(0);
        if (hb < 0 || hb > batch) throw new IllegalArgumentException("hessianBatch = " + hb + "; must be in [0, batch = " + batch + "]");
        if (method.isSecondOrder() && (trustRegion == null || cubic == null || krylov == null || norm == null))
            throw new IllegalArgumentException("a second-order method needs trustRegion, cubic, krylov and norm options");
        if (!method.isSecondOrder() && firstOrder == null) throw new IllegalArgumentException("a first-order method needs its optimizer options");
        if (warmEpochs < 0) throw new IllegalArgumentException("warmEpochs = " + warmEpochs + "; must be >= 0");
        if (warmEpochs > 0 && (warmStart == null || warmBatch < 1)) throw new IllegalArgumentException("a warm start needs its optimizer and batch");
        if (warmEpochs >= epochs && method.isSecondOrder())
            throw new IllegalArgumentException("warmEpochs = " + warmEpochs + "; must be < epochs = " + epochs);
        double pe = pivotEvery.orElse(0);
        if (!(pe >= 0 && pe < Double.POSITIVE_INFINITY))
            throw new IllegalArgumentException("pivotEvery = " + pe + "; must be finite and >= 0 (0: off)");
        if (!(pivotGrowth >= 1 && pivotGrowth < Double.POSITIVE_INFINITY))
            throw new IllegalArgumentException("pivotGrowth = " + pivotGrowth + "; must be finite and >= 1");
        if (!(pivotCap > 0 && pivotCap <= 1)) throw new IllegalArgumentException("pivotCap = " + pivotCap + "; must be in (0, 1]");
        if (!(evalEvery > 0 && evalEvery < Double.POSITIVE_INFINITY))
            throw new IllegalArgumentException("evalEvery = " + evalEvery + "; must be finite and > 0");
        double ce = checkpointEvery.orElse(0);
        if (!(ce >= 0 && ce < Double.POSITIVE_INFINITY))
            throw new IllegalArgumentException("checkpointEvery = " + ce + "; must be finite and >= 0 (0: at the end only)");
        int ts = trainSamples.orElse(0);
        if (ts < 0) throw new IllegalArgumentException("trainSamples = " + ts + "; must be >= 0");
        int th = threads.orElse(0);
        if (th < 0 || th > 256) throw new IllegalArgumentException("threads = " + th + "; must be in [0, 256] (0: all processors)");
        if (backend == null) throw new IllegalArgumentException("backend is null");
        if (curvature == null) throw new IllegalArgumentException("curvature is null");
    }

    private static OptionalInt offWhenZero(OptionalInt v) {
        return v == null || (v.isPresent() && v.getAsInt() == 0) ? OptionalInt.empty() : v;
    }

    private static OptionalDouble offWhenZero(OptionalDouble v) {
        return v == null || (v.isPresent() && v.getAsDouble() == 0) ? OptionalDouble.empty() : v;
    }

    /** The same run with another epoch count (to extend a run on --resume). */
    public TrainConfig withEpochs(int newEpochs) {
        return toBuilder().epochs(newEpochs).build();
    }

    /** The same run on other threads (0: all processors) or another backend (a resume may change where it runs). */
    public TrainConfig withExecution(int newThreads, BackendKind newBackend) {
        return toBuilder().threads(newThreads).backend(newBackend).build();
    }

    /**
     * The method, as {@link #method()}.
     *
     * @deprecated since method() is typed; use {@link #method()}
     */
    @Deprecated
    public MethodSpec methodSpec() {
        return method;
    }

    /** The threads to ask the backend for: the count, or 0 for all processors. */
    public int threadCount() {
        return threads.orElse(0);
    }

    /** The preset's settings for a method over `epochs` epochs. */
    public static TrainConfig of(Preset p, MethodSpec m, int epochs) {
        Builder b = builder().preset(p.name()).method(m).epochs(epochs).trainSamples(p.trainSamples());
        if (m.isSecondOrder()) {
            NormKind kind = m.norm();
            // the preset's warm start never takes the whole run (a 1-epoch run is then all second-order)
            return b.batch(p.trBatch()).trustRegion(p.trustRegion().get(kind)).cubic(CubicPolicy.DEFAULT).krylov(p.krylov())
                    .norm(NormOptions.builder(kind).eps(p.eps()).build()).warmEpochs(Math.min(p.warmEpochs(), epochs - 1)).warmStart(p.warmStart())
                    .warmBatch(p.firstOrderBatch()).pivotEvery(p.pivotEvery()).pivotGrowth(p.pivotGrowth()).pivotCap(p.pivotCap()).build();
        }
        double lr = p.firstOrderLr().getOrDefault(m.firstOrder(), 1e-3);
        return b.batch(p.firstOrderBatch()).firstOrder(FirstOrderOptions.of(m.firstOrder(), lr)).build();
    }

    /**
     * A builder with the generic defaults: batch 1, whole-batch curvature products, the Hessian,
     * seed 1, no warm start, pivot off (growth 1, cap 1), evaluation every epoch, checkpoints at the
     * end only, all samples, all processors, backend auto; set the preset, method, epochs and the
     * method's options.
     */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding this configuration. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.preset = preset;
        b.method = method;
        b.epochs = epochs;
        b.batch = batch;
        b.hessianBatch = hessianBatch;
        b.curvature = curvature;
        b.seed = seed;
        b.trustRegion = trustRegion;
        b.cubic = cubic;
        b.krylov = krylov;
        b.norm = norm;
        b.firstOrder = firstOrder;
        b.warmEpochs = warmEpochs;
        b.warmStart = warmStart;
        b.warmBatch = warmBatch;
        b.pivotEvery = pivotEvery;
        b.pivotGrowth = pivotGrowth;
        b.pivotCap = pivotCap;
        b.evalEvery = evalEvery;
        b.checkpointEvery = checkpointEvery;
        b.trainSamples = trainSamples;
        b.threads = threads;
        b.backend = backend;
        return b;
    }

    /** Builds a {@link TrainConfig}; build() validates (the messages name the option, its value and the rule). */
    public static final class Builder {
        private String preset;
        private MethodSpec method;
        private int epochs = 1, batch = 1, warmEpochs, warmBatch;
        private OptionalInt hessianBatch = OptionalInt.empty(), trainSamples = OptionalInt.empty(), threads = OptionalInt.empty();
        private NetworkProblem.Curvature curvature = NetworkProblem.Curvature.HESSIAN;
        private long seed = 1;
        private TrustRegionPolicy trustRegion;
        private CubicPolicy cubic;
        private KrylovOptions krylov;
        private NormOptions norm;
        private FirstOrderOptions firstOrder, warmStart;
        private OptionalDouble pivotEvery = OptionalDouble.empty(), checkpointEvery = OptionalDouble.empty();
        private double pivotGrowth = 1, pivotCap = 1, evalEvery = 1;
        private BackendKind backend = BackendKind.AUTO;

        private Builder() {}

        public Builder preset(String v) { preset = v; return this; }

        public Builder method(MethodSpec v) { method = v; return this; }

        /** A method by name ({@link MethodSpec#parse}). */
        public Builder method(String v) { method = MethodSpec.parse(v); return this; }

        public Builder epochs(int v) { epochs = v; return this; }

        public Builder batch(int v) { batch = v; return this; }

        /** Samples for the curvature products; 0: the whole batch. */
        public Builder hessianBatch(int v) { hessianBatch = OptionalInt.of(v); return this; }

        public Builder curvature(NetworkProblem.Curvature v) { curvature = v; return this; }

        public Builder seed(long v) { seed = v; return this; }

        public Builder trustRegion(TrustRegionPolicy v) { trustRegion = v; return this; }

        public Builder cubic(CubicPolicy v) { cubic = v; return this; }

        public Builder krylov(KrylovOptions v) { krylov = v; return this; }

        public Builder norm(NormOptions v) { norm = v; return this; }

        public Builder firstOrder(FirstOrderOptions v) { firstOrder = v; return this; }

        public Builder warmEpochs(int v) { warmEpochs = v; return this; }

        public Builder warmStart(FirstOrderOptions v) { warmStart = v; return this; }

        public Builder warmBatch(int v) { warmBatch = v; return this; }

        /** Pivot period in epochs; 0: off. */
        public Builder pivotEvery(double v) { pivotEvery = OptionalDouble.of(v); return this; }

        public Builder pivotGrowth(double v) { pivotGrowth = v; return this; }

        public Builder pivotCap(double v) { pivotCap = v; return this; }

        public Builder evalEvery(double v) { evalEvery = v; return this; }

        /** Checkpoint period in epochs; 0: at the end (and on a stop) only. */
        public Builder checkpointEvery(double v) { checkpointEvery = OptionalDouble.of(v); return this; }

        /** Training samples used (the first ones); 0: all. */
        public Builder trainSamples(int v) { trainSamples = OptionalInt.of(v); return this; }

        /** Kernel threads; 0: all processors. */
        public Builder threads(int v) { threads = OptionalInt.of(v); return this; }

        public Builder backend(BackendKind v) { backend = v; return this; }

        public TrainConfig build() {
            return new TrainConfig(preset, method, epochs, batch, hessianBatch, curvature, seed, trustRegion, cubic, krylov, norm, firstOrder,
                    warmEpochs, warmStart, warmBatch, pivotEvery, pivotGrowth, pivotCap, evalEvery, checkpointEvery, trainSamples, threads, backend);
        }
    }
}
