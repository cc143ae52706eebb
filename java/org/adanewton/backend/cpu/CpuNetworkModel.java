package org.adanewton.backend.cpu;

import org.adanewton.backend.Batch;
import org.adanewton.backend.NativeCurvature;
import org.adanewton.backend.NetworkModel;
import org.adanewton.backend.Vector;
import org.adanewton.nn.Network;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Pointer;

/** A network on the CPU backend: one JNI call per loss, gradient, HVP or Gauss-Newton product. */
final class CpuNetworkModel extends NetworkModel {
    private final Pointer net;
    private final NativeCleaner.Handle cleaner;
    private final DoublePointer scalar = new DoublePointer(2);
    private final DoublePointer solveResult = new DoublePointer(NativeCurvature.RESULT_LENGTH);
    private final double[] result = new double[NativeCurvature.RESULT_LENGTH];
    private FloatPointer work; // Krylov work space, grown on demand and kept
    private long workFloats;
    private final DoublePointer statistics; // the batch norm statistics crossing to and from the engine (null without batch norm)

    CpuNetworkModel(CpuBackend backend, Network network, int maxBatch) {
        super(backend, network, maxBatch, true);
        int[] spec = network.nativeSpec();
        try (IntPointer s = new IntPointer(spec)) {
            net = NativeApi.an_net_create(s, spec.length, network.loss().nativeCode,
                    network.regularization().kind().nativeCode, network.regularization().lambda(), maxBatch, backend.threads());
        }
        if (net == null || net.isNull()) NativeLibrary.check("an_net_create", -1);
        Pointer created = net;
        cleaner = NativeCleaner.register(this, "a NetworkModel (" + network.shortName() + ")", () -> NativeApi.an_net_destroy(created));
        long n = NativeApi.an_net_param_count(net);
        if (n != network.parameterCount())
            throw new IllegalStateException("native parameter count " + n + " differs from " + network.parameterCount());
        statistics = network.statisticsCount() > 0 ? new DoublePointer(network.statisticsCount()) : null;
    }

    /** Pushes the mode, dropout's seed and the running statistics to the engine (which drops its cached point). */
    @Override
    protected void modeChanged() {
        if (statistics != null) statistics.put(runningStatisticsView());
        NativeLibrary.check("an_net_set_mode", NativeApi.an_net_set_mode(net, isTraining() ? 1 : 0, dropoutSeed(), statistics,
                statistics == null ? 0 : network().statisticsCount()));
    }

    @Override
    protected double[] doBatchStatistics() {
        double[] out = new double[network().statisticsCount()];
        if (statistics == null) return out;
        NativeLibrary.check("an_net_batch_statistics", NativeApi.an_net_batch_statistics(net, statistics, out.length));
        statistics.get(out);
        return out;
    }

    private static FloatPointer p(Vector v) {
        return CpuBackend.ptr(v);
    }

    @Override
    protected double[] doForward(Vector w, Batch batch) {
        CpuBatch b = (CpuBatch) batch;
        int n = b.rows() * network().outputDim();
        try (FloatPointer out = new FloatPointer(n)) {
            NativeLibrary.check("an_net_forward", NativeApi.an_net_forward(net, p(w), b.inputs, b.rows(), out));
            float[] f = new float[n];
            out.get(f);
            double[] d = new double[n];
            for (int i = 0; i < n; i++) d[i] = f[i];
            return d;
        }
    }

    @Override
    protected double doLoss(Vector w, Batch batch) {
        CpuBatch b = (CpuBatch) batch;
        NativeLibrary.check("an_net_loss", NativeApi.an_net_loss(net, p(w), b.inputs, b.labels, b.targets, b.rows(), scalar));
        return scalar.get(0);
    }

    @Override
    protected double doGradient(Vector w, Batch batch, Vector grad) {
        CpuBatch b = (CpuBatch) batch;
        NativeLibrary.check("an_net_gradient",
                NativeApi.an_net_gradient(net, p(w), b.inputs, b.labels, b.targets, b.rows(), p(grad), scalar));
        return scalar.get(0);
    }

    @Override
    protected double doHvp(Vector w, Batch batch, Vector v, Vector out) {
        CpuBatch b = (CpuBatch) batch;
        NativeLibrary.check("an_net_hvp",
                NativeApi.an_net_hvp(net, p(w), b.inputs, b.labels, b.targets, b.rows(), p(v), p(out), scalar));
        return scalar.get(0);
    }

    @Override
    protected void doHvpCached(Vector v, Vector out) {
        NativeLibrary.check("an_net_hvp_cached", NativeApi.an_net_hvp_cached(net, p(v), p(out)));
    }

    @Override
    protected void doGaussNewtonCached(Vector v, Vector out) {
        NativeLibrary.check("an_net_gn_cached", NativeApi.an_net_gn_cached(net, p(v), p(out)));
    }

    private FloatPointer work(long floats) {
        if (floats > workFloats) {
            if (work != null) work.close();
            work = new FloatPointer(floats);
            workFloats = floats;
        }
        return work;
    }

    @Override
    protected double[] nativeSteihaug(int curvature, Vector g, Vector a, double radius, int maxIterations, double tolerance, int rule, Vector s) {
        long n = network().parameterCount();
        NativeLibrary.check("an_net_steihaug", NativeApi.an_net_steihaug(net, curvature, p(g), p(a), radius, maxIterations, tolerance,
                rule, p(s), work(4 * n), solveResult));
        return result();
    }

    @Override
    protected double[] nativeLanczos(int curvature, boolean cubic, Vector g, Vector a, double reg, int maxIterations, double tolerance, int rule,
            Vector s) {
        long n = network().parameterCount();
        NativeLibrary.check("an_net_lanczos", NativeApi.an_net_lanczos(net, curvature, cubic ? 1 : 0, p(g), p(a), reg, maxIterations,
                tolerance, rule, p(s), work((5L + maxIterations) * n), solveResult));
        return result();
    }

    private double[] result() {
        solveResult.get(result);
        return result;
    }

    /** {ms, GFLOP} of only the sgemm calls `op` makes at this batch (plain OpenBLAS, blasThreads). */
    double[] gemmFloor(GemmFloor.Op op, int batch, int repeats, int blasThreads) {
        try (DoublePointer ms = new DoublePointer(1); DoublePointer gflop = new DoublePointer(1)) {
            NativeApi.an_set_blas_threads(blasThreads);
            try {
                NativeLibrary.check("an_net_gemm_floor", NativeApi.an_net_gemm_floor(net, op.code, batch, repeats, ms, gflop));
            } finally {
                NativeApi.an_set_blas_threads(1);
            }
            return new double[] {ms.get(0), gflop.get(0)};
        }
    }

    @Override
    protected void release() {
        cleaner.close(); // an_net_destroy
        scalar.close();
        solveResult.close();
        if (work != null) work.close();
        if (statistics != null) statistics.close();
    }
}
