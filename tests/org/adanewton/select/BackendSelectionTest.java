package org.adanewton.select;

import static org.junit.jupiter.api.Assertions.*;

import org.adanewton.backend.BackendKind;
import org.adanewton.backend.BackendUnavailableException;
import org.adanewton.backend.cuda.CudaProbe;
import org.junit.jupiter.api.Test;

class BackendSelectionTest {

    @Test
    void autoFallsBackLoudlyWithTheReasons() {
        Backends.Selection s = Backends.select(BackendKind.AUTO, 2);
        assertEquals(BackendKind.CPU, s.backend().kind(), "the native library is built by mvn package, so AUTO must reach cpu here");
        assertTrue(s.notes().get(0).startsWith("backend cuda refused: "), s.notes().toString());
        assertTrue(s.notes().get(s.notes().size() - 1).startsWith("backend: cpu"), s.notes().toString());
    }

    @Test
    void explicitRequestsAreMetOrFailWithTheCause() {
        assertEquals(BackendKind.JAVA, Backends.select(BackendKind.JAVA, 0).backend().kind());
        assertEquals(3, Backends.select(BackendKind.CPU, 3).backend().threads());
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class, () -> Backends.select(BackendKind.CUDA, 1));
        assertTrue(e.getMessage().contains(CudaProbe.probe().message()), e.getMessage());
    }

    @Test
    void selfTestAcceptsAWorkingBackend() {
        assertNull(Backends.selfTest(new org.adanewton.backend.cpu.CpuBackend(1)));
    }

    @Test
    void probeNeverThrowsAndExplainsItself() {
        CudaProbe.Result r = CudaProbe.probe();
        assertFalse(r.message().isBlank());
        assertTrue(r.devices() >= 0);
    }
}
