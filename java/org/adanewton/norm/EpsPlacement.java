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
    INITIAL_ACCUMULATOR
}
