package org.adanewton.backend.cuda;

import org.adanewton.backend.BackendUnavailableException;
import org.adanewton.backend.NativeException;
import org.adanewton.backend.cpu.NativeLibrary;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * The CUDA part of the C API for {@link CudaBackend}: one JNI library carries the whole API (the
 * CPU binding and {@link CudaApi}), and this facade maps every status to an exception naming the
 * call and the native message. Package-private: the backend validates arguments first. FloatPointers here hold device addresses: never read them on the host.
 *
 * <p>Thread safety: stateless apart from a per-thread scalar buffer, so any thread may call it; but
 * a context (one stream, one cuBLAS handle) and what lives in it must not be used by two threads at
 * once.
 */
final class CudaNative {
    private CudaNative() {}

    private static final ThreadLocal<DoublePointer> SCALAR = ThreadLocal.withInitial(() -> new DoublePointer(1));

    /** Throws a NativeException naming the call when status is not AN_OK (0). */
    private static void check(String call, int status) {
        if (status != 0) throw new NativeException(call, status, lastError());
    }

    private static String lastError() {
        BytePointer msg = CudaApi.an_last_error();
        return msg == null || msg.isNull() ? "(no message)" : cString(msg);
    }

    /** The NUL-terminated string at p (not the whole buffer). */
    private static String cString(BytePointer p) {
        return p.limit(p.position()).getString();
    }

    private static void requireLibrary() {
        if (!NativeLibrary.isAvailable()) throw new IllegalStateException(NativeLibrary.loadError());
    }

    /** The CUDA probe: device count, or 0 with the reason in reason[0]. */
    static int probe(String[] reason) {
        requireLibrary();
        try (BytePointer buf = new BytePointer(512)) {
            int n = CudaApi.an_cuda_probe(buf, 512);
            reason[0] = cString(buf);
            return n;
        }
    }

    /** A context on the device, or an exception with the reason (no driver, no cuBLAS, built without CUDA). */
    static Pointer createContext(int device) {
        requireLibrary();
        Pointer ctx = CudaApi.an_cuda_create(device);
        if (ctx == null || ctx.isNull()) throw new BackendUnavailableException("cuda backend: " + lastError());
        return ctx;
    }

    static void destroyContext(Pointer ctx) {
        CudaApi.an_cuda_destroy(ctx);
    }

    static FloatPointer alloc(Pointer ctx, long n) {
        FloatPointer p = CudaApi.an_cuda_alloc(ctx, n);
        if (p == null || p.isNull()) throw new IllegalStateException("an_cuda_alloc of " + n + " floats failed: " + lastError());
        return p;
    }

    static void free(Pointer ctx, FloatPointer p) {
        check("an_cuda_free", CudaApi.an_cuda_free(ctx, p));
    }

    /** kind: 0 host to device, 1 device to host, 2 device to device. */
    static void copy(Pointer ctx, FloatPointer src, FloatPointer dst, long n, int kind) {
        check("an_cuda_copy", CudaApi.an_cuda_copy(ctx, src, dst, n, kind));
    }

    static double dot(Pointer ctx, FloatPointer x, FloatPointer y, long n) {
        DoublePointer out = SCALAR.get();
        check("an_cuda_dot", CudaApi.an_cuda_dot(ctx, x, y, n, out));
        return out.get();
    }

    static double weightedDot(Pointer ctx, FloatPointer a, FloatPointer x, long n) {
        DoublePointer out = SCALAR.get();
        check("an_cuda_weighted_dot", CudaApi.an_cuda_weighted_dot(ctx, a, x, n, out));
        return out.get();
    }

    static long countNonFinite(Pointer ctx, FloatPointer x, long n) {
        DoublePointer out = SCALAR.get();
        check("an_cuda_count_nonfinite", CudaApi.an_cuda_count_nonfinite(ctx, x, n, out));
        return Math.round(out.get());
    }

    static void axpby(Pointer ctx, float alpha, FloatPointer x, float beta, FloatPointer y, long n) {
        check("an_cuda_axpby", CudaApi.an_cuda_axpby(ctx, alpha, x, beta, y, n));
    }

    static void fill(Pointer ctx, float value, FloatPointer x, long n) {
        check("an_cuda_fill", CudaApi.an_cuda_fill(ctx, value, x, n));
    }

    static void mul(Pointer ctx, FloatPointer x, FloatPointer y, FloatPointer out, long n, boolean divide) {
        check("an_cuda_mul", CudaApi.an_cuda_mul(ctx, x, y, out, n, divide ? 1 : 0));
    }

    static void accumulateSquares(Pointer ctx, float decay, float weight, FloatPointer g, FloatPointer v, long n) {
        check("an_cuda_accumulate_squares", CudaApi.an_cuda_accumulate_squares(ctx, decay, weight, g, v, n));
    }

    static void rootMetric(Pointer ctx, FloatPointer v, float scale, float eps, float lo, float hi, FloatPointer out, long n) {
        check("an_cuda_root_metric", CudaApi.an_cuda_root_metric(ctx, v, scale, eps, lo, hi, out, n));
    }

    static void sgdStep(Pointer ctx, FloatPointer w, FloatPointer g, FloatPointer buf, float lr, float momentum, float wd, boolean nesterov, long n) {
        check("an_cuda_sgd_step", CudaApi.an_cuda_sgd_step(ctx, w, g, buf, lr, momentum, wd, nesterov ? 1 : 0, n));
    }

