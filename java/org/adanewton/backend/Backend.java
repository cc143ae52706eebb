package org.adanewton.backend;

import org.adanewton.nn.Network;

/**
 * Where vectors live and kernels run. The public operations validate their arguments (owner,
 * open, lengths) and then call the backend's kernel, so every backend reports misuse the same way
 * and a failed call changes nothing. Reductions accumulate in double on every backend.
 *
 * <p>Thread safety: the Java and CPU backends may be shared by threads that each use their own
 * vectors, models and batches (models and batches refuse a second thread while busy); vector
 * operations are not synchronized, so a vector must not be used by two threads at once. The CUDA
 * backend (one stream, shared device scratch) serves one thread at a time.
 */
public abstract class Backend implements AutoCloseable {

    public abstract BackendKind kind();

    /** One line: what runs where (library versions, threads, device). */
    public abstract String description();

    /** Threads the kernels use. */
    public abstract int threads();

    // ---- vectors ----
    public final Vector allocate(int length) {
        if (length < 0) throw new IllegalArgumentException("length = " + length + "; must be >= 0");
        Vector v = newVector(length);
        doFill(v, 0.0);
        return v;
    }

    /** A new vector holding these values (rounded to the storage precision). */
    public final Vector vector(double... values) {
        Vector v = newVector(values.length);
        doSet(v, values);
        return v;
    }

    public final void set(Vector x, double[] values) {
        check("x", x);
        if (values.length != x.length())
            throw new IllegalArgumentException("values has length " + values.length + " but x has length " + x.length());
        doSet(x, values);
        x.markWritten();
    }

    public final double[] toArray(Vector x) {
        check("x", x);
        return doToArray(x);
    }

    public final double dot(Vector x, Vector y) {
        check("x", x);
        check("y", y);
        sameLength("x", x, "y", y);
        return doDot(x, y);
    }

    /** Euclidean norm. */
    public final double norm(Vector x) {
        check("x", x);
        return doNorm(x);
    }

    /** sqrt(sum a_i x_i^2): the norm of x in the metric diag(a). */
    public final double weightedNorm(Vector a, Vector x) {
        check("a", a);
        check("x", x);
        sameLength("a", a, "x", x);
        return doWeightedNorm(a, x);
    }

    /** y += alpha x. */
    public final void axpy(double alpha, Vector x, Vector y) {
        check("x", x);
        check("y", y);
        sameLength("x", x, "y", y);
        doAxpy(alpha, x, y);
        y.markWritten();
    }

    /** y = alpha x + beta y. */
    public final void axpby(double alpha, Vector x, double beta, Vector y) {
        check("x", x);
        check("y", y);
        sameLength("x", x, "y", y);
        doAxpby(alpha, x, beta, y);
        y.markWritten();
    }

    /** x *= alpha. */
    public final void scale(double alpha, Vector x) {
        check("x", x);
        doScale(alpha, x);
        x.markWritten();
    }

    /** dst = src. */
    public final void copy(Vector src, Vector dst) {
        check("src", src);
        check("dst", dst);
        sameLength("src", src, "dst", dst);
        doCopy(src, dst);
        dst.markWritten();
    }

    public final void fill(Vector x, double value) {
        check("x", x);
        doFill(x, value);
        x.markWritten();
    }

    /** out = x * y elementwise (out may be x or y). */
    public final void multiply(Vector x, Vector y, Vector out) {
        check("x", x);
        check("y", y);
        check("out", out);
        sameLength("x", x, "y", y);
        sameLength("x", x, "out", out);
        doMultiply(x, y, out);
        out.markWritten();
    }

    /** out = x / y elementwise (out may be x or y). */
    public final void divide(Vector x, Vector y, Vector out) {
        check("x", x);
        check("y", y);
        check("out", out);
        sameLength("x", x, "y", y);
        sameLength("x", x, "out", out);
        doDivide(x, y, out);
        out.markWritten();
    }

    /** v = decay * v + weight * g * g elementwise (the accumulators of AdaGrad, RMSProp, Adam). */
    public final void accumulateSquares(double decay, double weight, Vector g, Vector v) {
        check("g", g);
        check("v", v);
        sameLength("g", g, "v", v);
        doAccumulateSquares(decay, weight, g, v);
        v.markWritten();
    }

    /**
     * out = min(max(sqrt(scale * v) + eps, lo), hi) elementwise: a diagonal metric from an
     * accumulator. A NaN in v gives hi (the most conservative metric), never NaN.
     */
    public final void rootMetric(Vector v, double scale, double eps, double lo, double hi, Vector out) {
        check("v", v);
        check("out", out);
        sameLength("v", v, "out", out);
        if (!(lo > 0) || !(hi >= lo)) throw new IllegalArgumentException("rootMetric bounds [" + lo + ", " + hi + "]; need 0 < lo <= hi");
        doRootMetric(v, scale, eps, lo, hi, out);
        out.markWritten();
    }

    /**
     * One SGD step, fused: d = g + weightDecay w; buf = momentum buf + d; w -= lr (nesterov ? d +
     * momentum buf : buf). buf may be null when momentum is 0.
     */
    public final void sgdStep(Vector w, Vector g, Vector buf, double lr, double momentum, double weightDecay, boolean nesterov) {
        check("w", w);
        check("g", g);
        sameLength("w", w, "g", g);
        if (buf != null) {
            check("buf", buf);
            sameLength("w", w, "buf", buf);
        } else if (momentum != 0) {
            throw new IllegalArgumentException("momentum = " + momentum + " needs a velocity buffer");
        }
        doSgdStep(w, g, buf, lr, momentum, weightDecay, nesterov);
        w.markWritten();
        if (buf != null) buf.markWritten();
    }

