package org.adanewton.backend;

/**
 * Which backend to use. {@link #AUTO} tries CUDA, then CPU, then Java (see {@code org.adanewton.select.Backends}).
 *
 * <p>Thread safety: immutable: safe to share between threads.
 */
public enum BackendKind {
    AUTO, CUDA, CPU, JAVA;

    /** Parses a case-insensitive name, naming the accepted values when it is not one. */
    public static BackendKind parse(String name) {
        for (BackendKind k : values()) {
            if (k.name().equalsIgnoreCase(name.trim())) return k;
        }
        throw new IllegalArgumentException("backend = '" + name + "'; must be one of auto, cuda, cpu, java");
    }
}
