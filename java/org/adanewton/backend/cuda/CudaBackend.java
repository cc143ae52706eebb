package org.adanewton.backend.cuda;

import org.adanewton.backend.Backend;
import org.adanewton.backend.BackendKind;
import org.adanewton.backend.BackendUnavailableException;
import org.adanewton.backend.Batch;
import org.adanewton.backend.CurvaturePrecision;
import org.adanewton.backend.NetworkModel;
import org.adanewton.backend.Vector;
import org.adanewton.nn.Network;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * The CUDA backend: float32 vectors in device memory, kernels on the device (cuBLAS for the matrix
 * products), double accumulation in reductions; one context (stream, cuBLAS handle) per
 * backend. Every layer of the CPU backend (dense, conv2d via batched im2col + cuBLAS, pooling). A
 * network's cached curvature runs whole Steihaug, GLTR and ARC solves on the device (one native
 * call per solve; the host waits twice per CG iteration and once per Lanczos iteration, see
 * {@link #hostSynchronizations()}); other operators get the solvers' Java loops over device vectors.
 *
 * <p>Not yet run on a GPU by this project: the gpu-tagged parity tests and bench/gpu/run.sh are
 * ready for a machine that has one.
 *
 * <p>Thread safety: not thread-safe: use the backend and everything made on it (vectors, models,
 * batches) from one thread at a time. They share one stream, and the backend's set of open models
 * and batches is not synchronized; a model or batch refuses a second thread on itself, but nothing
 * stops two threads using two models at once.
 */
public final class CudaBackend extends Backend {
    private final Pointer ctx;
    private final String device;
    private final int computeCapability; // 10 major + minor
    private boolean closed;
    // the models and batches still open: close() closes them before the context they live in
    private final java.util.Set<AutoCloseable> open = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());

    /** A backend on device 0; throws BackendUnavailableException with the probe's or the runtime's reason. */
    public CudaBackend() {
        CudaProbe.Result probe = CudaProbe.probe();
        if (!probe.available()) throw new BackendUnavailableException("cuda backend: " + probe.message());
        this.ctx = CudaNative.createContext(0);
        this.device = probe.message();
        this.computeCapability = CudaNative.computeCapability(ctx);
    }

    /**
     * TF32 and BF16 run on devices of compute capability 8.0 and above (Ampere and later: the
     * tensor cores read them; the build targets sm_80 and sm_90); older devices refuse them.
     */
    @Override
    protected String unsupportedPrecision(CurvaturePrecision p) {
        return precisionReason(p, computeCapability);
    }

    /** Why p is refused on a device of compute capability cc (10 major + minor), or null (package-private for the tests). */
    static String precisionReason(CurvaturePrecision p, int cc) {
        if (p == CurvaturePrecision.FP32 || cc >= 80) return null;
        return p.name() + " needs compute capability >= 8.0; this device is " + cc / 10 + "." + cc % 10;
    }

    Pointer context() {
        return ctx;
    }

    @Override
    public void synchronize() {
        if (closed) throw new IllegalStateException("the cuda backend is closed");
        CudaNative.synchronize(ctx);
    }

    /**
     * How many times the host has waited for this backend's stream so far: every reduction read
     * back (dot, norm, loss), every copy between host and device (uploads included), every scalar a
     * native Krylov solve needs for a branch, every {@link #synchronize()}. Benchmarks and tests
     * difference it around a solve.
     */
    public long hostSynchronizations() {
        if (closed) throw new IllegalStateException("the cuda backend is closed");
        return CudaNative.syncCount(ctx);
    }

    /**
     * How many device (cudaMalloc) and pinned host allocations this backend has made so far: vectors,
     * batches, networks (sized by their max batch when created), and Krylov work space grown on a
     * solve's first use. Tests difference it around steady-state iterations, which make none.
     */
    public long deviceAllocations() {
        if (closed) throw new IllegalStateException("the cuda backend is closed");
        return CudaNative.allocationCount(ctx);
    }

    @Override
    public BackendKind kind() {
        return BackendKind.CUDA;
    }

    @Override
    public String description() {
        return "cuda: device kernels + cuBLAS, float32; " + device;
    }

    @Override
    public int threads() {
        return 1;
    }

    @Override
    public NetworkModel model(Network network, int maxBatch) {
        CudaNetworkModel model = new CudaNetworkModel(this, network, maxBatch);
        open.add(model);
        return model;
    }

    @Override
    public Batch batch(Network network, int capacity) {
        CudaBatch batch = new CudaBatch(this, network, capacity);
        open.add(batch);
        return batch;
    }

    static FloatPointer ptr(Vector v) {
        return ((CudaVector) v).data;
    }

    /**
     * The device address of v's first float32 entry (v.length() contiguous floats in this backend's
     * device memory; no copy), for user CUDA or JNI code that works in place (a
     * {@code VectorObjective} writing a gradient or a Hessian-vector product on the device).
     *
     * <p>Stream rule: this backend queues its kernels on its own stream and returns early. Call
     * {@link #synchronize()} (on the vector's backend) before reading or writing the memory from
     * another stream, and finish your own work (cudaStreamSynchronize or cudaDeviceSynchronize)
     * before returning to the library, which then reads the memory on its stream. Lifetime: the
     * address is valid only while v and its backend are open; closing either frees the memory.
     * Versions: a write through the address bypasses {@link Vector#version()}: call
     * {@link Vector#markWritten()} after writing, except inside a {@code VectorObjective} call,
     * whose caller marks the output vectors itself. Thread rule: as for the backend, one thread at a
     * time.
     *
     * @throws NullPointerException     when v is null
     * @throws IllegalArgumentException when v is not a cuda vector (naming its backend)
     * @throws IllegalStateException    when v or its backend is closed
     */
    public static long deviceAddress(Vector v) {
        if (v == null) throw new NullPointerException("v is null");
        if (!(v instanceof CudaVector cv))
            throw new IllegalArgumentException("v is a " + v.backend().kind() + " vector; CudaBackend.deviceAddress needs a CUDA vector");
        if (v.isClosed()) throw new IllegalStateException("v is closed");
        if (cv.owner.closed) throw new IllegalStateException("v's cuda backend is closed");
        return cv.data.address() + cv.data.position() * (long) Float.BYTES;
    }

    @Override
    protected Vector newVector(int length) {
        return new CudaVector(this, length);
    }

    @Override
    protected void doSet(Vector x, double[] values) {
        float[] f = new float[values.length];
        for (int i = 0; i < f.length; i++) f[i] = (float) values[i];
        try (FloatPointer host = new FloatPointer(Math.max(1, f.length))) {
            host.put(f);
            CudaNative.copy(ctx, host, ptr(x), f.length, 0);
        }
    }

    @Override
    protected double[] doToArray(Vector x) {
        float[] f = new float[x.length()];
        try (FloatPointer host = new FloatPointer(Math.max(1, f.length))) {
            CudaNative.copy(ctx, ptr(x), host, f.length, 1);
            host.get(f);
        }
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }

    @Override
    protected double doDot(Vector x, Vector y) {
        return CudaNative.dot(ctx, ptr(x), ptr(y), x.length());
    }

    @Override
    protected double doNorm(Vector x) {
        return Math.sqrt(doDot(x, x));
    }

    @Override
    protected double doWeightedNorm(Vector a, Vector x) {
        return Math.sqrt(CudaNative.weightedDot(ctx, ptr(a), ptr(x), x.length()));
    }

    @Override
    protected void doAxpy(double alpha, Vector x, Vector y) {
        CudaNative.axpby(ctx, (float) alpha, ptr(x), 1.0f, ptr(y), x.length());
    }

    @Override
    protected void doAxpby(double alpha, Vector x, double beta, Vector y) {
        CudaNative.axpby(ctx, (float) alpha, ptr(x), (float) beta, ptr(y), x.length());
    }

    @Override
    protected void doScale(double alpha, Vector x) {
        CudaNative.axpby(ctx, 0.0f, ptr(x), (float) alpha, ptr(x), x.length());
    }

    @Override
    protected void doCopy(Vector src, Vector dst) {
        CudaNative.copy(ctx, ptr(src), ptr(dst), src.length(), 2);
    }

    @Override
    protected void doFill(Vector x, double value) {
        CudaNative.fill(ctx, (float) value, ptr(x), x.length());
    }

    @Override
    protected void doMultiply(Vector x, Vector y, Vector out) {
        CudaNative.mul(ctx, ptr(x), ptr(y), ptr(out), x.length(), false);
    }

    @Override
    protected void doDivide(Vector x, Vector y, Vector out) {
        CudaNative.mul(ctx, ptr(x), ptr(y), ptr(out), x.length(), true);
    }

    @Override
    protected long doCountNonFinite(Vector x) {
        return CudaNative.countNonFinite(ctx, ptr(x), x.length());
    }

    @Override
    protected void doSgdStep(Vector w, Vector g, Vector buf, double lr, double momentum, double weightDecay, boolean nesterov) {
        CudaNative.sgdStep(ctx, ptr(w), ptr(g), buf == null ? null : ptr(buf), (float) lr, (float) momentum, (float) weightDecay, nesterov, w.length());
    }

    @Override
    protected void doAdaptiveStep(Vector w, Vector g, Vector m, Vector v, double lr, double beta1, double decay, double weight, double c1, double c2,
            double eps, double l2, double decoupled) {
        CudaNative.adaptiveStep(ctx, ptr(w), ptr(g), m == null ? null : ptr(m), ptr(v), (float) lr, (float) beta1, (float) decay, (float) weight,
                (float) c1, (float) c2, (float) eps, (float) l2, (float) decoupled, w.length());
    }

    @Override
    protected void doAccumulateSquares(double decay, double weight, Vector g, Vector v) {
        CudaNative.accumulateSquares(ctx, (float) decay, (float) weight, ptr(g), ptr(v), g.length());
    }

    @Override
    protected void doRootMetric(Vector v, double scale, double eps, double lo, double hi, Vector out) {
        CudaNative.rootMetric(ctx, ptr(v), (float) scale, (float) eps, (float) lo, (float) hi, ptr(out), v.length());
    }

    /**
     * Closes the models and batches still open on this backend (their device memory lives in this
     * context), then the context. Vectors not closed before are left to the process's end.
     */
    @Override
    public void close() {
        if (!closed) {
            for (AutoCloseable child : java.util.List.copyOf(open)) {
                try {
                    child.close();
                } catch (Exception e) {
                    throw new IllegalStateException("closing " + child + " with the cuda backend: " + e.getMessage(), e);
                }
            }
            closed = true;
            CudaNative.destroyContext(ctx);
        }
    }

    /** A model or batch released its device memory. */
    void closed(AutoCloseable child) {
        open.remove(child);
    }

    private static final class CudaVector extends Vector {
        private final FloatPointer data;
        private final CudaBackend owner;

        CudaVector(CudaBackend backend, int length) {
            super(backend, length);
            owner = backend;
            data = CudaNative.alloc(backend.ctx, Math.max(1, length));
        }

        @Override
        protected void release() {
            if (!owner.closed) CudaNative.free(owner.ctx, data);
        }
    }
}
