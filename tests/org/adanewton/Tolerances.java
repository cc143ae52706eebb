package org.adanewton;

import static org.junit.jupiter.api.Assertions.fail;

/** Named tolerances and the comparison |a - b| <= atol + rtol |b| used by every numerical test. */
public final class Tolerances {
    /** Central finite differences in double (step FD_STEP): truncation ~ h^2, round-off ~ eps/h. */
    public static final double FD_STEP = 1e-5;
    public static final double FD_ATOL = 1e-7;
    public static final double FD_RTOL = 1e-5;
    /** Identities that hold exactly in exact arithmetic, evaluated in double. */
    public static final double DOUBLE_ATOL = 1e-11;
    public static final double DOUBLE_RTOL = 1e-9;
    /** Native float32 kernels (double accumulation in reductions) against the double reference. */
    public static final double FLOAT_ATOL = 2e-5;
    public static final double FLOAT_RTOL = 2e-4;
    /** Identities evaluated by float32 kernels (symmetry, linearity). */
    public static final double FLOAT_IDENTITY_RTOL = 1e-3;

    private Tolerances() {}

    public static boolean close(double a, double b, double atol, double rtol) {
        return Math.abs(a - b) <= atol + rtol * Math.abs(b);
    }

    public static void assertClose(String what, double actual, double expected, double atol, double rtol) {
        if (!close(actual, expected, atol, rtol))
            fail(what + ": " + actual + " vs expected " + expected + " (|diff| = " + Math.abs(actual - expected) + " > "
                    + (atol + rtol * Math.abs(expected)) + ")");
    }

    /**
     * Elementwise |a_i - b_i| <= atol * scale + rtol * |b_i|, where scale = max(1, max |b|) makes
     * the absolute part relative to the vector's magnitude.
     */
    public static void assertClose(String what, double[] actual, double[] expected, double atol, double rtol) {
        if (actual.length != expected.length) fail(what + ": length " + actual.length + " vs " + expected.length);
        double scale = 1;
        for (double v : expected) scale = Math.max(scale, Math.abs(v));
        for (int i = 0; i < actual.length; i++) {
            if (!(Math.abs(actual[i] - expected[i]) <= atol * scale + rtol * Math.abs(expected[i])))
                fail(what + "[" + i + "]: " + actual[i] + " vs expected " + expected[i] + " (scale " + scale + ")");
        }
    }
}
