package org.adanewton.api;

import org.adanewton.backend.Vector;

/**
 * A smooth function of n variables over backend {@link Vector}s: its value, gradient and
 * Hessian-vector products, with every result written in place into a vector the caller gives (no
 * copy, on any backend: Java, native CPU or CUDA). The double[] counterpart is {@link Objective};
 * this one is for objectives that should run at the backend's speed. Wrap it in
 * {@code org.adanewton.minimizer.VectorObjectiveProblem} for a {@code Minimizer}, or pass it to
 * {@code Minimize.minimize}; a {@link MiniBatchObjective} is the stochastic form.
 *
 * <p>Reaching the storage without a copy: {@code JavaBackend.array(v)} (the double[] itself),
 * {@code CpuBackend.buffer(v)} (a FloatBuffer view of the off-heap float32 storage) and
 * {@code CpuBackend.address(v)} (its native address, for JNI), {@code CudaBackend.deviceAddress(v)}
 * (the device address, for user CUDA code; mind that accessor's stream rule). The backend's own
 * operations ({@code x.backend().dot}, {@code axpy}, {@code multiply}...) also work on these vectors
 * and run on any backend.
 *
 * <p>The contract of every call: all vectors belong to one backend and have length
 * {@link #dimension()}; x and v are read-only; g and hv must be written in full (the caller marks
 * them written, see {@link Vector#version()}, so writes through a storage view need no
 * {@code markWritten}). The vectors are the caller's own work vectors and are valid only during the
 * call: keep neither them nor a view of their storage. {@link #hessianVector} is called only at the
 * point of the most recent {@link #gradient} call (the same vector, unchanged), so per-point data
 * computed in gradient (a Jacobian, activations) may be cached and reused; {@link #value} at trial
 * points comes between such products and must not disturb that cache. A NaN or infinite value,
 * gradient or product is not an error: the minimizer treats the step as invalid (rejected, region
 * shrunk, counted; NUMERICAL_FAILURE after maxConsecutiveInvalid in a row). An exception thrown by a
 * call propagates to the caller of the minimizer.
 *
 * <p>Thread safety: implementations need not be thread-safe: a minimizer calls its objective from
 * the thread that runs it, one call at a time.
 */
public interface VectorObjective {
    /** n, the number of variables (at least 1). */
    int dimension();

    /** f(x). */
    double value(Vector x);

    /** Writes the gradient at x into g (every entry) and returns f(x). */
    double gradient(Vector x, Vector g);

    /** Writes H(x) v into hv (every entry); x is the point of the most recent {@link #gradient} call. */
    void hessianVector(Vector x, Vector v, Vector hv);

    /** A name for reports. */
    default String name() {
        return getClass().getSimpleName();
    }
}
