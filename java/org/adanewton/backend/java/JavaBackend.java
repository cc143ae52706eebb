package org.adanewton.backend.java;

import org.adanewton.backend.Backend;
import org.adanewton.backend.BackendKind;
import org.adanewton.backend.CurvaturePrecision;
import org.adanewton.backend.Batch;
import org.adanewton.backend.NetworkModel;
import org.adanewton.backend.Vector;
import org.adanewton.nn.Network;

/**
 * The reference backend: plain Java, double precision, single-threaded, written for clarity. Every
 * native kernel is tested against it; it is also the fallback where no native library loads.
 *
 * <p>Thread safety: stateless: may be shared by threads that each use their own vectors, models and
 * batches (vector operations are not synchronized).
 */
public final class JavaBackend extends Backend {

    @Override
    public BackendKind kind() {
        return BackendKind.JAVA;
    }

    @Override
    public String description() {
        return "java: plain Java reference, double precision, 1 thread";
    }

    @Override
    public int threads() {
        return 1;
    }

    /** TF32 and BF16 refused: this is the double reference. */
    @Override
    protected String unsupportedPrecision(CurvaturePrecision p) {
        return "the Java reference backend computes in double";
    }

    @Override
    public NetworkModel model(Network network, int maxBatch) {
        return new JavaNetworkModel(this, network, maxBatch);
    }

    @Override
    public Batch batch(Network network, int capacity) {
        return new JavaBatch(this, network, capacity);
    }

    /** The storage of a vector of this backend (for the reference kernels in this package). */
    static double[] data(Vector v) {
        return ((JavaVector) v).data;
    }

    /**
     * The double[] that stores v itself, not a copy, for user code that works in place (a
     * {@code VectorObjective} writing a gradient or a Hessian-vector product). Its length is
     * v.length(). Lifetime: the array stays v's storage until v is closed (after that it is no
     * longer the vector's). A write through the array bypasses {@link Vector#version()}: call
     * {@link Vector#markWritten()} after writing, except inside a {@code VectorObjective} call, whose
     * caller marks the output vectors itself. Thread rule: the array is v, so the rules of
     * {@link Vector} apply: one thread at a time, and not while a kernel uses v.
     *
     * @throws NullPointerException     when v is null
     * @throws IllegalArgumentException when v is not a java vector (naming its backend)
     * @throws IllegalStateException    when v is closed
     */
    public static double[] array(Vector v) {
        if (v == null) throw new NullPointerException("v is null");
        if (!(v instanceof JavaVector jv))
            throw new IllegalArgumentException("v is a " + v.backend().kind() + " vector; JavaBackend.array needs a JAVA vector");
        if (v.isClosed()) throw new IllegalStateException("v is closed");
        return jv.data;
    }

    @Override
    protected Vector newVector(int length) {
        return new JavaVector(this, length);
    }

    @Override
    protected void doSet(Vector x, double[] values) {
        System.arraycopy(values, 0, data(x), 0, values.length);
    }

    @Override
    protected double[] doToArray(Vector x) {
        return data(x).clone();
    }

    @Override
    protected double doDot(Vector x, Vector y) {
        double[] a = data(x), b = data(y);
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }

    @Override
    protected double doNorm(Vector x) {
        return Math.sqrt(doDot(x, x));
    }

    @Override
    protected double doWeightedNorm(Vector a, Vector x) {
        double[] w = data(a), v = data(x);
        double s = 0;
        for (int i = 0; i < v.length; i++) s += w[i] * v[i] * v[i];
        return Math.sqrt(s);
    }

    @Override
    protected void doAxpy(double alpha, Vector x, Vector y) {
        double[] a = data(x), b = data(y);
        for (int i = 0; i < a.length; i++) b[i] += alpha * a[i];
    }

    @Override
    protected void doAxpby(double alpha, Vector x, double beta, Vector y) {
        double[] a = data(x), b = data(y);
        for (int i = 0; i < a.length; i++) b[i] = alpha * a[i] + beta * b[i];
    }

    @Override
    protected void doScale(double alpha, Vector x) {
        double[] a = data(x);
        for (int i = 0; i < a.length; i++) a[i] *= alpha;
    }

    @Override
    protected void doCopy(Vector src, Vector dst) {
        System.arraycopy(data(src), 0, data(dst), 0, src.length());
    }

    @Override
    protected void doFill(Vector x, double value) {
        java.util.Arrays.fill(data(x), value);
    }

    @Override
    protected void doMultiply(Vector x, Vector y, Vector out) {
        double[] a = data(x), b = data(y), o = data(out);
        for (int i = 0; i < a.length; i++) o[i] = a[i] * b[i];
    }

    @Override
    protected void doDivide(Vector x, Vector y, Vector out) {
        double[] a = data(x), b = data(y), o = data(out);
        for (int i = 0; i < a.length; i++) o[i] = a[i] / b[i];
    }

    @Override
    protected long doCountNonFinite(Vector x) {
        long n = 0;
        for (double v : data(x)) if (!Double.isFinite(v)) n++;
        return n;
    }

    @Override
    protected void doAccumulateSquares(double decay, double weight, Vector g, Vector v) {
        double[] a = data(g), b = data(v);
        for (int i = 0; i < a.length; i++) b[i] = decay * b[i] + weight * a[i] * a[i];
    }

    @Override
    protected void doRootMetric(Vector v, double scale, double eps, double lo, double hi, Vector out) {
        double[] a = data(v), o = data(out);
        for (int i = 0; i < a.length; i++) {
            double m = Math.sqrt(scale * a[i]) + eps;
            o[i] = Double.isNaN(m) ? hi : Math.min(Math.max(m, lo), hi);
        }
    }

    @Override
    protected void doSgdStep(Vector w, Vector g, Vector buf, double lr, double momentum, double weightDecay, boolean nesterov) {
        double[] x = data(w), d = data(g), b = buf == null ? null : data(buf);
        for (int i = 0; i < x.length; i++) {
            double gi = d[i] + weightDecay * x[i];
            if (b == null || momentum == 0) {
                x[i] -= lr * gi;
            } else {
                b[i] = momentum * b[i] + gi;
                x[i] -= lr * (nesterov ? gi + momentum * b[i] : b[i]);
            }
        }
    }

    @Override
    protected void doAdaptiveStep(Vector w, Vector g, Vector m, Vector v, double lr, double beta1, double decay, double weight, double c1,
            double c2, double eps, double l2, double decoupled) {
        double[] x = data(w), d = data(g), mm = m == null ? null : data(m), vv = data(v);
        for (int i = 0; i < x.length; i++) {
            double gi = d[i] + l2 * x[i];
            double num = gi;
            if (mm != null) {
                mm[i] = beta1 * mm[i] + (1 - beta1) * gi;
                num = mm[i] / c1;
            }
            vv[i] = decay * vv[i] + weight * gi * gi;
            x[i] = x[i] * (1 - lr * decoupled) - lr * num / (Math.sqrt(vv[i] / c2) + eps);
        }
    }

    private static final class JavaVector extends Vector {
        private double[] data;

        JavaVector(JavaBackend backend, int length) {
            super(backend, length);
            data = new double[length];
        }

        @Override
        protected void release() {
            data = null;
        }
    }
}
