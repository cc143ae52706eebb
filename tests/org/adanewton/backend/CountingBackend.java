package org.adanewton.backend;

import org.adanewton.nn.Network;

/**
 * A test backend that counts the vectors made on it and delegates every kernel to another backend
 * (its vectors wrap the delegate's). Networks are not supported.
 */
public final class CountingBackend extends Backend {
    private final Backend delegate;
    private long vectors;

    public CountingBackend(Backend delegate) {
        this.delegate = delegate;
    }

    /** Vectors made so far (allocate, vector). */
    public long vectorsMade() {
        return vectors;
    }

    /** The delegate's vector inside one of ours. */
    public static Vector inner(Vector v) {
        return ((Wrapped) v).inner;
    }

    @Override
    public BackendKind kind() {
        return delegate.kind();
    }

    @Override
    public String description() {
        return "counting " + delegate.description();
    }

    @Override
    public int threads() {
        return delegate.threads();
    }

    @Override
    public NetworkModel model(Network network, int maxBatch) {
        throw new UnsupportedOperationException("CountingBackend has no networks");
    }

    @Override
    public Batch batch(Network network, int capacity) {
        throw new UnsupportedOperationException("CountingBackend has no networks");
    }

    private static final class Wrapped extends Vector {
        final Vector inner;

        Wrapped(CountingBackend b, Vector inner) {
            super(b, inner.length());
            this.inner = inner;
        }

        @Override
        protected void release() {
            inner.close();
        }
    }

    private static Vector in(Vector v) {
        return v == null ? null : ((Wrapped) v).inner;
    }

    @Override
    protected Vector newVector(int length) {
        vectors++;
        return new Wrapped(this, delegate.newVector(length));
    }

    @Override
    protected void doSet(Vector x, double[] values) { delegate.doSet(in(x), values); }

    @Override
    protected double[] doToArray(Vector x) { return delegate.doToArray(in(x)); }

    @Override
    protected double doDot(Vector x, Vector y) { return delegate.doDot(in(x), in(y)); }

    @Override
    protected double doNorm(Vector x) { return delegate.doNorm(in(x)); }

    @Override
    protected double doWeightedNorm(Vector a, Vector x) { return delegate.doWeightedNorm(in(a), in(x)); }

    @Override
    protected void doAxpy(double alpha, Vector x, Vector y) { delegate.doAxpy(alpha, in(x), in(y)); }

    @Override
    protected void doAxpby(double alpha, Vector x, double beta, Vector y) { delegate.doAxpby(alpha, in(x), beta, in(y)); }

    @Override
    protected void doScale(double alpha, Vector x) { delegate.doScale(alpha, in(x)); }

    @Override
    protected void doCopy(Vector src, Vector dst) { delegate.doCopy(in(src), in(dst)); }

    @Override
    protected void doFill(Vector x, double value) { delegate.doFill(in(x), value); }

    @Override
    protected void doMultiply(Vector x, Vector y, Vector out) { delegate.doMultiply(in(x), in(y), in(out)); }

    @Override
    protected void doDivide(Vector x, Vector y, Vector out) { delegate.doDivide(in(x), in(y), in(out)); }

    @Override
    protected long doCountNonFinite(Vector x) { return delegate.doCountNonFinite(in(x)); }

    @Override
    protected void doSgdStep(Vector w, Vector g, Vector buf, double lr, double momentum, double weightDecay, boolean nesterov) {
        delegate.doSgdStep(in(w), in(g), in(buf), lr, momentum, weightDecay, nesterov);
    }

    @Override
    protected void doAdaptiveStep(Vector w, Vector g, Vector m, Vector v, double lr, double beta1, double decay, double weight, double c1,
            double c2, double eps, double l2, double decoupled) {
        delegate.doAdaptiveStep(in(w), in(g), in(m), in(v), lr, beta1, decay, weight, c1, c2, eps, l2, decoupled);
    }

    @Override
    protected void doAccumulateSquares(double decay, double weight, Vector g, Vector v) { delegate.doAccumulateSquares(decay, weight, in(g), in(v)); }

    @Override
    protected void doRootMetric(Vector v, double scale, double eps, double lo, double hi, Vector out) {
        delegate.doRootMetric(in(v), scale, eps, lo, hi, in(out));
    }
}
