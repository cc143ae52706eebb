package org.adanewton.backend.cpu;

import java.lang.ref.Cleaner;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The backstop for native objects that are never closed: when such an object becomes unreachable, a
 * {@link Cleaner} runs its free action (a model's network and threads; vectors and batches register
 * no action, their buffers are JavaCPP pointers that JavaCPP frees once no call holds them), and the
 * first time in a JVM this is logged at WARNING (logger {@value #LOGGER}), since closing
 * (try-with-resources) stays the rule: the garbage collector sees only the small Java object, not
 * the native memory behind it.
 */
final class NativeCleaner {
    static final String LOGGER = "org.adanewton.backend";
    private static final Cleaner CLEANER = Cleaner.create(r -> {
        Thread t = new Thread(r, "adanewton-native-cleaner");
        t.setDaemon(true);
        return t;
    });
    private static final AtomicBoolean WARNED = new AtomicBoolean();
    private static final java.util.concurrent.ConcurrentHashMap<String, AtomicLong> LEAKED = new java.util.concurrent.ConcurrentHashMap<>();

    /** What close() calls: frees at once, and tells the backstop that nothing leaked. */
    static final class Handle {
        private final Action action;
        private final Cleaner.Cleanable cleanable;

        private Handle(Object owner, Action action) {
            this.action = action;
            this.cleanable = CLEANER.register(owner, action);
        }

        void close() {
            action.closed = true;
            cleanable.clean();
        }
    }

    private static final class Action implements Runnable {
        private final String what;
        private final Runnable free;
        volatile boolean closed;

        Action(String what, Runnable free) {
            this.what = what;
            this.free = free;
        }

        @Override
        public void run() {
            if (!closed) {
                LEAKED.computeIfAbsent(what, k -> new AtomicLong()).incrementAndGet();
                if (!WARNED.getAndSet(true))
                    System.getLogger(LOGGER).log(System.Logger.Level.WARNING, "adanewton: " + what + " was never closed; the garbage collector "
                            + "freed its native memory. Close models, batches and vectors when done (try-with-resources): until then their "
                            + "memory (and a model's threads) stay in use. (Said once; later leaks are freed silently.)");
            }
            free.run();
        }
    }

    private NativeCleaner() {}

    /**
     * Registers owner's native resources: free runs once, at {@link Handle#close} or when owner is
     * unreachable. free must not refer to owner (or the object would never become unreachable).
     */
    static Handle register(Object owner, String what, Runnable free) {
        return new Handle(owner, new Action(what, free));
    }

    /**
     * For native resources of an object that has no close() (its owner's lifetime is the garbage
     * collector's to decide): free runs once owner is unreachable, silently. free must not refer to owner.
     */
    static void whenUnreachable(Object owner, Runnable free) {
        CLEANER.register(owner, free);
    }

    /** Whether the leak warning was logged in this JVM. */
    static boolean warned() {
        return WARNED.get();
    }

    /** How many objects described as `what` the backstop has freed (they were not closed). */
    static long leaked(String what) {
        AtomicLong n = LEAKED.get(what);
        return n == null ? 0 : n.get();
    }
}
