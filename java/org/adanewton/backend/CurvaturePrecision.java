package org.adanewton.backend;

import java.util.Locale;

/**
 * The precision of the matrix products inside curvature products ({@link NetworkModel#setCurvaturePrecision}).
 *
 * <p>Under {@link #TF32} or {@link #BF16} the GEMMs of the curvature products, that is the
 * R-forward and R-backward passes of Hessian-vector and Gauss-Newton products (cached or from
 * scratch, and so every product inside a native Krylov solve), read their operands in the lower
 * precision and accumulate in float32. Gradients, losses, the forward and backward passes at the
 * point (the state the cached products reuse), vector operations and the Krylov recurrences stay
 * float32 (double in the reductions). {@link #FP32}, the default, changes nothing.
 *
 * <p>Which backend runs what: {@link Backend#unsupported} (the CUDA backend runs TF32 and BF16 on
 * devices of compute capability 8.0 and above; the CPU and Java backends run FP32 only).
 *
 * <p>Thread safety: immutable: safe to share between threads.
 */
public enum CurvaturePrecision {
    /** float32 operands and accumulation (the default). */
    FP32("fp32"),
    /** TF32 operands (float32's 8-bit exponent, 10 mantissa bits: relative rounding 2^-11), float32 accumulation. */
    TF32("tf32"),
    /** bfloat16 operands (8-bit exponent, 7 mantissa bits: relative rounding 2^-8), float32 accumulation. */
    BF16("bf16");

    private final String cliName;

    CurvaturePrecision(String cliName) {
        this.cliName = cliName;
    }

    /** The name the command line uses: "fp32", "tf32" or "bf16". */
    public String cliName() {
        return cliName;
    }

    /** The code of the native API (AN_PRECISION_FP32, _TF32, _BF16 in adanewton.h). */
    public int nativeCode() {
        return ordinal();
    }

    /** Parses fp32, tf32 or bf16 in any case, naming the accepted values when it is none of them. */
    public static CurvaturePrecision parse(String name) {
        if (name != null) {
            String n = name.trim().toLowerCase(Locale.ROOT);
            for (CurvaturePrecision p : values())
                if (p.cliName.equals(n)) return p;
        }
        throw new IllegalArgumentException("curvature precision = '" + name + "'; must be fp32, tf32 or bf16");
    }
}
