package org.adanewton.backend.cpu;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Const;
import org.bytedeco.javacpp.annotation.Platform;
import org.bytedeco.javacpp.annotation.Properties;

/**
 * JavaCPP binding of the CPU part of {@code native/include/adanewton.h} (the CUDA part is bound by
 * {@code org.adanewton.backend.cuda.CudaApi}, in the same JNI library). Package-private: the facades
 * validate every argument before calling here and turn status codes into exceptions.
 */
@Properties(
        inherit = org.bytedeco.openblas.presets.openblas.class,
        value = @Platform(compiler = "cpp17", include = "adanewton.h", library = "jniadanewton"))
final class NativeApi {
    static final int AN_OK = 0;
    static final int AN_OP_FORWARD = 0, AN_OP_GRADIENT = 1, AN_OP_HVP = 2, AN_OP_HVP_CACHED = 3, AN_OP_GN_CACHED = 4;

    private NativeApi() {}

    static native @Cast("const char*") BytePointer an_last_error();

    static native void an_runtime_info(@Cast("char*") BytePointer buf, int len);

    static native void an_set_blas_threads(int threads);

    static native int an_get_blas_threads();

    static final int AN_CPU_AVX2 = 1, AN_CPU_AVX512F = 2, AN_CPU_AVX512BW = 4, AN_CPU_AVX512VL = 8, AN_CPU_AVX512BF16 = 16;

    static native int an_cpu_features();

    static native @Cast("an_net*") Pointer an_net_create(@Const IntPointer spec, int specLen, int loss, int reg,
            double lambda, int maxBatch, int threads);

    static native void an_net_destroy(@Cast("an_net*") Pointer net);

    static native long an_net_param_count(@Cast("const an_net*") Pointer net);

    static native int an_net_forward(@Cast("an_net*") Pointer net, @Const FloatPointer w, @Const FloatPointer x,
            int batch, FloatPointer out);

    static native int an_net_loss(@Cast("an_net*") Pointer net, @Const FloatPointer w, @Const FloatPointer x,
            @Const IntPointer labels, @Const FloatPointer targets, int batch, DoublePointer loss);

    static native int an_net_gradient(@Cast("an_net*") Pointer net, @Const FloatPointer w, @Const FloatPointer x,
            @Const IntPointer labels, @Const FloatPointer targets, int batch, FloatPointer grad, DoublePointer loss);

    static native int an_net_hvp(@Cast("an_net*") Pointer net, @Const FloatPointer w, @Const FloatPointer x,
            @Const IntPointer labels, @Const FloatPointer targets, int batch, @Const FloatPointer v,
            FloatPointer out, DoublePointer loss);

    static native int an_net_hvp_cached(@Cast("an_net*") Pointer net, @Const FloatPointer v, FloatPointer out);

    static native int an_net_gn_cached(@Cast("an_net*") Pointer net, @Const FloatPointer v, FloatPointer out);

    static native int an_net_set_mode(@Cast("an_net*") Pointer net, int training, long dropoutSeed, @Const DoublePointer running, long count);

    static native int an_net_batch_statistics(@Cast("an_net*") Pointer net, DoublePointer out, long count);

    static native int an_net_gemm_floor(@Cast("an_net*") Pointer net, int op, int batch, int repeats,
            DoublePointer ms, DoublePointer gflop);

    static native double an_dot(@Const FloatPointer x, @Const FloatPointer y, long n);

    static native double an_nrm2(@Const FloatPointer x, long n);

    static native double an_weighted_nrm2(@Const FloatPointer a, @Const FloatPointer x, long n);

    static native void an_axpy(float alpha, @Const FloatPointer x, FloatPointer y, long n);

    static native void an_axpby(float alpha, @Const FloatPointer x, float beta, FloatPointer y, long n);

    static native void an_scal(float alpha, FloatPointer x, long n);

    static native void an_copy(@Const FloatPointer x, FloatPointer y, long n);

    static native void an_fill(float value, FloatPointer x, long n);

    static native void an_mul(@Const FloatPointer x, @Const FloatPointer y, FloatPointer out, long n);

    static native void an_div(@Const FloatPointer x, @Const FloatPointer y, FloatPointer out, long n);

    static native long an_count_nonfinite(@Const FloatPointer x, long n, @Cast("long long*") LongPointer first);

    static native void an_accumulate_squares(float decay, float weight, @Const FloatPointer g, FloatPointer v, long n);

    static native void an_root_metric(@Const FloatPointer v, float scale, float eps, float lo, float hi, FloatPointer out, long n);

    static native int an_net_steihaug(@Cast("an_net*") Pointer net, int curvature, @Const FloatPointer g, @Const FloatPointer a,
            double delta, int maxIter, double tol, int rule, FloatPointer s, FloatPointer work, DoublePointer result);

    static native int an_net_lanczos(@Cast("an_net*") Pointer net, int curvature, int cubic, @Const FloatPointer g, @Const FloatPointer a,
            double reg, int maxIter, double tol, int rule, FloatPointer s, FloatPointer work, DoublePointer result);

    static native void an_sgd_step(FloatPointer w, @Const FloatPointer g, FloatPointer buf, float lr, float momentum, float weightDecay,
            int nesterov, long n);

    static native void an_adaptive_step(FloatPointer w, @Const FloatPointer g, FloatPointer m, FloatPointer v, float lr, float beta1,
            float decay, float weight, float c1, float c2, float eps, float l2, float decoupled, long n);
}
