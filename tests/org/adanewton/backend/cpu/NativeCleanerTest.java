package org.adanewton.backend.cpu;

import static org.junit.jupiter.api.Assertions.*;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.adanewton.nn.Network;
import org.adanewton.nn.NetworkModel;
import org.junit.jupiter.api.Test;

/** Models that are never closed are freed by the backstop, which says so once; closed ones are not counted. */
class NativeCleanerTest {
    static final long WAIT_MILLIS = 20_000;

    private static void createAndDrop(CpuBackend be, Network net) {
        NetworkModel leaked = be.model(net, 4);
        assertFalse(leaked.isClosed());
    }

    @Test
    void anUnclosedModelIsFreedAndTheLeakLoggedOnce() throws Exception {
        Logger logger = Logger.getLogger(NativeCleaner.LOGGER);
        AtomicInteger warnings = new AtomicInteger();
        Handler count = new Handler() {
            @Override
            public void publish(LogRecord r) {
                if (r.getLevel() == Level.WARNING && r.getMessage().contains("was never closed")) warnings.incrementAndGet();
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        logger.addHandler(count);
        try {
            Network net = Network.builder(8).dense(4).tanh().dense(2).build();
            CpuBackend be = new CpuBackend(2);
            long before = NativeCleaner.leaked();
            try (NetworkModel closed = be.model(net, 4)) {
                assertFalse(closed.isClosed());
            }
            for (int i = 0; i < 3; i++) createAndDrop(be, net);
            long deadline = System.currentTimeMillis() + WAIT_MILLIS;
            while (NativeCleaner.leaked() < before + 3 && System.currentTimeMillis() < deadline) {
                System.gc();
                Thread.sleep(20);
            }
            assertEquals(before + 3, NativeCleaner.leaked(), "the three unclosed models (and not the closed one) freed by the backstop");
            // once per JVM: here, unless an earlier test in this JVM leaked a model first
            if (before == 0) assertEquals(1, warnings.get(), "the first leak is said once");
            else assertTrue(warnings.get() <= 1, "the leak is said once per JVM, not " + warnings.get() + " times");
        } finally {
            logger.removeHandler(count);
        }
    }
}
