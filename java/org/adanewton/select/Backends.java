package org.adanewton.select;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.adanewton.api.StepSolver;
import org.adanewton.backend.Backend;
import org.adanewton.backend.BackendKind;
import org.adanewton.backend.BackendUnavailableException;
import org.adanewton.backend.Batch;
import org.adanewton.backend.NetworkModel;
import org.adanewton.backend.Vector;
import org.adanewton.backend.cpu.CpuBackend;
import org.adanewton.backend.cpu.GemmFloor;
import org.adanewton.backend.cpu.NativeLibrary;
import org.adanewton.backend.cuda.CudaBackend;
import org.adanewton.backend.cuda.CudaProbe;
import org.adanewton.backend.java.JavaBackend;
import org.adanewton.nn.Network;
import org.adanewton.subproblem.KrylovOptions;
import org.adanewton.subproblem.KrylovSolvers;

/**
 * Backend selection. {@link BackendKind#AUTO} tries CUDA (a device answers, cuBLAS loads and a
 * context starts), then CPU (the native library loads), then the Java reference, and records why
 * each was refused. An explicit request that cannot be met throws {@link BackendUnavailableException}
 * with the cause. Nothing is downloaded.
 *
 * <p>When AUTO ends on the Java reference because the native library is missing (a platform without
 * natives) or did not load, a WARNING is logged once per JVM through {@link System.Logger} (logger
 * {@value #LOGGER}), naming the platform and the reason; the selection's notes give the reason too.
 *
 * <p>Tools (the CLI) ask here, not of the backends' packages, for what the native library reports:
 * {@link #platform()}, {@link #nativeLibraryInfo()}, {@link #cudaProbe()}, {@link #gemmFloors}.
 *
 * <p>Thread safety: {@code select} may be called from any thread: the only static state is an
 * atomic flag that keeps the fallback warning to once per JVM, and each call returns a new backend.
 */
public final class Backends {
    /** The name of the System.Logger that reports the fallback to the Java reference. */
    public static final String LOGGER = "org.adanewton.backend";

