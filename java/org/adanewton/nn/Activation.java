package org.adanewton.nn;

/**
 * Elementwise activations, with the first and second derivatives the R-operator needs.
 *
 * <p>Thread safety: immutable: safe to share between threads.
 */
public enum Activation {
    IDENTITY(0), TANH(1), SIGMOID(2), RELU(3), SOFTPLUS(4);

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
        };
    }

    /** phi''(z). */
    public double secondDerivative(double z) {
        return switch (this) {
            case IDENTITY, RELU -> 0.0;
            case TANH -> { double t = Math.tanh(z); yield -2.0 * t * (1.0 - t * t); }
            case SIGMOID -> { double s = 1.0 / (1.0 + Math.exp(-z)); yield s * (1.0 - s) * (1.0 - 2.0 * s); }
            case SOFTPLUS -> { double s = 1.0 / (1.0 + Math.exp(-z)); yield s * (1.0 - s); }
        };
    }

    public static Activation parse(String name) {
        for (Activation a : values()) {
            if (a.name().equalsIgnoreCase(name.trim())) return a;
        }
        throw new IllegalArgumentException("activation = '" + name + "'; must be one of identity, tanh, sigmoid, relu, softplus");
    }
}
