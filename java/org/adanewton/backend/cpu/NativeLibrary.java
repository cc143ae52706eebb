package org.adanewton.backend.cpu;

import java.util.List;
import org.adanewton.backend.NativeException;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Loader;

/**
 * Loads the JNI library once and maps native status codes to exceptions. The jar carries the
 * library for the platforms in {@link #NATIVE_PLATFORMS} only; elsewhere {@link #loadError()} says
 * so, naming the platform, and nothing is attempted.
 *
 * <p>Thread safety: the library is loaded once, by the class initializer (which the JVM runs once,
 * before any thread uses the class); every method may then be called from any thread, and native
 * error messages are kept per thread.
 */
public final class NativeLibrary {
    /**
     * The JavaCPP platforms this project's build makes the native library for (glibc 2.34 or newer on
     * Linux), for messages; whether this jar carries one for the running platform is read from the
     * jar itself.
     */
    public static final List<String> NATIVE_PLATFORMS = List.of("linux-x86_64");

    private static final String LOAD_ERROR = load();

    private NativeLibrary() {}

    /** The JavaCPP platform name of this JVM, e.g. "linux-x86_64" or "macosx-arm64". */
    public static String platform() {
        return Loader.getPlatform();
    }

    private static String load() {
        String platform = platform();
        if (NativeLibrary.class.getResource(platform + "/libjniadanewton.so") == null)
            return "no native library for platform " + platform + "; this build has native kernels for "
                    + String.join(", ", NATIVE_PLATFORMS) + " (glibc 2.34 or newer) only";
        try {
            Loader.load(NativeApi.class);
            return null;
        } catch (Throwable t) { // UnsatisfiedLinkError, or a missing or corrupt native jar
            return "the native library did not load on " + platform + ": " + t;
        }
    }

    /** True when the JNI library (with OpenBLAS) loaded. */
    public static boolean isAvailable() {
        return LOAD_ERROR == null;
    }

    /** Why the library did not load, or null. */
    public static String loadError() {
        return LOAD_ERROR;
    }

    static void require() {
        if (LOAD_ERROR != null) throw new IllegalStateException(LOAD_ERROR);
    }

    /** OpenBLAS build configuration and core name, plus the BLAS thread count. */
    public static String runtimeInfo() {
        require();
        try (BytePointer buf = new BytePointer(512)) {
            NativeApi.an_runtime_info(buf, 512);
            return cString(buf);
        }
    }

    /** Throws a NativeException naming the call when status is not AN_OK. */
    static void check(String call, int status) {
        if (status != NativeApi.AN_OK) {
            BytePointer msg = NativeApi.an_last_error();
            throw new NativeException(call, status, msg == null || msg.isNull() ? "(no message)" : cString(msg));
        }
    }

    /** The NUL-terminated string at p (not the whole buffer). */
    private static String cString(BytePointer p) {
        return p.limit(p.position()).getString();
    }
}
