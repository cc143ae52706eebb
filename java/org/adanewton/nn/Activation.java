package org.adanewton.nn;

/**
 * Elementwise activations, with the first and second derivatives the R-operator needs.
 *
 * <p>Thread safety: immutable: safe to share between threads.
 */
public enum Activation {
    IDENTITY(0), TANH(1), SIGMOID(2), RELU(3), SOFTPLUS(4),
    /** The Gaussian error linear unit z Phi(z), in its exact (erf) form, as PyTorch's GELU() default. */
    GELU(5);

    /** The code of this activation in the native API (adanewton.h). */
    public final int nativeCode;

    Activation(int nativeCode) {
        this.nativeCode = nativeCode;
    }

    public double value(double z) {
        return switch (this) {
            case IDENTITY -> z;
            case TANH -> Math.tanh(z);
            case SIGMOID -> 1.0 / (1.0 + Math.exp(-z));
            case RELU -> z > 0 ? z : 0.0;
            case SOFTPLUS -> z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
            case GELU -> z * normalCdf(z);
        };
    }

    /** phi'(z); relu's derivative at 0 is taken as 0. */
    public double derivative(double z) {
        return switch (this) {
            case IDENTITY -> 1.0;
            case TANH -> { double t = Math.tanh(z); yield 1.0 - t * t; }
            case SIGMOID -> { double s = 1.0 / (1.0 + Math.exp(-z)); yield s * (1.0 - s); }
            case RELU -> z > 0 ? 1.0 : 0.0;
            case SOFTPLUS -> 1.0 / (1.0 + Math.exp(-z));
            case GELU -> normalCdf(z) + z * normalPdf(z);
        };
    }

    /** phi''(z). */
    public double secondDerivative(double z) {
        return switch (this) {
            case IDENTITY, RELU -> 0.0;
            case TANH -> { double t = Math.tanh(z); yield -2.0 * t * (1.0 - t * t); }
            case SIGMOID -> { double s = 1.0 / (1.0 + Math.exp(-z)); yield s * (1.0 - s) * (1.0 - 2.0 * s); }
            case SOFTPLUS -> { double s = 1.0 / (1.0 + Math.exp(-z)); yield s * (1.0 - s); }
            case GELU -> (2.0 - z * z) * normalPdf(z);
        };
    }

    /** The standard normal density. */
    static double normalPdf(double z) {
        return Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI);
    }

    /** The standard normal distribution function Phi(z) = (1 + erf(z / sqrt 2)) / 2. */
    static double normalCdf(double z) {
        return 0.5 * (1.0 + erf(z / Math.sqrt(2.0)));
    }

    /**
     * erf(x) to about 1e-15, from the series erf(x) = 2/sqrt(pi) exp(-x^2) sum_n 2^n x^(2n+1) / (1 3 5 ... (2n+1))
     * (all terms positive, so no cancellation); |x| >= 6 gives +-1 (erfc(6) < 3e-17).
     */
    static double erf(double x) {
        double ax = Math.abs(x);
        if (ax >= 6) return Math.signum(x);
        double term = ax, sum = ax, x2 = ax * ax;
        for (int n = 1; n < 200 && term > 1e-17 * sum; n++) {
            term *= 2 * x2 / (2 * n + 1);
            sum += term;
        }
        return Math.copySign(2 / Math.sqrt(Math.PI) * Math.exp(-x2) * sum, x);
    }

    public static Activation parse(String name) {
        for (Activation a : values()) {
            if (a.name().equalsIgnoreCase(name.trim())) return a;
        }
        throw new IllegalArgumentException("activation = '" + name + "'; must be one of identity, tanh, sigmoid, relu, softplus, gelu");
    }
}
