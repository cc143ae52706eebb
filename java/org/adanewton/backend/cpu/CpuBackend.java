package org.adanewton.backend.cpu;

import org.adanewton.backend.Backend;
import org.adanewton.backend.BackendKind;
import org.adanewton.backend.BackendUnavailableException;
import org.adanewton.backend.Batch;
import org.adanewton.backend.CurvatureOperator;
import org.adanewton.backend.CurvaturePrecision;
import org.adanewton.backend.NativeCurvature;
import org.adanewton.backend.NetworkModel;
import org.adanewton.backend.Vector;
import org.adanewton.nn.Network;
import java.nio.FloatBuffer;
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

    /**
     * TF32 refused (a GPU tensor-core format); BF16 refused too: without AVX512-BF16 instructions the
     * CPU has no fast bf16 products, and where it has them this backend has no bf16 GEMM kernel yet
     * (the bundled OpenBLAS is built without sbgemm).
     */
    @Override
    protected String unsupportedPrecision(CurvaturePrecision p) {
        String bf16 = bf16Reason(NativeApi.an_cpu_features());
        return p == CurvaturePrecision.TF32 ? "TF32 is a GPU tensor-core format; the CPU backend runs fp32 (bf16: " + bf16 + ")" : bf16;
    }

    /** Why BF16 is refused on a CPU with these AN_CPU_* features (package-private for the tests). */
    static String bf16Reason(int features) {
        if ((features & NativeApi.AN_CPU_AVX512BF16) != 0) return "the CPU backend has no bf16 GEMM kernel yet (this CPU has AVX512-BF16)";
        String[] names = {"avx2", "avx512f", "avx512bw", "avx512vl", "avx512_bf16"};
        int[] bits = {NativeApi.AN_CPU_AVX2, NativeApi.AN_CPU_AVX512F, NativeApi.AN_CPU_AVX512BW, NativeApi.AN_CPU_AVX512VL, NativeApi.AN_CPU_AVX512BF16};
        StringBuilder has = new StringBuilder(), lacks = new StringBuilder();
        for (int i = 0; i < names.length; i++) {
            StringBuilder to = (features & bits[i]) != 0 ? has : lacks;
            to.append(to.length() == 0 ? "" : " ").append(names[i]);
        }
        return "this CPU has no AVX512-BF16 instructions (flags: " + (has.length() == 0 ? "none of these" : has) + "; missing: " + lacks + ")";
    }

    @Override
    public NetworkModel model(Network network, int maxBatch) {
        return new CpuNetworkModel(this, network, maxBatch);
    }

    /** A {@link NativeCurvature} over op: the whole Krylov solves run natively, op is called for each product. */
    @Override
    public CurvatureOperator solvable(CurvatureOperator op, int n) {
        super.solvable(op, n);
        return op instanceof NativeCurvature ? op : new CallbackCurvature(this, op, n);
    }

    @Override
    public Batch batch(Network network, int capacity) {
        return new CpuBatch(this, network, capacity);
    }

    static FloatPointer ptr(Vector v) {
        return ((CpuVector) v).data;
    }

    /**
     * A view of v's own off-heap float32 storage (no copy), for user code that works in place (a
     * {@code VectorObjective} writing a gradient or a Hessian-vector product): a direct, native-order
     * FloatBuffer of capacity v.length() whose element i is v's entry i. One view per vector, made
     * on the first call and returned again (position 0, limit v.length()) by every later call, so
     * the call allocates nothing in steady state; use absolute get(i)/put(i, f).
     *
     * <p>Lifetime: the view is valid only while v is open and strongly reachable: the view does not
     * keep v alive, {@link Vector#close()} frees the memory under it, and so does the garbage
     * collector once v itself is unreachable; a view used after that reads or writes freed memory
     * (undefined behaviour, which can crash the JVM). Keep v referenced while you use the view (a
     * try-with-resources block, or {@code Reference.reachabilityFence(v)} after the last use), and
     * inside a {@code VectorObjective} call do not keep it beyond the call. The one cached view's
     * position and limit are reset by every call: from worker threads use absolute get/put only. Versions: a write through the view bypasses {@link Vector#version()}:
     * call {@link Vector#markWritten()} after writing, except inside a {@code VectorObjective}
     * call, whose caller marks the output vectors itself. Thread rule: the view is v, so the rules of
     * {@link Vector} apply: one thread at a time (this backend's kernels return only when done, so
     * nothing else touches v between calls).
     *
     * @throws NullPointerException     when v is null
     * @throws IllegalArgumentException when v is not a cpu vector (naming its backend)
     * @throws IllegalStateException    when v is closed
     */
    public static FloatBuffer buffer(Vector v) {
        return cpu(v, "buffer").view();
    }

    /**
     * The native address of v's first float32 entry (v.length() contiguous floats), for user JNI
     * code that works in place: the same memory as {@link #buffer(Vector)}, with its lifetime,
     * version and thread rules.
     *
     * @throws NullPointerException     when v is null
     * @throws IllegalArgumentException when v is not a cpu vector (naming its backend)
     * @throws IllegalStateException    when v is closed
     */
    public static long address(Vector v) {
        FloatPointer p = cpu(v, "address").data;
        return p.address() + p.position() * (long) Float.BYTES;
    }

    private static CpuVector cpu(Vector v, String method) {
        if (v == null) throw new NullPointerException("v is null");
        if (!(v instanceof CpuVector cv))
            throw new IllegalArgumentException("v is a " + v.backend().kind() + " vector; CpuBackend." + method + " needs a CPU vector");
        if (v.isClosed()) throw new IllegalStateException("v is closed");
        return cv;
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

    /**
     * A vector over length floats of memory it does not own, starting `offset` floats into `memory`
     * (a solve's work space): closing it frees nothing; the owner closes it before it frees the memory.
     */
    static Vector borrowed(CpuBackend backend, int length, FloatPointer memory, long offset) {
        return new CpuVector(backend, length, memory, offset);
    }

    private static final class CpuVector extends Vector {
        private final FloatPointer data;
        private final NativeCleaner.Handle cleaner; // null for a borrowed vector
        private FloatBuffer view;

        CpuVector(CpuBackend backend, int length) {
            super(backend, length);
            data = new FloatPointer(Math.max(1, length));
            // warns only: JavaCPP frees the buffer itself once no native call holds it (a free here could race a call in flight)
            cleaner = NativeCleaner.register(this, "a Vector", () -> {});
        }

        CpuVector(CpuBackend backend, int length, FloatPointer memory, long offset) {
            super(backend, length);
            data = memory.getPointer(offset);
            data.capacity(length).limit(length);
            cleaner = null;
        }

        /** The one view of the storage, reset to the whole vector. */
        FloatBuffer view() {
            if (view == null) view = new FloatPointer(data).asBuffer().limit(length()).slice();
            view.clear();
            return view;
        }

        @Override
        protected void release() {
            view = null;
            if (cleaner == null) return; // borrowed: the owner frees the memory
            cleaner.close();
            data.close();
        }
    }
}
