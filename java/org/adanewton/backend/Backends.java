package org.adanewton.backend;

import java.util.ArrayList;
import java.util.List;
import org.adanewton.backend.cpu.CpuBackend;
import org.adanewton.backend.cpu.NativeLibrary;
import org.adanewton.backend.cuda.CudaProbe;
import org.adanewton.backend.java.JavaBackend;

/**
 * Backend selection. {@link BackendKind#AUTO} tries CUDA (a device answers, cuBLAS loads and a
 * context starts), then CPU (the native library loads), then the Java reference, and records why
 * each was refused. An explicit request that cannot be met throws {@link BackendUnavailableException}
 * with the cause. Nothing is downloaded.
 */
public final class Backends {

    /** The chosen backend and one line per refusal plus the final choice, for the caller to print once. */
    public record Selection(Backend backend, List<String> notes) {}

    private Backends() {}

    public static Selection select(BackendKind kind, int threads) {
        List<String> notes = new ArrayList<>();
        switch (kind) {
            case JAVA -> {
                return chosen(new JavaBackend(), notes);
            }
            case CPU -> {
                return chosen(cpu(threads), notes);
            }
            case CUDA -> {
                return chosen(cuda(), notes);
            }
            case AUTO -> {
                try {
                    return chosen(cuda(), notes);
                } catch (BackendUnavailableException e) {
                    notes.add("backend cuda refused: " + e.getMessage().replaceFirst("^cuda backend( requested but unavailable)?: ", ""));
                }
                if (NativeLibrary.isAvailable()) return chosen(cpu(threads), notes);
                notes.add("backend cpu refused: " + NativeLibrary.loadError());
                return chosen(new JavaBackend(), notes);
            }
            default -> throw new IllegalArgumentException("backend kind " + kind);
        }
    }

    private static CpuBackend cpu(int threads) {
        return threads > 0 ? new CpuBackend(threads) : new CpuBackend();
    }

    /** The CUDA backend, or BackendUnavailableException with the probe's or the runtime's reason. */
    private static Backend cuda() {
        CudaProbe.Result probe = CudaProbe.probe();
        if (!probe.available()) throw new BackendUnavailableException("cuda backend requested but unavailable: " + probe.message());
        return new org.adanewton.backend.cuda.CudaBackend();
    }

    private static Selection chosen(Backend backend, List<String> notes) {
        notes.add("backend: " + backend.description());
        return new Selection(backend, List.copyOf(notes));
    }
}
