package org.adanewton.backend.cpu;

import static org.junit.jupiter.api.Assertions.*;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.adanewton.backend.NetworkModel;
import org.adanewton.nn.Network;
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
            Network net = Network.builder(7).dense(5).tanh().dense(3).build(); // a shape no other test uses
            String what = "a NetworkModel (" + net.shortName() + ")";
            CpuBackend be = new CpuBackend(2);
            long before = NativeCleaner.leaked(what);
            boolean warnedBefore = NativeCleaner.warned();
            try (NetworkModel closed = be.model(net, 4)) {
                assertFalse(closed.isClosed());
            }
            for (int i = 0; i < 3; i++) createAndDrop(be, net);
            long deadline = System.currentTimeMillis() + WAIT_MILLIS;
            while (NativeCleaner.leaked(what) < before + 3 && System.currentTimeMillis() < deadline) {
                System.gc();
                Thread.sleep(20);
            }
            assertEquals(before + 3, NativeCleaner.leaked(what), "the three unclosed models (and not the closed one) freed by the backstop");
            // once per JVM: exactly one warning here, unless an earlier test in this JVM leaked something first (then none)
            assertEquals(warnedBefore ? 0 : 1, warnings.get(), "the leak is said once per JVM");
            assertTrue(NativeCleaner.warned());
        } finally {
            logger.removeHandler(count);
        }
    }
}
