package org.adanewton.backend;

/**
 * An explicitly requested backend cannot run here; the message says why and what to do.
 *
 * <p>Thread safety: immutable (it adds no mutable state to its superclass): safe to share between
 * threads.
 */
public final class BackendUnavailableException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public BackendUnavailableException(String message) {
        super(message);
    }

    public BackendUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
