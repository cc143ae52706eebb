// The Krylov subproblem solves of adanewton, written once over a vector "engine": preconditioned
// Steihaug-Toint CG for the trust region, and preconditioned Lanczos for GLTR and the ARC
// subproblem. The CPU engine (krylov.cpp) runs the vector passes on the network's thread pool; the
// CUDA engine (native/cuda/network.cu) launches them on the device's stream. The algorithms
// are those of java/org/adanewton/subproblem/{SteihaugCg, LanczosSolver, PreconditionedLanczos}.java.
//
// Reductions go into numbered slots that stay with the engine (on the device for CUDA); fetch(k)
// brings slots 0..k-1 to the host. fetch is the only place where the host waits for the vector
// work, so the number of host synchronizations is visible here:
//   Steihaug: 1 per solve + 2 per CG iteration (p'Bp decides the boundary test; r'y and r'r decide
//             convergence and beta);
//   Lanczos:  1 per solve + 1 per iteration (delta_k = v'Bv stays in its slot for the
//             three-term recurrence; delta_k and t'y come back together for the tridiagonal solve).
//
// An engine E provides (n floats per vector; all reductions in double):
//   long long n;
//   int product(const float* v, float* out);           curvature product, returns an AN_ status
//   void fill(float value, float* x);  void copy(const float* x, float* y);
//   void scale_into(float alpha, const float* x, float* y);       y = alpha x
//   void axpby(float alpha, const float* x, float beta, float* y); y = alpha x + beta y
//   void dot(const float* x, const float* y, int slot);           slot = x'y
//   void start_cg(const float* r, const float* a, float* y, float* p, int slot);
//        y = r / a; p = -y; slot = r'y
//   void cg_update(float alpha, const float* p, const float* bp, const float* a, float* s, float* r,
//                  float* y, int slot_ry, int slot_rr);
//        s += alpha p; r += alpha bp; y = r / a; slot_ry = r'y; slot_rr = r'r
//   void precondition(const float* t, const float* a, float* y, int slot);  y = t / a; slot = t'y
//   void lanczos_update(const float* bv, int slot_delta, const float* w, float gamma,
//                       const float* wprev, const float* a, float* t, float* y, int slot);
//        t = bv - (float) slot_delta * w - gamma wprev; y = t / a; slot = t'y
//   void combine(const std::vector<double>& h, const float* basis, float* s);
//        s = sum_j h_j basis_j (basis_j = basis + j n)
//   const double* fetch(int count);                   slots 0..count-1 on the host
//   static constexpr bool synchronous_products;       whether product() returns with the product done
//                                                     (then the driver times the products: result[6])
#ifndef ADANEWTON_KRYLOV_DRIVER_H
#define ADANEWTON_KRYLOV_DRIVER_H

#include "adanewton.h"
#include "tridiagonal.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <utility>
#include <vector>

