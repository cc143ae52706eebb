package org.adanewton.backend.cuda;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Const;
import org.bytedeco.javacpp.annotation.Platform;
import org.bytedeco.javacpp.annotation.Properties;

/**
 * JavaCPP binding of the CUDA part of {@code native/include/adanewton.h}. It is compiled into the
 * same JNI library as the CPU binding ({@code org.adanewton.backend.cpu.NativeApi}), which loads
 * it: call here only once {@code NativeLibrary.isAvailable()}. Package-private: {@link CudaNative}
 * maps every status to an exception.
 */
@Properties(
        inherit = org.bytedeco.openblas.presets.openblas.class,
        value = @Platform(compiler = "cpp17", include = "adanewton.h", library = "jniadanewton"))
final class CudaApi {
    private CudaApi() {}

    static native @Cast("const char*") BytePointer an_last_error();

    static native @Cast("an_cuda*") Pointer an_cuda_create(int device);

    static native void an_cuda_destroy(@Cast("an_cuda*") Pointer ctx);

    static native FloatPointer an_cuda_alloc(@Cast("an_cuda*") Pointer ctx, long n);

    static native int an_cuda_free(@Cast("an_cuda*") Pointer ctx, FloatPointer p);

    static native int an_cuda_copy(@Cast("an_cuda*") Pointer ctx, @Const FloatPointer src, FloatPointer dst, long n, int kind);

    static native int an_cuda_dot(@Cast("an_cuda*") Pointer ctx, @Const FloatPointer x, @Const FloatPointer y, long n, DoublePointer out);

    static native int an_cuda_weighted_dot(@Cast("an_cuda*") Pointer ctx, @Const FloatPointer a, @Const FloatPointer x, long n, DoublePointer out);

    static native int an_cuda_count_nonfinite(@Cast("an_cuda*") Pointer ctx, @Const FloatPointer x, long n, DoublePointer out);

    static native int an_cuda_axpby(@Cast("an_cuda*") Pointer ctx, float alpha, @Const FloatPointer x, float beta, FloatPointer y, long n);

    static native int an_cuda_fill(@Cast("an_cuda*") Pointer ctx, float value, FloatPointer x, long n);

    static native int an_cuda_mul(@Cast("an_cuda*") Pointer ctx, @Const FloatPointer x, @Const FloatPointer y, FloatPointer out, long n, int divide);

    static native int an_cuda_accumulate_squares(@Cast("an_cuda*") Pointer ctx, float decay, float weight, @Const FloatPointer g, FloatPointer v, long n);

    static native int an_cuda_root_metric(@Cast("an_cuda*") Pointer ctx, @Const FloatPointer v, float scale, float eps, float lo, float hi,
            FloatPointer out, long n);

    static native int an_cuda_sgd_step(@Cast("an_cuda*") Pointer ctx, FloatPointer w, @Const FloatPointer g, FloatPointer buf, float lr,
            float momentum, float weightDecay, int nesterov, long n);

    static native int an_cuda_adaptive_step(@Cast("an_cuda*") Pointer ctx, FloatPointer w, @Const FloatPointer g, FloatPointer m, FloatPointer v,
            float lr, float beta1, float decay, float weight, float c1, float c2, float eps, float l2, float decoupled, long n);

    static native @Cast("an_cuda_net*") Pointer an_cuda_net_create(@Cast("an_cuda*") Pointer ctx, @Const IntPointer spec, int specLen, int loss,
            int reg, double lambda, int maxBatch);

    static native void an_cuda_net_destroy(@Cast("an_cuda_net*") Pointer net);

    static native long an_cuda_net_param_count(@Cast("const an_cuda_net*") Pointer net);

    static native int an_cuda_net_forward(@Cast("an_cuda_net*") Pointer net, @Const FloatPointer w, @Const FloatPointer x, int batch,
            FloatPointer out);

    static native int an_cuda_net_loss(@Cast("an_cuda_net*") Pointer net, @Const FloatPointer w, @Const FloatPointer x, @Const IntPointer labels,
            @Const FloatPointer targets, int batch, DoublePointer loss);

    static native int an_cuda_net_gradient(@Cast("an_cuda_net*") Pointer net, @Const FloatPointer w, @Const FloatPointer x,
            @Const IntPointer labels, @Const FloatPointer targets, int batch, FloatPointer grad, DoublePointer loss);

    static native int an_cuda_net_hvp(@Cast("an_cuda_net*") Pointer net, @Const FloatPointer w, @Const FloatPointer x, @Const IntPointer labels,
            @Const FloatPointer targets, int batch, @Const FloatPointer v, FloatPointer out, DoublePointer loss);

    static native int an_cuda_net_hvp_cached(@Cast("an_cuda_net*") Pointer net, @Const FloatPointer v, FloatPointer out);

    static native int an_cuda_net_gn_cached(@Cast("an_cuda_net*") Pointer net, @Const FloatPointer v, FloatPointer out);

    static native int an_cuda_net_set_mode(@Cast("an_cuda_net*") Pointer net, int training, long dropoutSeed, @Const DoublePointer running,
            long count);

    static native int an_cuda_net_set_precision(@Cast("an_cuda_net*") Pointer net, int precision);

    static native int an_cuda_compute_capability(@Cast("const an_cuda*") Pointer ctx);

    static native int an_cuda_net_batch_statistics(@Cast("an_cuda_net*") Pointer net, DoublePointer out, long count);

    static native int an_cuda_net_steihaug(@Cast("an_cuda_net*") Pointer net, int curvature, @Const FloatPointer g, @Const FloatPointer a,
            double delta, int maxIter, double tol, int rule, FloatPointer s, FloatPointer work, DoublePointer result);

    static native int an_cuda_net_lanczos(@Cast("an_cuda_net*") Pointer net, int curvature, int cubic, @Const FloatPointer g, @Const FloatPointer a,
            double reg, int maxIter, double tol, int rule, FloatPointer s, FloatPointer work, DoublePointer result);

    static native int an_cuda_synchronize(@Cast("an_cuda*") Pointer ctx);

    static native long an_cuda_allocation_count(@Cast("const an_cuda*") Pointer ctx);

    static native long an_cuda_sync_count(@Cast("const an_cuda*") Pointer ctx);

    static native int an_cuda_probe(@Cast("char*") BytePointer reason, int len);
}
