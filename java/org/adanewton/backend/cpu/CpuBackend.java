package org.adanewton.backend.cpu;

import org.adanewton.backend.Backend;
import org.adanewton.backend.BackendKind;
import org.adanewton.backend.BackendUnavailableException;
import org.adanewton.backend.Batch;
import org.adanewton.backend.NetworkModel;
import org.adanewton.backend.Vector;
import org.adanewton.nn.Network;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.LongPointer;

/**
 * Native CPU backend: float32 vectors off-heap, C++ kernels on OpenBLAS, double accumulation in
 * every reduction. A network call splits its batch into {@link #threads()} row blocks, each run
 * with single-threaded sgemm on its own thread (see native/cpu/network.cpp).
 *
 * <p>Thread safety: may be shared by threads that each use their own vectors, models and batches
 * (see {@link Backend}); its only state is its final thread count.
 */
public final class CpuBackend extends Backend {
    private final int threads;

    /** A backend on this many threads (1 .. 256). */
    public CpuBackend(int threads) {
        if (threads < 1 || threads > 256) throw new IllegalArgumentException("threads = " + threads + "; must be in [1, 256]");
        if (!NativeLibrary.isAvailable()) throw new BackendUnavailableException("cpu backend: " + NativeLibrary.loadError());
        this.threads = threads;
    }

    /** A backend on all available processors. */
    public CpuBackend() {
        this(Runtime.getRuntime().availableProcessors());
    }

    @Override
    public BackendKind kind() {
        return BackendKind.CPU;
    }

    @Override
    public String description() {
        return "cpu: native C++ kernels, float32, " + threads + " thread(s); " + NativeLibrary.runtimeInfo();
    }

    @Override
    public int threads() {
        return threads;
    }

    @Override
    public NetworkModel model(Network network, int maxBatch) {
        return new CpuNetworkModel(this, network, maxBatch);
    }

    @Override
    public Batch batch(Network network, int capacity) {
        return new CpuBatch(this, network, capacity);
    }

    static FloatPointer ptr(Vector v) {
        return ((CpuVector) v).data;
    }

    @Override
    protected Vector newVector(int length) {
        return new CpuVector(this, length);
    }

    @Override
    protected void doSet(Vector x, double[] values) {
        float[] f = new float[values.length];
        for (int i = 0; i < f.length; i++) f[i] = (float) values[i];
        ptr(x).put(f);
    }

    @Override
    protected double[] doToArray(Vector x) {
        float[] f = new float[x.length()];
        ptr(x).get(f);
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }

    @Override
    protected double doDot(Vector x, Vector y) {
        return NativeApi.an_dot(ptr(x), ptr(y), x.length());
    }

    @Override
    protected double doNorm(Vector x) {
        return NativeApi.an_nrm2(ptr(x), x.length());
    }

    @Override
    protected double doWeightedNorm(Vector a, Vector x) {
        return NativeApi.an_weighted_nrm2(ptr(a), ptr(x), x.length());
    }

    @Override
    protected void doAxpy(double alpha, Vector x, Vector y) {
        NativeApi.an_axpy((float) alpha, ptr(x), ptr(y), x.length());
    }

    @Override
    protected void doAxpby(double alpha, Vector x, double beta, Vector y) {
        NativeApi.an_axpby((float) alpha, ptr(x), (float) beta, ptr(y), x.length());
    }

    @Override
    protected void doScale(double alpha, Vector x) {
        NativeApi.an_scal((float) alpha, ptr(x), x.length());
    }

    @Override
    protected void doCopy(Vector src, Vector dst) {
        NativeApi.an_copy(ptr(src), ptr(dst), src.length());
    }

    @Override
    protected void doFill(Vector x, double value) {
        NativeApi.an_fill((float) value, ptr(x), x.length());
    }

    @Override
    protected void doMultiply(Vector x, Vector y, Vector out) {
        NativeApi.an_mul(ptr(x), ptr(y), ptr(out), x.length());
    }

    @Override
    protected void doDivide(Vector x, Vector y, Vector out) {
        NativeApi.an_div(ptr(x), ptr(y), ptr(out), x.length());
    }

    @Override
    protected long doCountNonFinite(Vector x) {
        return NativeApi.an_count_nonfinite(ptr(x), x.length(), (LongPointer) null);
    }

    @Override
    protected void doAccumulateSquares(double decay, double weight, Vector g, Vector v) {
        NativeApi.an_accumulate_squares((float) decay, (float) weight, ptr(g), ptr(v), g.length());
    }

    @Override
    protected void doRootMetric(Vector v, double scale, double eps, double lo, double hi, Vector out) {
        NativeApi.an_root_metric(ptr(v), (float) scale, (float) eps, (float) lo, (float) hi, ptr(out), v.length());
    }

    @Override
    protected void doSgdStep(Vector w, Vector g, Vector buf, double lr, double momentum, double weightDecay, boolean nesterov) {
        NativeApi.an_sgd_step(ptr(w), ptr(g), buf == null ? null : ptr(buf), (float) lr, (float) momentum, (float) weightDecay, nesterov ? 1 : 0,
                w.length());
    }

    @Override
    protected void doAdaptiveStep(Vector w, Vector g, Vector m, Vector v, double lr, double beta1, double decay, double weight, double c1,
            double c2, double eps, double l2, double decoupled) {
        NativeApi.an_adaptive_step(ptr(w), ptr(g), m == null ? null : ptr(m), ptr(v), (float) lr, (float) beta1, (float) decay, (float) weight,
                (float) c1, (float) c2, (float) eps, (float) l2, (float) decoupled, w.length());
    }

    private static final class CpuVector extends Vector {
        private final FloatPointer data;
        private final NativeCleaner.Handle cleaner;

        CpuVector(CpuBackend backend, int length) {
            super(backend, length);
            data = new FloatPointer(Math.max(1, length));
            // warns only: JavaCPP frees the buffer itself once no native call holds it (a free here could race a call in flight)
            cleaner = NativeCleaner.register(this, "a Vector", () -> {});
        }

        @Override
        protected void release() {
            cleaner.close();
            data.close();
        }
    }
}
