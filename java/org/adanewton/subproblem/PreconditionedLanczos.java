package org.adanewton.subproblem;

import java.util.ArrayList;
import java.util.List;
import org.adanewton.backend.Backend;
import org.adanewton.backend.CurvatureOperator;
import org.adanewton.backend.Vector;

/**
 * Preconditioned Lanczos for B with M = diag(a): builds M-orthonormal vectors v_0, v_1, ... of the
 * Krylov space K(M^-1 B, M^-1 g) and the tridiagonal T = V'BV (diagonal delta_k, off-diagonal
 * gamma_k), with gamma_0 = ||g||_{M^-1}:
 * <pre>
 * t_0 = g, y = M^-1 t, gamma_0 = sqrt(t'y), v_0 = y/gamma_0, w_0 = t/gamma_0 (= M v_0)
 * delta_k = v_k' B v_k,  t = B v_k - delta_k w_k - gamma_k w_{k-1},  y = M^-1 t,
 * gamma_{k+1} = sqrt(t'y),  v_{k+1} = y/gamma_{k+1},  w_{k+1} = t/gamma_{k+1}
 * </pre>
 * A step s = sum h_j v_j has ||s||_M = ||h||. The v_j are kept (one vector per iteration, allocated
 * on first use and reused by later solves) to assemble s.
 */
final class PreconditionedLanczos implements AutoCloseable {
    private final Backend backend;
    private final int dimension;
    private final List<Vector> v = new ArrayList<>();
    private final Vector t, y, bv;
    private Vector w, wPrev;
    final double[] delta, gamma; // gamma[k] couples k-1 and k; gamma[0] = ||g||_{M^-1}
    private int size;
    private int products;

    PreconditionedLanczos(Backend backend, int dimension, int maxIterations) {
        this.backend = backend;
        this.dimension = dimension;
        t = backend.allocate(dimension);
        y = backend.allocate(dimension);
        bv = backend.allocate(dimension);
        w = backend.allocate(dimension);
        wPrev = backend.allocate(dimension);
        delta = new double[maxIterations];
        gamma = new double[maxIterations + 1];
    }

    private Vector basis(int k) {
        while (v.size() <= k) v.add(backend.allocate(dimension));
        return v.get(k);
    }

    /** Starts from g; returns gamma_0 = ||g||_{M^-1} (0 for a zero gradient). */
    double start(Vector g, Vector a) {
        size = 0;
        products = 0;
        backend.copy(g, t);
        backend.divide(t, a, y);
        double g0 = Math.sqrt(Math.max(0.0, backend.dot(t, y)));
        gamma[0] = g0;
        if (g0 == 0 || !Double.isFinite(g0)) return g0;
        Vector v0 = basis(0);
        backend.copy(y, v0);
        backend.scale(1 / g0, v0);
        backend.copy(t, w);
        backend.scale(1 / g0, w);
        backend.fill(wPrev, 0.0);
        return g0;
    }

    /** One iteration: computes delta_k and gamma_{k+1}; returns false on a non-finite value. */
    boolean step(CurvatureOperator b, Vector a) {
        int k = size;
        Vector vk = basis(k);
        b.apply(vk, bv);
        products++;
        double dk = backend.dot(vk, bv);
        if (!Double.isFinite(dk)) return false;
        delta[k] = dk;
        backend.copy(bv, t);
        backend.axpy(-dk, w, t);
        if (k > 0) backend.axpy(-gamma[k], wPrev, t);
        backend.divide(t, a, y);
        double gk = Math.sqrt(Math.max(0.0, backend.dot(t, y)));
        if (!Double.isFinite(gk)) return false;
        gamma[k + 1] = gk;
        size = k + 1;
        if (gk > 0 && size < delta.length) {
            Vector next = basis(size);
            backend.copy(y, next);
            backend.scale(1 / gk, next);
            Vector swap = wPrev;
            wPrev = w;
            w = swap;
            backend.copy(t, w);
            backend.scale(1 / gk, w);
        }
        return true;
    }

    int size() {
        return size;
    }

    int products() {
        return products;
    }

    double[] diagonal() {
        return java.util.Arrays.copyOf(delta, size);
    }

    double[] offDiagonal() {
        return java.util.Arrays.copyOfRange(gamma, 1, Math.max(1, size));
    }

    /** s = sum_j h_j v_j. */
    void assemble(double[] h, Vector s) {
        backend.fill(s, 0.0);
        for (int j = 0; j < h.length; j++) backend.axpy(h[j], v.get(j), s);
    }

    @Override
    public void close() {
        v.forEach(Vector::close);
        t.close();
        y.close();
        bv.close();
        w.close();
        wPrev.close();
    }
}
