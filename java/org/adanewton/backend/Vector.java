package org.adanewton.backend;

/**
 * A vector of doubles stored by a {@link Backend}: a double[] on the Java backend, off-heap float32
 * on the CPU backend, device memory on CUDA. Created by {@link Backend#allocate}, owned by the
 * caller, released by {@link #close()} (idempotent). Every write through the backend increments
 * {@link #version()}, which lets models detect that a cached point was changed.
 *
 * <p>Thread safety: not synchronized; a vector is used by one thread at a time.
 */
public abstract class Vector implements AutoCloseable {
    private final Backend backend;
    private final int length;
    private boolean closed;
    private long version;

    protected Vector(Backend backend, int length) {
        if (length < 0) throw new IllegalArgumentException("length = " + length + "; must be >= 0");
        this.backend = backend;
        this.length = length;
    }

    public final Backend backend() {
        return backend;
    }

    public final int length() {
        return length;
    }

    public final boolean isClosed() {
        return closed;
    }

    /** Incremented on every write; used to check that a cached point is still the same. */
    public final long version() {
        return version;
    }

    /** Copies the values out (as doubles, whatever the storage precision). */
    public final double[] toArray() {
        return backend.toArray(this);
    }

    @Override
    public final void close() {
        if (!closed) {
            closed = true;
            release();
        }
    }

    /** Frees the storage; called once. */
    protected abstract void release();

    /** Records a write; called by the backend's operations and by kernels outside it (models, solvers). */
    public final void markWritten() {
        version++;
    }

    @Override
    public String toString() {
        return backend.kind().name().toLowerCase() + " vector[" + length + "]" + (closed ? " (closed)" : "");
    }
}
