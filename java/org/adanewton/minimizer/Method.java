package org.adanewton.minimizer;

/**
 * A second-order method: the step solver and, through it, the region policy (TR radius or ARC sigma).
 *
 * <p>Thread safety: immutable: safe to share between threads.
 */
public enum Method {
    /** Trust region, preconditioned Steihaug-Toint CG (the paper's solver). */
    TR_STEIHAUG("tr-steihaug", false),
    /** Trust region, GLTR (Lanczos, exact on the tridiagonal). */
    TR_GLTR("tr-gltr", false),
    /** Trust region, Cauchy point only (first-order with curvature along -A^-1 g). */
    TR_CAUCHY("tr-cauchy", false),
    /** Adaptive cubic regularization, Lanczos with the secular equation on the tridiagonal. */
    ARC("arc", true),
    /** Adaptive cubic regularization, Cauchy point only. */
    ARC_CAUCHY("arc-cauchy", true);

    public final String cliName;
    public final boolean cubic;

    Method(String cliName, boolean cubic) {
        this.cliName = cliName;
        this.cubic = cubic;
    }

    public static Method parse(String name) {
        for (Method m : values()) {
            if (m.cliName.equalsIgnoreCase(name.trim()) || m.name().equalsIgnoreCase(name.trim())) return m;
        }
        StringBuilder names = new StringBuilder();
        for (Method m : values()) names.append(names.length() == 0 ? "" : ", ").append(m.cliName);
        throw new IllegalArgumentException("method = '" + name + "'; must be one of " + names);
    }
}