namespace an {

enum { EXIT_CONVERGED = 0, EXIT_BOUNDARY = 1, EXIT_NEGATIVE_CURVATURE = 2, EXIT_MAX_ITERATIONS = 3, EXIT_ZERO_GRADIENT = 4, EXIT_NON_FINITE = 5 };

// result[AN_SOLVE_RESULT] = {model decrease, ||s||_A, iterations, products, exit, lambda, product seconds}
inline void put_result(double* result, double decrease, double norm, int iterations, int products, int exit, double lambda) {
    result[0] = decrease;
    result[1] = norm;
    result[2] = iterations;
    result[3] = products;
    result[4] = exit;
    result[5] = lambda;
}

// The engine's products, timed (host wall time) where they are synchronous; the seconds go to
// result[6] when the solve ends, NaN for an engine whose products are queued (a device's).
template <class E>
struct TimedProducts {
    E& e;
    double* result;
    double seconds = 0;
    TimedProducts(E& engine, double* r) : e(engine), result(r) {}
    int operator()(const float* v, float* out) {
        if (!E::synchronous_products) return e.product(v, out);
        const auto t0 = std::chrono::steady_clock::now();
        const int st = e.product(v, out);
        seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        return st;
    }
    ~TimedProducts() { result[6] = E::synchronous_products ? seconds : NAN; }
};

// The tau >= 0 with ||s + tau p||_M = delta, from ss = s'Ms, sp = s'Mp, pp = p'Mp (no cancellation).
inline double boundary_root(double ss, double sp, double pp, double delta2) {
    const double disc = std::sqrt(std::max(0.0, sp * sp + pp * (delta2 - ss)));
    return sp >= 0 ? std::max(0.0, delta2 - ss) / (sp + disc) : (-sp + disc) / pp;
}

// max(x, 0) that keeps a NaN (std::max(0.0, NaN) is 0: a NaN gradient would pass for a zero one)
inline double nonnegative(double x) { return x < 0 ? 0.0 : x; }

// Steihaug-Toint CG in the metric M = diag(a), radius delta; work: 4 n floats.
template <class E>
int steihaug_solve(E& e, const float* g, const float* a, double delta, int max_iter, double tol, int rule, float* s, float* work,
                   double* result) {
    const long long n = e.n;
    TimedProducts<E> product(e, result);
    float *r = work, *y = work + n, *p = work + 2 * n, *bp = work + 3 * n;
    e.fill(0.0f, s);
    e.copy(g, r);
    e.dot(g, g, 0);
    e.start_cg(r, a, y, p, 1);
    const double* h = e.fetch(2);
    const double gnorm = std::sqrt(h[0]);
    double ry = h[1];
    if (gnorm == 0) {
        put_result(result, 0, 0, 0, 0, EXIT_ZERO_GRADIENT, 0);
        return AN_OK;
    }
    if (!std::isfinite(gnorm)) {
        put_result(result, NAN, 0, 0, 0, EXIT_NON_FINITE, 0);
        return AN_OK;
    }
    const double eta = std::min(std::sqrt(gnorm), tol), delta2 = delta * delta;
    double ss = 0, sp = 0, pp = ry, m = 0;
    for (int k = 0; k < max_iter; ++k) {
        const int st = product(p, bp);
        if (st != AN_OK) return st;
        e.dot(p, bp, 0);
        const double kappa = e.fetch(1)[0];
        if (!std::isfinite(kappa)) {
            put_result(result, NAN, std::sqrt(ss), k, k + 1, EXIT_NON_FINITE, 0);
            return AN_OK;
        }
        const double alpha = ry / kappa;
        if (kappa <= 0 || ss + 2 * alpha * sp + alpha * alpha * pp >= delta2) {
            const double tau = boundary_root(ss, sp, pp, delta2);
            e.axpby(static_cast<float>(tau), p, 1.0f, s);
            m += -tau * ry + 0.5 * tau * tau * kappa;
            put_result(result, -m, delta, k + 1, k + 1, kappa <= 0 ? EXIT_NEGATIVE_CURVATURE : EXIT_BOUNDARY, 0);
            return AN_OK;
        }
        e.cg_update(static_cast<float>(alpha), p, bp, a, s, r, y, 0, 1);
        const double* u = e.fetch(2);
        const double ryNext = u[0], rr = u[1];
        const double decrease = 0.5 * alpha * ry;
        m -= decrease;
        ss += 2 * alpha * sp + alpha * alpha * pp;
        const bool done = rule == 0 ? std::sqrt(rr) <= eta * gnorm : decrease <= eta * std::fabs(m);
        if (done) {
            put_result(result, -m, std::sqrt(ss), k + 1, k + 1, EXIT_CONVERGED, 0);
            return AN_OK;
        }
        const double beta = ryNext / ry;
        e.axpby(-1.0f, y, static_cast<float>(beta), p);
        sp = beta * (sp + alpha * pp);
        pp = ryNext + beta * beta * pp;
        ry = ryNext;
    }
    put_result(result, -m, std::sqrt(ss), max_iter, max_iter, EXIT_MAX_ITERATIONS, 0);
    return AN_OK;
}

// Preconditioned Lanczos: GLTR (cubic = 0, reg = radius) or ARC (cubic = 1, reg = sigma);
// work: (5 + max_iter) n floats (the Lanczos vectors are kept for the step s = V h).
template <class E>
int lanczos_solve(E& e, int cubic, const float* g, const float* a, double reg, int max_iter, double tol, int rule, float* s, float* work,
                  double* result) {
    const long long n = e.n;
    TimedProducts<E> product(e, result);
    float *t = work, *y = work + n, *bv = work + 2 * n, *w = work + 3 * n, *wprev = work + 4 * n, *basis = work + 5 * n;
    auto v = [&](int j) { return basis + static_cast<long long>(j) * n; };
    e.copy(g, t);
    e.precondition(t, a, y, 0);
    e.dot(g, g, 1);
    const double* h0 = e.fetch(2);
    const double g0 = std::sqrt(nonnegative(h0[0])), gnorm = std::sqrt(h0[1]);
    if (g0 == 0) {
        e.fill(0.0f, s);
        put_result(result, 0, 0, 0, 0, EXIT_ZERO_GRADIENT, 0);
        return AN_OK;
    }
    if (!std::isfinite(g0)) {
        put_result(result, NAN, 0, 0, 0, EXIT_NON_FINITE, 0);
        return AN_OK;
    }
    const double eta = std::min(std::sqrt(gnorm), tol);
    e.scale_into(static_cast<float>(1 / g0), y, v(0));
    e.scale_into(static_cast<float>(1 / g0), t, w);
    e.fill(0.0f, wprev);
    std::vector<double> diag, gamma{g0};
    TriSolution sol;
    bool have = false;
    int exit = EXIT_MAX_ITERATIONS, products = 0;
    double previous = 0;
    for (int k = 0; k < max_iter; ++k) {
        const int st = product(v(k), bv);
        if (st != AN_OK) return st;
        ++products;
        e.dot(v(k), bv, 0);
        e.lanczos_update(bv, 0, w, static_cast<float>(k > 0 ? gamma[k] : 0.0), wprev, a, t, y, 1);
        const double* u = e.fetch(2);
        const double dk = u[0], gk = std::sqrt(nonnegative(u[1]));
        if (!std::isfinite(dk) || !std::isfinite(gk)) {
            exit = EXIT_NON_FINITE;
            break;
        }
        diag.push_back(dk);
        gamma.push_back(gk);
        const int size = k + 1;
        std::vector<double> c(size, 0.0), off(gamma.begin() + 1, gamma.begin() + std::max(1, size));
        c[0] = g0;
        sol = Tridiagonal::solve(diag, off, c, cubic ? 0.0 : reg, cubic ? reg : 0.0);
        have = true;
        const double residual = gk * std::fabs(sol.h[size - 1]);
        const bool done = rule == 0 ? residual <= eta * g0 : std::fabs(previous - sol.model) <= eta * std::fabs(sol.model);
        previous = sol.model;
        if (done || gk == 0) {
            exit = EXIT_CONVERGED;
            break;
        }
        if (size < max_iter) {
            e.scale_into(static_cast<float>(1 / gk), y, v(size));
            std::swap(w, wprev);
            e.scale_into(static_cast<float>(1 / gk), t, w);
        }
    }
    if (!have) {
        put_result(result, NAN, 0, 0, products, EXIT_NON_FINITE, 0);
        return AN_OK;
    }
    e.combine(sol.h, basis, s);
    const double norm = Tridiagonal::norm(sol.h);
    if (exit == EXIT_CONVERGED && !cubic && norm >= reg * (1 - 1e-8)) exit = EXIT_BOUNDARY;
    put_result(result, exit == EXIT_NON_FINITE ? NAN : -sol.model, norm, static_cast<int>(diag.size()), products, exit, sol.mu);
    return AN_OK;
}

}  // namespace an

#endif
