package org.adanewton.minimizer;

import org.adanewton.backend.Backend;
import org.adanewton.backend.Vector;

/**
 * The first-order baselines, each step one fused kernel on the backend (native on the CPU backend):
 * <pre>
 * SGD      d = g + wd w; buf = mu buf + d; w -= lr (nesterov ? d + mu buf : buf)
 * AdaGrad  v += d^2;                           w -= lr d / (sqrt(v) + eps)
 * RMSProp  v = alpha v + (1 - alpha) d^2;      w -= lr d / (sqrt(v) + eps)
 * Adam     m = b1 m + (1 - b1) d; v = b2 v + (1 - b2) d^2;
 *          w -= lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
 * AdamW    as Adam with d = g, after w *= (1 - lr wd)
 * </pre>
 * (PyTorch's formulas.) The state (buffers, step count) can be saved and restored exactly.
 *
 * <p>Thread safety: not thread-safe: use an instance from one thread at a time.
 */
public final class FirstOrderOptimizer implements AutoCloseable {
    private final Backend backend;
    private final FirstOrderOptions options;
    private final Vector m, v;
    private long steps;

    /** The complete state: step count and the buffers (null where the kind has none). */
    public record State(String kind, long steps, double[] m, double[] v) {}

    public FirstOrderOptimizer(Backend backend, int dimension, FirstOrderOptions options) {
        this.backend = backend;
        this.options = options;
        boolean adam = options.kind() == FirstOrderOptions.Kind.ADAM || options.kind() == FirstOrderOptions.Kind.ADAMW;
        boolean sgdMomentum = options.kind() == FirstOrderOptions.Kind.SGD && options.momentum() > 0;
        m = adam || sgdMomentum ? backend.allocate(dimension) : null;
        v = options.kind() == FirstOrderOptions.Kind.SGD ? null : backend.allocate(dimension);
    }

    public FirstOrderOptions options() {
        return options;
    }

    public long steps() {
        return steps;
    }

    /** One update of w with gradient g (g must be finite: the caller skips non-finite gradients). */
    public void step(Vector w, Vector g) {
        steps++;
        double lr = options.lr(), wd = options.weightDecay();
        switch (options.kind()) {
            case SGD -> backend.sgdStep(w, g, m, lr, options.momentum(), wd, options.nesterov());
            case ADAGRAD -> backend.adaptiveStep(w, g, null, v, lr, 0, 1, 1, 1, 1, options.eps(), wd, 0);
            case RMSPROP -> backend.adaptiveStep(w, g, null, v, lr, 0, options.beta2(), 1 - options.beta2(), 1, 1, options.eps(), wd, 0);
            case ADAM, ADAMW -> {
                double c1 = 1 - Math.pow(options.beta1(), steps), c2 = 1 - Math.pow(options.beta2(), steps);
                boolean decoupled = options.kind() == FirstOrderOptions.Kind.ADAMW;
                backend.adaptiveStep(w, g, m, v, lr, options.beta1(), options.beta2(), 1 - options.beta2(), c1, c2, options.eps(),
                        decoupled ? 0 : wd, decoupled ? wd : 0);
            }
        }
    }

    public State saveState() {
        return new State(options.label(), steps, m == null ? null : m.toArray(), v == null ? null : v.toArray());
    }

    public void restoreState(State s) {
        if (!s.kind().equals(options.label()))
            throw new IllegalArgumentException("optimizer state of kind '" + s.kind() + "' cannot be restored into " + options.label());
        if ((s.m() == null) != (m == null) || (s.v() == null) != (v == null))
            throw new IllegalArgumentException("optimizer state buffers do not match this " + options.label() + " configuration");
        if (m != null) backend.set(m, s.m());
        if (v != null) backend.set(v, s.v());
        steps = s.steps();
    }

    @Override
    public void close() {
        if (m != null) m.close();
        if (v != null) v.close();
    }
}
