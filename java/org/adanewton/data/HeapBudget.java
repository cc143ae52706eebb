package org.adanewton.data;

import java.util.Locale;

/**
 * A check before a large allocation (a data set, a checkpoint, a test problem): whether the bytes
 * still fit in the Java heap, so that a file or a size too large for this JVM is refused with its
 * size and advice instead of an {@link OutOfMemoryError}.
 *
 * <p>Thread safety: stateless: safe to use from any thread; its answer is a snapshot that other
 * threads' allocations may change.
 */
public final class HeapBudget {
    private HeapBudget() {}

    /** Bytes the heap can still give: its maximum less what is in use now. */
    public static long available() {
        Runtime r = Runtime.getRuntime();
        return r.maxMemory() - (r.totalMemory() - r.freeMemory());
    }

    /**
     * null when bytes fit in {@link #available()}, else why not: "needs 2.1 GB of heap but at most
     * 1.9 GB is left (maximum heap 2.0 GB); give the JVM more with -Xmx (the CLI: ADANEWTON_JAVA_OPTS=-Xmx8g)".
     */
    public static String shortfall(long bytes) {
        long left = available();
        if (bytes >= 0 && bytes <= left) return null;
        return String.format(Locale.ROOT, "needs %s of heap but at most %s is left (maximum heap %s); give the JVM more with -Xmx "
                + "(the CLI: ADANEWTON_JAVA_OPTS=-Xmx%dg)", size(bytes), size(left), size(Runtime.getRuntime().maxMemory()),
                Math.max(2, (long) Math.ceil(2.0 * Math.max(bytes, 0) / (1L << 30)) + 1));
    }

    /** 1536 -> "1.5 KB", 2.1e9 -> "2.0 GB" (powers of 1024). */
    public static String size(long bytes) {
        if (bytes < 0) return "more than 8 EB";
        String[] units = {"bytes", "KB", "MB", "GB", "TB", "PB", "EB"};
        double v = bytes;
        int u = 0;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return u == 0 ? bytes + " bytes" : String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }
}
