package org.adanewton.norm;

/**
 * The diagonal norms that shape the region (Kohler et al., arXiv 1905.09201).
 *
 * <p>Thread safety: immutable: safe to share between threads.
 */
public enum NormKind {
    /** a = 1: the spherical (Euclidean) region. */
    UNIFORM,
    /** v += g*g; a = sqrt(v) + eps. */
    ADAGRAD,
    /** v = beta v + (1-beta) g*g; a = sqrt(v) + eps. */
    RMSPROP,
    /** v = beta2 v + (1-beta2) g*g; a = sqrt(v / (1 - beta2^t)) + eps (bias correction optional). */
    ADAM;

    public static NormKind parse(String name) {
        for (NormKind k : values()) {
            if (k.name().equalsIgnoreCase(name.trim())) return k;
        }
        throw new IllegalArgumentException("norm = '" + name + "'; must be one of uniform, adagrad, rmsprop, adam");
    }
}
