package org.adanewton.backend.cpu;

import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.FunctionPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Const;
import org.bytedeco.javacpp.annotation.Platform;
import org.bytedeco.javacpp.annotation.Properties;

/**
 * JavaCPP binding of the Krylov solves over a caller's product ({@code an_pool_*} in
 * {@code native/include/adanewton.h}), in the same JNI library as {@link NativeApi}, which loads it:
 * call here only once {@code NativeLibrary.isAvailable()}. Package-private: {@link CallbackCurvature}
 * validates the arguments and maps the status to exceptions.
 */
@Properties(
        inherit = org.bytedeco.openblas.presets.openblas.class,
        value = @Platform(compiler = "cpp17", include = "adanewton.h", library = "jniadanewton"))
final class KrylovApi {
    private KrylovApi() {}

    /** What a {@link Product} calls: out = B v for the vectors at these addresses; 0 (AN_OK) or a negative status, never a throw. */
    interface ProductHandler {
        int apply(long v, long out);
    }

    /**
     * The product the native solve calls: {@code int (*)(long long v, long long out)} with the
     * addresses of two vectors of the solve's work space; it runs on the thread that called the
     * solve. Keep it reachable while a solve may call it.
     */
    static final class Product extends FunctionPointer {
        static {
            Loader.load();
        }

        private final ProductHandler handler;

        Product(ProductHandler handler) {
            this.handler = handler;
            allocate();
        }

        private native void allocate();

        public int call(long v, long out) {
            return handler.apply(v, out);
        }
    }

    static native @Cast("an_pool*") Pointer an_pool_create(int threads);

    static native void an_pool_destroy(@Cast("an_pool*") Pointer pool);

    static native int an_pool_steihaug(@Cast("an_pool*") Pointer pool, long n, @Cast("an_product_fn") Product product, @Const FloatPointer g,
            @Const FloatPointer a, double delta, int maxIter, double tol, int rule, FloatPointer s, FloatPointer work, DoublePointer result);

    static native int an_pool_lanczos(@Cast("an_pool*") Pointer pool, long n, @Cast("an_product_fn") Product product, int cubic,
            @Const FloatPointer g, @Const FloatPointer a, double reg, int maxIter, double tol, int rule, FloatPointer s, FloatPointer work,
            DoublePointer result);
}
