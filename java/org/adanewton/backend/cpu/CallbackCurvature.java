package org.adanewton.backend.cpu;

import org.adanewton.backend.CurvatureOperator;
import org.adanewton.backend.ExclusiveUse;
import org.adanewton.backend.NativeCurvature;
import org.adanewton.backend.Vector;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * A caller's curvature operator (a user objective's Hessian-vector product) with whole Krylov solves
 * run natively ({@code an_pool_steihaug} / {@code an_pool_lanczos}): the CG or Lanczos vector work
 * runs in C++ on a thread pool of its own, fused as for the network models, and each product calls
 * back into Java with two views of the solve's work space, CPU vectors over that memory, made once
 * per work-space slot and reused, so a solve's steady state makes no vector and copies nothing.
 *
 * <p>One JavaCPP callback serves every instance (JavaCPP makes a bounded number of native thunks
 * per callback class): it calls the operator of the solve running on its thread.
 *
 * <p>An exception thrown by the operator during a solve ends the solve and is rethrown by it
 * unchanged (the step is then not usable). Thread safety: one solve at a time; a solve from a
 * second thread meanwhile throws IllegalStateException.
 */
final class CallbackCurvature implements NativeCurvature {
    private static final int AN_E_CALLBACK = -4;
    /** The one native callback; it dispatches to the solve running on the calling thread. */
    private static final KrylovApi.Product PRODUCT = new KrylovApi.Product(CallbackCurvature::dispatch);
    private static final ThreadLocal<CallbackCurvature> RUNNING = new ThreadLocal<>();

    private final CpuBackend backend;
    private final CurvatureOperator operator;
    private final int n;
    private final Pointer pool;
    private final DoublePointer result = new DoublePointer(RESULT_LENGTH);
    private final double[] values = new double[RESULT_LENGTH];
    private final ExclusiveUse use = new ExclusiveUse(() -> "a native Krylov solve over a caller's operator");
    // the work space and its views (view j covers floats [j n, (j + 1) n))
    private FloatPointer work;
    private long workBase;
    private Vector[] views = new Vector[0];
    private Throwable failure;

    CallbackCurvature(CpuBackend backend, CurvatureOperator operator, int n) {
        this.backend = backend;
        this.operator = operator;
        this.n = n;
        Pointer created = KrylovApi.an_pool_create(backend.threads());
        if (created == null || created.isNull()) NativeLibrary.check("an_pool_create", -1);
        this.pool = created;
        NativeCleaner.whenUnreachable(this, () -> KrylovApi.an_pool_destroy(created));
    }

    @Override
    public void apply(Vector v, Vector out) {
        operator.apply(v, out);
    }

    @Override
    public double[] steihaug(Vector g, Vector metric, double radius, int maxIterations, double tolerance, int rule, Vector s) {
        check(g, metric, s, maxIterations);
        use.enter();
        try {
            FloatPointer w = work(4);
            int status = running(() -> KrylovApi.an_pool_steihaug(pool, n, PRODUCT, CpuBackend.ptr(g), CpuBackend.ptr(metric), radius, maxIterations,
                    tolerance, rule, CpuBackend.ptr(s), w, result));
            return finish("an_pool_steihaug", status, s);
        } finally {
            use.exit();
        }
    }

    @Override
    public double[] lanczos(boolean cubic, Vector g, Vector metric, double regularization, int maxIterations, double tolerance, int rule, Vector s) {
        check(g, metric, s, maxIterations);
        use.enter();
        try {
            FloatPointer w = work(5L + maxIterations);
            int status = running(() -> KrylovApi.an_pool_lanczos(pool, n, PRODUCT, cubic ? 1 : 0, CpuBackend.ptr(g), CpuBackend.ptr(metric),
                    regularization, maxIterations, tolerance, rule, CpuBackend.ptr(s), w, result));
            return finish("an_pool_lanczos", status, s);
        } finally {
            use.exit();
        }
    }

    private void check(Vector g, Vector metric, Vector s, int maxIterations) {
        backend.check("g", g, n, "the operator's dimension");
        backend.check("metric", metric, n, "the operator's dimension");
        backend.check("s", s, n, "the operator's dimension");
        if (maxIterations < 1) throw new IllegalArgumentException("maxIterations = " + maxIterations + "; must be >= 1");
    }

    private double[] finish(String call, int status, Vector s) {
        s.markWritten();
        Throwable t = failure;
        failure = null;
        if (t instanceof RuntimeException r) throw r;
        if (t instanceof Error e) throw e;
        if (t != null) throw new IllegalStateException("the curvature operator failed: " + t, t);
        NativeLibrary.check(call, status);
        result.get(values);
        return values;
    }

    /** The work space of `vectors` n-float vectors (grown on demand and kept), with one view per vector. */
    private FloatPointer work(long vectors) {
        if (views.length < vectors) {
            if (work != null) {
                for (Vector v : views) v.close();
                work.close();
            }
            work = new FloatPointer(vectors * n);
            workBase = work.address();
            views = new Vector[(int) vectors];
            for (int j = 0; j < vectors; j++) views[j] = CpuBackend.borrowed(backend, n, work, (long) j * n);
        }
        return work;
    }

    /** Runs a native solve with this operator as the one the callback serves on this thread. */
    private int running(java.util.function.IntSupplier solve) {
        CallbackCurvature outer = RUNNING.get();
        RUNNING.set(this);
        try {
            return solve.getAsInt();
        } finally {
            RUNNING.set(outer);
        }
    }

    private static int dispatch(long v, long out) {
        CallbackCurvature running = RUNNING.get();
        return running == null ? AN_E_CALLBACK : running.callback(v, out);
    }

    /** The product: out = B v with the views of the two work-space vectors; any throw is kept for the solve to rethrow. */
    private int callback(long v, long out) {
        try {
            operator.apply(view(v), view(out));
            return NativeApi.AN_OK;
        } catch (Throwable t) {
            failure = t;
            return AN_E_CALLBACK;
        }
    }

    private Vector view(long address) {
        long offset = address - workBase, bytes = (long) n * Float.BYTES;
        if (offset < 0 || offset % bytes != 0 || offset / bytes >= views.length)
            throw new IllegalStateException("the native solve passed an address outside its work space");
        Vector view = views[(int) (offset / bytes)];
        view.markWritten(); // the solve wrote it since the last product (a version-keyed cache in user code must see that)
        return view;
    }
}
