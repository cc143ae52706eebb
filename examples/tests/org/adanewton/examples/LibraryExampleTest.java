package org.adanewton.examples;

import static org.junit.jupiter.api.Assertions.*;

import org.adanewton.api.TerminationType;
import org.junit.jupiter.api.Test;

/** Runs the README's library example. */
class LibraryExampleTest {
    @Test
    void theReadmeExampleTrains() {
        LibraryExample.Outcome o = LibraryExample.run();
        assertEquals(TerminationType.MAX_EPOCHS, o.summary().termination(), o.summary().report());
        assertTrue(o.lossAfter() < 0.5 * o.lossBefore(), o.lossBefore() + " -> " + o.lossAfter());
        assertEquals(o.summary().iterations(), o.iterations().size());
        assertTrue(o.summary().products() > 0);
    }
}
