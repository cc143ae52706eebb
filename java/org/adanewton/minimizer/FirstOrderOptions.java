package org.adanewton.minimizer;

import java.util.Locale;

/**
 * A first-order baseline and its hyper-parameters (validated here).
 *
 * <p>Thread safety: immutable: safe to share between threads.
 *
 * @param kind        SGD, ADAGRAD, RMSPROP, ADAM or ADAMW
 * @param lr          learning rate (> 0)
 * @param momentum    SGD momentum in [0, 1)
 * @param nesterov    SGD Nesterov momentum (needs momentum > 0)
 * @param beta1       Adam's first-moment decay in [0, 1)
 * @param beta2       Adam's second-moment decay, or RMSProp's decay alpha, in [0, 1)
 * @param eps         added after the square root (> 0)
 * @param weightDecay L2 added to the gradient (SGD, AdaGrad, RMSProp, Adam), or decoupled (AdamW), >= 0
 */
public record FirstOrderOptions(Kind kind, double lr, double momentum, boolean nesterov, double beta1, double beta2, double eps,
        double weightDecay) {

    public enum Kind {
        SGD, ADAGRAD, RMSPROP, ADAM, ADAMW;

        public static Kind parse(String s) {
            for (Kind k : values()) if (k.name().equalsIgnoreCase(s.trim())) return k;
            throw new IllegalArgumentException("optimizer = '" + s + "'; must be one of sgd, adagrad, rmsprop, adam, adamw");
        }
    }

    public FirstOrderOptions {
        if (kind == null) throw new IllegalArgumentException("optimizer kind is null");
        if (!(lr > 0) || Double.isInfinite(lr)) throw new IllegalArgumentException("lr = " + lr + "; must be finite and > 0");
        if (!(momentum >= 0 && momentum < 1)) throw new IllegalArgumentException("momentum = " + momentum + "; must be in [0, 1)");
        if (nesterov && momentum == 0) throw new IllegalArgumentException("nesterov = true needs momentum > 0");
        if (!(beta1 >= 0 && beta1 < 1)) throw new IllegalArgumentException("beta1 = " + beta1 + "; must be in [0, 1)");
        if (!(beta2 >= 0 && beta2 < 1)) throw new IllegalArgumentException("beta2 = " + beta2 + "; must be in [0, 1)");
        if (!(eps > 0) || Double.isInfinite(eps)) throw new IllegalArgumentException("eps = " + eps + "; must be finite and > 0");
        if (!(weightDecay >= 0) || Double.isInfinite(weightDecay))
            throw new IllegalArgumentException("weightDecay = " + weightDecay + "; must be finite and >= 0");
    }

    /** PyTorch's defaults for each kind at this learning rate. */
    public static FirstOrderOptions of(Kind kind, double lr) {
        return switch (kind) {
            case SGD -> new FirstOrderOptions(kind, lr, 0, false, 0.9, 0.99, 1e-8, 0);
            case ADAGRAD -> new FirstOrderOptions(kind, lr, 0, false, 0.9, 0.99, 1e-10, 0);
            case RMSPROP -> new FirstOrderOptions(kind, lr, 0, false, 0.9, 0.99, 1e-8, 0);
            case ADAM -> new FirstOrderOptions(kind, lr, 0, false, 0.9, 0.999, 1e-8, 0);
            case ADAMW -> new FirstOrderOptions(kind, lr, 0, false, 0.9, 0.999, 1e-8, 0.01);
        };
    }

    public String label() {
        return kind.name().toLowerCase(Locale.ROOT);
    }
}
