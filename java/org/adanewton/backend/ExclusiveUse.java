package org.adanewton.backend;

import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * The guard of an object that serves one thread at a time (a network model, a batch, a minimizer):
 * a second thread that calls it while the first is inside gets an {@link IllegalStateException}
 * naming the object, and nothing of the object changes; it never reaches native code concurrently.
 * The same thread may re-enter. Entering and leaving allocate nothing.
 *
 * <pre>{@code
 * use.enter();
 * try { ... } finally { use.exit(); }
 * }</pre>
 */
public final class ExclusiveUse {
    /** A lock that can name its holder. */
    private static final class Lock extends ReentrantLock {
        private static final long serialVersionUID = 1L;

        String holder() {
            Thread t = getOwner();
            return t == null ? "another thread" : "thread '" + t.getName() + "'";
        }
    }

    private final Lock lock = new Lock();
    private final Supplier<String> name;

    /** @param name what the object is, for the message (e.g. "NetworkModel 784-128-10 tanh on cpu") */
    public ExclusiveUse(Supplier<String> name) {
        this.name = name;
    }

    /** Takes the object for the calling thread, or throws IllegalStateException when another thread is inside. */
    public void enter() {
        if (!lock.tryLock())
            throw new IllegalStateException(name.get() + " is in use by " + lock.holder() + "; it serves one thread at a time: give each thread "
                    + "its own, or call it from one thread");
    }

    /** Releases what {@link #enter} took. */
    public void exit() {
        lock.unlock();
    }
}
