package org.adanewton.backend.cuda;

import org.adanewton.backend.Batch;
import org.adanewton.backend.CurvaturePrecision;
import org.adanewton.backend.NativeCurvature;
import org.adanewton.backend.NetworkModel;
import org.adanewton.backend.Vector;
import org.adanewton.nn.Network;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * A network on the device: one native call per loss, gradient, HVP or Gauss-Newton product, and
 * one per whole Krylov solve (Steihaug, GLTR, ARC) at the cached point.
 */
final class CudaNetworkModel extends NetworkModel {
    private final Pointer net;
    private final CudaBackend cuda;
    private final DoublePointer solveResult = new DoublePointer(NativeCurvature.RESULT_LENGTH);
    private final double[] result = new double[NativeCurvature.RESULT_LENGTH];
    private FloatPointer work; // Krylov work space on the device, grown on demand and kept
    private long workFloats;
    private final DoublePointer statistics; // the batch norm statistics crossing to and from the engine, host memory (null without batch norm)

    CudaNetworkModel(CudaBackend backend, Network network, int maxBatch) {
        super(backend, network, maxBatch, true);
        this.cuda = backend;
        this.net = CudaNative.netCreate(backend.context(), network.nativeSpec(), network.loss().nativeCode,
                network.regularization().kind().nativeCode, network.regularization().lambda(), maxBatch);
        this.statistics = network.statisticsCount() > 0 ? new DoublePointer(network.statisticsCount()) : null;
    }

    private static FloatPointer p(Vector v) {
        return CudaBackend.ptr(v);
    }

    @Override
    protected double[] doForward(Vector w, Batch batch) {
        CudaBatch b = (CudaBatch) batch;
        int n = b.rows() * network().outputDim();
        try (Vector out = cuda.allocate(n)) {
            CudaNative.netForward(net, p(w), b.inputs, b.rows(), p(out));
            return out.toArray();
        }
    }

    @Override
    protected double doLoss(Vector w, Batch batch) {
        CudaBatch b = (CudaBatch) batch;
        return CudaNative.netLoss(net, p(w), b.inputs, b.labels, b.targets, b.rows());
    }

    @Override
    protected double doGradient(Vector w, Batch batch, Vector grad) {
        CudaBatch b = (CudaBatch) batch;
        return CudaNative.netGradient(net, p(w), b.inputs, b.labels, b.targets, b.rows(), p(grad));
    }

    @Override
    protected double doHvp(Vector w, Batch batch, Vector v, Vector out) {
        CudaBatch b = (CudaBatch) batch;
        return CudaNative.netHvp(net, p(w), b.inputs, b.labels, b.targets, b.rows(), p(v), p(out));
    }

    @Override
    protected void doHvpCached(Vector v, Vector out) {
        CudaNative.netHvpCached(net, p(v), p(out));
    }

    @Override
    protected void doGaussNewtonCached(Vector v, Vector out) {
        CudaNative.netGaussNewtonCached(net, p(v), p(out));
    }

    private FloatPointer work(long floats) {
        if (floats > workFloats) {
            if (work != null) CudaNative.free(cuda.context(), work);
            work = null;
            workFloats = 0;
            work = CudaNative.alloc(cuda.context(), floats);
            workFloats = floats;
        }
        return work;
    }

    /**
     * A whole Steihaug solve on the device: the shared native driver (native/common/krylov_driver.h)
     * over device vectors; the host waits once per solve and twice per CG iteration.
     */
    @Override
    protected double[] nativeSteihaug(int curvature, Vector g, Vector a, double radius, int maxIterations, double tolerance, int rule, Vector s) {
        long n = network().parameterCount();
        CudaNative.netSteihaug(net, curvature, p(g), p(a), radius, maxIterations, tolerance, rule, p(s),
                work(4 * n), solveResult);
        return result();
    }

    /** A whole GLTR or ARC solve on the device; the host waits once per solve and once per Lanczos iteration. */
    @Override
    protected double[] nativeLanczos(int curvature, boolean cubic, Vector g, Vector a, double reg, int maxIterations, double tolerance, int rule,
            Vector s) {
        long n = network().parameterCount();
        CudaNative.netLanczos(net, curvature, cubic, p(g), p(a), reg, maxIterations, tolerance, rule, p(s),
                work((5L + maxIterations) * n), solveResult);
        return result();
    }

    private double[] result() {
        solveResult.get(result);
        return result;
    }

    /** TF32/BF16: cublasGemmEx in the R-passes' GEMMs (native/cuda/network.cu); FP32: cublasSgemm. */
    @Override
    protected void doSetCurvaturePrecision(CurvaturePrecision p) {
        CudaNative.netSetPrecision(net, p.nativeCode());
    }

    /** Pushes the mode, dropout's seed and the running statistics to the engine (which drops its cached point). */
    @Override
    protected void modeChanged() {
        if (statistics != null) statistics.put(runningStatisticsView());
        CudaNative.netSetMode(net, isTraining(), dropoutSeed(), statistics, statistics == null ? 0 : network().statisticsCount());
    }

    @Override
    protected double[] doBatchStatistics() {
        double[] out = new double[network().statisticsCount()];
        if (statistics == null) return out;
        CudaNative.netBatchStatistics(net, statistics, out.length);
        statistics.get(out);
        return out;
    }

    @Override
    protected void release() {
        CudaNative.netDestroy(net);
        solveResult.close();
        if (statistics != null) statistics.close();
        if (work != null) CudaNative.free(cuda.context(), work);
        cuda.closed(this);
    }
}
