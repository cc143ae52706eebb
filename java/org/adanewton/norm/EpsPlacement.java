package org.adanewton.norm;

/**
 * Where eps enters the metric a.
 *
 * <p>Thread safety: immutable: safe to share between threads.
 */
public enum EpsPlacement {
    /** a = sqrt(v) + eps (the paper's form). */
    AFTER_ROOT,
    /** v starts at eps and a = sqrt(v) (the authors' code). */
    INITIAL_ACCUMULATOR;

    /** The placement named {@code after-root} or {@code initial-accumulator} (any case). */
    public static EpsPlacement parse(String name) {
        for (EpsPlacement p : values()) if (p.cliName().equalsIgnoreCase(name)) return p;
        throw new IllegalArgumentException("epsPlacement = '" + name + "'; must be after-root or initial-accumulator");
    }

    /** The name {@link #parse} reads: after-root, initial-accumulator. */
    public String cliName() {
        return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }
}
