package org.adanewton.backend.cuda;

import org.adanewton.backend.cpu.NativeLibrary;

/**
 * Asks the native library whether a CUDA device answers. The library is linked with the static
 * CUDA runtime where nvcc existed at build time (a stub otherwise), so this never needs a driver:
 * without one it reports the runtime's reason.
 *
 * <p>Thread safety: safe to call from any thread: the result is kept in a volatile field; threads
 * that race on the first call may each probe, and get the same answer.
 */
public final class CudaProbe {

    /** The outcome: devices found (0 when none) and a human-readable reason or device summary. */
    public record Result(int devices, String message) {
        public boolean available() {
            return devices > 0;
        }
    }

    private static volatile Result cached;

    private CudaProbe() {}

    public static Result probe() {
        Result r = cached;
        if (r == null) {
            if (!NativeLibrary.isAvailable()) {
                r = new Result(0, NativeLibrary.loadError());
            } else {
                String[] reason = new String[1];
                int n = CudaNative.probe(reason);
                r = new Result(n, reason[0]);
            }
            cached = r;
        }
        return r;
    }
}