    private static final AtomicBoolean FALLBACK_WARNED = new AtomicBoolean();

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
                if (!FALLBACK_WARNED.getAndSet(true)) System.getLogger(LOGGER).log(System.Logger.Level.WARNING, fallbackWarning());
                return chosen(new JavaBackend(), notes);
            }
            default -> throw new IllegalArgumentException("backend kind " + kind);
        }
    }

    /** The one line said when AUTO falls back to the Java reference. */
    static String fallbackWarning() {
        return "adanewton: AUTO falls back to the Java reference backend (double precision, one thread, about 10x slower) on "
                + NativeLibrary.platform() + ": " + NativeLibrary.loadError();
    }

    private static CpuBackend cpu(int threads) {
        return threads > 0 ? new CpuBackend(threads) : new CpuBackend();
    }

    /**
     * The CUDA backend, or BackendUnavailableException with the probe's or the runtime's reason. A
     * self-test first compares a small network's gradient, HVP and Steihaug and GLTR steps on the
     * device with the Java reference, so that a broken driver or kernel is refused instead of used.
     */
    private static Backend cuda() {
        CudaProbe.Result probe = CudaProbe.probe();
        if (!probe.available()) throw new BackendUnavailableException("cuda backend requested but unavailable: " + probe.message());
        CudaBackend backend = new CudaBackend();
        try {
            String failure = selfTest(backend);
            if (failure != null) throw new BackendUnavailableException("cuda backend failed its self-test: " + failure);
            return backend;
        } catch (RuntimeException e) {
            backend.close();
            throw e instanceof BackendUnavailableException b ? b : new BackendUnavailableException("cuda backend failed its self-test: " + e, e);
        }
    }

    /**
     * Gradient, HVP and 5-iteration Steihaug and GLTR steps (the native whole solves on backends
     * that have them) of an 8-6-3 tanh network on 5 samples against the Java reference; null when
     * they agree.
     */
    static String selfTest(Backend device) {
        Network net = Network.builder(8).dense(6).tanh().dense(3).build();
        Backend reference = new JavaBackend();
        float[] x = new float[5 * 8];
        int[] y = {0, 1, 2, 1, 0};
        for (int i = 0; i < x.length; i++) x[i] = (float) Math.sin(0.7 * i);
        double[] w0 = net.initialize(3), v0 = net.initialize(4);
        double[][] results = new double[2][];
        int k = 0;
        int n = net.parameterCount();
        KrylovOptions options = new KrylovOptions(5, 1e-8, KrylovOptions.StoppingRule.RESIDUAL);
        for (Backend be : new Backend[] {device, reference}) {
            try (NetworkModel m = be.model(net, 5); Batch b = be.batch(net, 5); Vector w = be.vector(w0);
                    Vector v = be.vector(v0); Vector g = be.allocate(n); Vector hv = be.allocate(n); Vector a = be.allocate(n);
                    Vector cg = be.allocate(n); Vector gltr = be.allocate(n);
                    StepSolver steihaug = KrylovSolvers.steihaug(be, n, options);
                    StepSolver lanczos = KrylovSolvers.gltr(be, n, options)) {
                b.set(x, y, 5);
                m.gradient(w, b, g);
                m.hvpCached(v, hv);
                be.fill(a, 1.5);
                steihaug.solve(g, m.gaussNewton(), a, 1e3, cg);
                lanczos.solve(g, m.gaussNewton(), a, 1e3, gltr);
                double[] all = new double[4 * n];
                System.arraycopy(g.toArray(), 0, all, 0, n);
                System.arraycopy(hv.toArray(), 0, all, n, n);
                System.arraycopy(cg.toArray(), 0, all, 2 * n, n);
                System.arraycopy(gltr.toArray(), 0, all, 3 * n, n);
                results[k++] = all;
            }
        }
        String[] parts = {"gradient", "HVP", "Steihaug step", "GLTR step"};
        for (int part = 0; part < parts.length; part++) {
            double diff = 0, size = 0;
            for (int i = part * n; i < (part + 1) * n; i++) {
                diff = Math.max(diff, Math.abs(results[0][i] - results[1][i]));
                size = Math.max(size, Math.abs(results[1][i]));
            }
            if (!(diff <= 1e-3 * Math.max(size, 1e-3)))
                return parts[part] + " differs from the reference by " + diff + " (scale " + size + ")";
        }
        return null;
    }

    /** The JavaCPP platform name of this JVM, e.g. "linux-x86_64". */
    public static String platform() {
        return NativeLibrary.platform();
    }

    /** The platforms this build makes native kernels for. */
    public static List<String> nativePlatforms() {
        return NativeLibrary.NATIVE_PLATFORMS;
    }

    /**
     * What the native library says of itself: "loaded; " and OpenBLAS's build configuration, core
     * and thread count, or why it did not load.
     */
    public static String nativeLibraryInfo() {
        return NativeLibrary.isAvailable() ? "loaded; " + NativeLibrary.runtimeInfo() : NativeLibrary.loadError();
    }

    /** Whether a CUDA device answers (devices, and the device summary or the reason). */
    public static CudaProbe.Result cudaProbe() {
        return CudaProbe.probe();
    }

    /** The GEMM-only floors of a CPU model's five operations (see {@link GemmFloor}). */
    public record GemmFloors(GemmFloor.Result forward, GemmFloor.Result gradient, GemmFloor.Result hvp, GemmFloor.Result hvpCached,
            GemmFloor.Result gaussNewtonCached) {}

    /** Measures the GEMM floors (in the order of the record) of a cpu-backend model; repeats at least 1. */
    public static GemmFloors gemmFloors(NetworkModel model, int batch, int repeats) {
        GemmFloor.Result forward = GemmFloor.measure(model, GemmFloor.Op.FORWARD, batch, repeats);
        GemmFloor.Result gradient = GemmFloor.measure(model, GemmFloor.Op.GRADIENT, batch, repeats);
        GemmFloor.Result hvp = GemmFloor.measure(model, GemmFloor.Op.HVP, batch, repeats);
        GemmFloor.Result hvpCached = GemmFloor.measure(model, GemmFloor.Op.HVP_CACHED, batch, repeats);
        return new GemmFloors(forward, gradient, hvp, hvpCached, GemmFloor.measure(model, GemmFloor.Op.GN_CACHED, batch, repeats));
    }

    private static Selection chosen(Backend backend, List<String> notes) {
        notes.add("backend: " + backend.description());
        return new Selection(backend, List.copyOf(notes));
    }
}
