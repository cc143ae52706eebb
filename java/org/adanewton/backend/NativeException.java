package org.adanewton.backend;

/**
 * A native kernel returned an error status; the message names the call and the native reason.
 *
 * <p>Thread safety: immutable (it adds no mutable state to its superclass): safe to share between
 * threads.
 */
public final class NativeException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int status;

    public NativeException(String call, int status, String nativeMessage) {
        super(call + " failed (status " + status + "): " + nativeMessage);
        this.status = status;
    }

    public int status() {
        return status;
    }
}