    static void adaptiveStep(Pointer ctx, FloatPointer w, FloatPointer g, FloatPointer m, FloatPointer v, float lr, float beta1, float decay,
            float weight, float c1, float c2, float eps, float l2, float decoupled, long n) {
        check("an_cuda_adaptive_step", CudaApi.an_cuda_adaptive_step(ctx, w, g, m, v, lr, beta1, decay, weight, c1, c2, eps, l2, decoupled, n));
    }

    static Pointer netCreate(Pointer ctx, int[] spec, int loss, int reg, double lambda, int maxBatch) {
        try (IntPointer s = new IntPointer(spec)) {
            Pointer net = CudaApi.an_cuda_net_create(ctx, s, spec.length, loss, reg, lambda, maxBatch);
            if (net == null || net.isNull()) throw new IllegalArgumentException("cuda network: " + lastError());
            return net;
        }
    }

    static void netDestroy(Pointer net) {
        CudaApi.an_cuda_net_destroy(net);
    }

    static void netForward(Pointer net, FloatPointer w, FloatPointer x, int batch, FloatPointer out) {
        check("an_cuda_net_forward", CudaApi.an_cuda_net_forward(net, w, x, batch, out));
    }

    static double netLoss(Pointer net, FloatPointer w, FloatPointer x, IntPointer labels, FloatPointer targets, int batch) {
        DoublePointer out = SCALAR.get();
        check("an_cuda_net_loss", CudaApi.an_cuda_net_loss(net, w, x, labels, targets, batch, out));
        return out.get();
    }

    static double netGradient(Pointer net, FloatPointer w, FloatPointer x, IntPointer labels, FloatPointer targets, int batch, FloatPointer g) {
        DoublePointer out = SCALAR.get();
        check("an_cuda_net_gradient", CudaApi.an_cuda_net_gradient(net, w, x, labels, targets, batch, g, out));
        return out.get();
    }

    static double netHvp(Pointer net, FloatPointer w, FloatPointer x, IntPointer labels, FloatPointer targets, int batch, FloatPointer v,
            FloatPointer hv) {
        DoublePointer out = SCALAR.get();
        check("an_cuda_net_hvp", CudaApi.an_cuda_net_hvp(net, w, x, labels, targets, batch, v, hv, out));
        return out.get();
    }

    static void netHvpCached(Pointer net, FloatPointer v, FloatPointer hv) {
        check("an_cuda_net_hvp_cached", CudaApi.an_cuda_net_hvp_cached(net, v, hv));
    }

    /**
     * A whole Steihaug solve on the device at the network's cached point (curvature 0 Hessian, 1
     * Gauss-Newton; rule 0 residual, 1 model decrease); work: 4 n device floats; result: 6 host doubles.
     */
    static void netSteihaug(Pointer net, int curvature, FloatPointer g, FloatPointer a, double delta, int maxIter, double tol, int rule,
            FloatPointer s, FloatPointer work, DoublePointer result) {
        check("an_cuda_net_steihaug", CudaApi.an_cuda_net_steihaug(net, curvature, g, a, delta, maxIter, tol, rule, s, work, result));
    }

    /** A whole GLTR (cubic false) or ARC (cubic true) Lanczos solve on the device; work: (5 + maxIter) n device floats. */
    static void netLanczos(Pointer net, int curvature, boolean cubic, FloatPointer g, FloatPointer a, double reg, int maxIter, double tol,
            int rule, FloatPointer s, FloatPointer work, DoublePointer result) {
        check("an_cuda_net_lanczos",
                CudaApi.an_cuda_net_lanczos(net, curvature, cubic ? 1 : 0, g, a, reg, maxIter, tol, rule, s, work, result));
    }

    /** Waits for the context's stream (counted as a host synchronization). */
    static void synchronize(Pointer ctx) {
        check("an_cuda_synchronize", CudaApi.an_cuda_synchronize(ctx));
    }

    /** How many device and pinned host allocations the context and its networks have made. */
    static long allocationCount(Pointer ctx) {
        return CudaApi.an_cuda_allocation_count(ctx);
    }

    /** How many times the host has waited for the context's stream so far. */
    static long syncCount(Pointer ctx) {
        return CudaApi.an_cuda_sync_count(ctx);
    }

    static void netGaussNewtonCached(Pointer net, FloatPointer v, FloatPointer out) {
        check("an_cuda_net_gn_cached", CudaApi.an_cuda_net_gn_cached(net, v, out));
    }

    /** The mode: training or evaluation, dropout's seed and the running statistics (host memory; null when count is 0). */
    static void netSetMode(Pointer net, boolean training, long dropoutSeed, DoublePointer running, long count) {
        check("an_cuda_net_set_mode", CudaApi.an_cuda_net_set_mode(net, training ? 1 : 0, dropoutSeed, running, count));
    }

    /** The precision of the curvature products' GEMMs (0 fp32, 1 tf32, 2 bf16). */
    static void netSetPrecision(Pointer net, int precision) {
        check("an_cuda_net_set_precision", CudaApi.an_cuda_net_set_precision(net, precision));
    }

    /** The context's device compute capability as 10 major + minor. */
    static int computeCapability(Pointer ctx) {
        int cc = CudaApi.an_cuda_compute_capability(ctx);
        if (cc < 0) throw new IllegalStateException("an_cuda_compute_capability: null context");
        return cc;
    }

    /** The batch statistics of the cached point into out (host memory). */
    static void netBatchStatistics(Pointer net, DoublePointer out, long count) {
        check("an_cuda_net_batch_statistics", CudaApi.an_cuda_net_batch_statistics(net, out, count));
    }
}