    /**
     * One adaptive step, fused (AdaGrad, RMSProp, Adam, AdamW): d = g + l2 w; m = beta1 m + (1 -
     * beta1) d when m is given; v = decay v + weight d^2; w = (1 - lr decoupled) w - lr (m / c1, or
     * d) / (sqrt(v / c2) + eps).
     */
    public final void adaptiveStep(Vector w, Vector g, Vector m, Vector v, double lr, double beta1, double decay, double weight, double c1,
            double c2, double eps, double l2, double decoupled) {
        check("w", w);
        check("g", g);
        check("v", v);
        sameLength("w", w, "g", g);
        sameLength("w", w, "v", v);
        if (m != null) {
            check("m", m);
            sameLength("w", w, "m", m);
        }
        doAdaptiveStep(w, g, m, v, lr, beta1, decay, weight, c1, c2, eps, l2, decoupled);
        w.markWritten();
        v.markWritten();
        if (m != null) m.markWritten();
    }

    /** Number of NaN or infinite entries. */
    public final long countNonFinite(Vector x) {
        check("x", x);
        return doCountNonFinite(x);
    }

    // ---- networks ----
    /**
     * Null when this backend runs curvature products at precision p (see {@link CurvaturePrecision};
     * {@link CurvaturePrecision#FP32} always), else a one-line reason for the user that names the
     * hardware or the missing feature. {@link NetworkModel#setCurvaturePrecision} refuses p with it.
     */
    public final String unsupported(CurvaturePrecision p) {
        if (p == null) throw new NullPointerException("precision is null");
        return p == CurvaturePrecision.FP32 ? null : unsupportedPrecision(p);
    }

    /**
     * {@link #unsupported} for TF32 and BF16: this backend's reason, or null where it runs p. This
     * default refuses both; a backend that runs one overrides it.
     */
    protected String unsupportedPrecision(CurvaturePrecision p) {
        return "the " + kind().name().toLowerCase(java.util.Locale.ROOT) + " backend runs curvature products in fp32 only";
    }

    /**
     * The operator as this backend's Krylov solvers see it: on a backend that runs whole solves
     * natively over a caller's product (the CPU backend), a {@link NativeCurvature} whose solves
     * run the vector work natively and call op for each product, with views of the solve's own
     * vectors (no copy); elsewhere op itself. n is the operator's dimension.
     */
    public CurvatureOperator solvable(CurvatureOperator op, int n) {
        if (op == null) throw new NullPointerException("op is null");
        if (n < 1) throw new IllegalArgumentException("n = " + n + "; must be >= 1");
        return op;
    }

    /** A model of this network on this backend, with buffers for batches of up to maxBatch rows. */
    public abstract NetworkModel model(Network network, int maxBatch);

    /** A batch buffer of up to capacity rows for this network's inputs and labels or targets. */
    public abstract Batch batch(Network network, int capacity);

    @Override
    public void close() {}

    /**
     * Waits until all work queued on this backend has finished. Host backends finish every call
     * before it returns, so this does nothing there; the CUDA backend queues kernels on its stream
     * and returns early, so time device work (or read a clock) only after this. An error of a queued
     * kernel surfaces here or at the next call that waits for the device.
     */
    public void synchronize() {}

    // ---- checks shared by every backend ----
    /** Throws unless v is an open vector of this backend. */
    public final void check(String name, Vector v) {
        if (v == null) throw new NullPointerException(name + " is null");
        if (v.backend() != this)
            throw new IllegalArgumentException(name + " belongs to the " + v.backend().kind() + " backend, not to this "
                    + kind() + " backend");
        if (v.isClosed()) throw new IllegalStateException(name + " is closed");
    }

    /** Throws unless v is an open vector of this backend with the given length; reason says why. */
    public final void check(String name, Vector v, int length, String reason) {
        check(name, v);
        if (v.length() != length)
            throw new IllegalArgumentException(name + " has length " + v.length() + "; must be " + length + " (" + reason + ")");
    }

    private static void sameLength(String a, Vector x, String b, Vector y) {
        if (x.length() != y.length())
            throw new IllegalArgumentException(a + " has length " + x.length() + " but " + b + " has length " + y.length());
    }

    // ---- kernels (arguments already validated) ----
    protected abstract Vector newVector(int length);

    protected abstract void doSet(Vector x, double[] values);

    protected abstract double[] doToArray(Vector x);

    protected abstract double doDot(Vector x, Vector y);

    protected abstract double doNorm(Vector x);

    protected abstract double doWeightedNorm(Vector a, Vector x);

    protected abstract void doAxpy(double alpha, Vector x, Vector y);

    protected abstract void doAxpby(double alpha, Vector x, double beta, Vector y);

    protected abstract void doScale(double alpha, Vector x);

    protected abstract void doCopy(Vector src, Vector dst);

    protected abstract void doFill(Vector x, double value);

    protected abstract void doMultiply(Vector x, Vector y, Vector out);

    protected abstract void doDivide(Vector x, Vector y, Vector out);

    protected abstract long doCountNonFinite(Vector x);

    protected abstract void doSgdStep(Vector w, Vector g, Vector buf, double lr, double momentum, double weightDecay, boolean nesterov);

    protected abstract void doAdaptiveStep(Vector w, Vector g, Vector m, Vector v, double lr, double beta1, double decay, double weight,
            double c1, double c2, double eps, double l2, double decoupled);

    protected abstract void doAccumulateSquares(double decay, double weight, Vector g, Vector v);

    protected abstract void doRootMetric(Vector v, double scale, double eps, double lo, double hi, Vector out);
}
