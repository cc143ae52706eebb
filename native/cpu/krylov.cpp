// Whole Krylov subproblem solves inside native code (one JNI call per solve), with the curvature
// products computed natively at the network's cached point: preconditioned Steihaug-Toint CG and
// preconditioned Lanczos for GLTR / the ARC subproblem. The same algorithms as
// java/org/adanewton/subproblem/{SteihaugCg, LanczosSolver, PreconditionedLanczos}.java; the vector
// work of a CG iteration is fused into three passes.
#include "internal.h"
#include "tridiagonal.h"

#include <cmath>
#include <cstring>

#define AN_CLONES __attribute__((target_clones("arch=skylake-avx512", "arch=haswell", "default")))

namespace {

enum { EXIT_CONVERGED = 0, EXIT_BOUNDARY = 1, EXIT_NEGATIVE_CURVATURE = 2, EXIT_MAX_ITERATIONS = 3, EXIT_ZERO_GRADIENT = 4, EXIT_NON_FINITE = 5 };

// y = r / a; p = -y; returns r'y
AN_CLONES double start_cg(const float* r, const float* a, float* y, float* p, long long n) {
    double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    long long i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; ++j) {
            const float yv = r[i + j] / a[i + j];
            y[i + j] = yv;
            p[i + j] = -yv;
            acc[j] += static_cast<double>(r[i + j]) * yv;
        }
    double sum = 0;
    for (; i < n; ++i) {
        const float yv = r[i] / a[i];
        y[i] = yv;
        p[i] = -yv;
        sum += static_cast<double>(r[i]) * yv;
    }
    for (double v : acc) sum += v;
    return sum;
}

// s += alpha p; r += alpha bp; y = r / a; returns {r'y, r'r}
AN_CLONES void cg_update(float alpha, const float* p, const float* bp, const float* a, float* s, float* r, float* y, long long n, double* ry, double* rr) {
    double acc1[8] = {0, 0, 0, 0, 0, 0, 0, 0}, acc2[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    long long i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; ++j) {
            s[i + j] += alpha * p[i + j];
            const float rv = r[i + j] + alpha * bp[i + j];
            r[i + j] = rv;
            const float yv = rv / a[i + j];
            y[i + j] = yv;
            acc1[j] += static_cast<double>(rv) * yv;
            acc2[j] += static_cast<double>(rv) * rv;
        }
    double s1 = 0, s2 = 0;
    for (; i < n; ++i) {
        s[i] += alpha * p[i];
        const float rv = r[i] + alpha * bp[i];
        r[i] = rv;
        const float yv = rv / a[i];
        y[i] = yv;
        s1 += static_cast<double>(rv) * yv;
        s2 += static_cast<double>(rv) * rv;
    }
    for (int j = 0; j < 8; ++j) {
        s1 += acc1[j];
        s2 += acc2[j];
    }
    *ry = s1;
    *rr = s2;
}

// t = bv - delta w - gamma wprev; y = t / a; returns t'y
AN_CLONES double lanczos_update(const float* bv, float delta, const float* w, float gamma, const float* wprev, const float* a, float* t, float* y,
                                long long n) {
    double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    long long i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; ++j) {
            const float tv = bv[i + j] - delta * w[i + j] - gamma * wprev[i + j];
            t[i + j] = tv;
            const float yv = tv / a[i + j];
            y[i + j] = yv;
            acc[j] += static_cast<double>(tv) * yv;
        }
    double sum = 0;
    for (; i < n; ++i) {
        const float tv = bv[i] - delta * w[i] - gamma * wprev[i];
        t[i] = tv;
        const float yv = tv / a[i];
        y[i] = yv;
        sum += static_cast<double>(tv) * yv;
    }
    for (double v : acc) sum += v;
    return sum;
}

// Parallel (over the network's pool) versions of the passes; reductions summed in thread order.
constexpr int MAX_RANGES = 256;  // the CPU backend allows at most 256 threads

double par_dot(an_net* net, const float* x, const float* y, long long n) {
    double part[MAX_RANGES] = {0};
    const int used = an::parallel_ranges(net, n, [&](int t, long long b, long long e) { part[t] = an_dot(x + b, y + b, e - b); });
    double s = 0;
    for (int t = 0; t < used; ++t) s += part[t];
    return s;
}

double par_start_cg(an_net* net, const float* r, const float* a, float* y, float* p, long long n) {
    double part[MAX_RANGES] = {0};
    const int used = an::parallel_ranges(net, n, [&](int t, long long b, long long e) { part[t] = start_cg(r + b, a + b, y + b, p + b, e - b); });
    double s = 0;
    for (int t = 0; t < used; ++t) s += part[t];
    return s;
}

void par_cg_update(an_net* net, float alpha, const float* p, const float* bp, const float* a, float* s, float* r, float* y, long long n,
                   double* ry, double* rr) {
    double p1[MAX_RANGES] = {0}, p2[MAX_RANGES] = {0};
    const int used = an::parallel_ranges(net, n, [&](int t, long long b, long long e) {
        cg_update(alpha, p + b, bp + b, a + b, s + b, r + b, y + b, e - b, &p1[t], &p2[t]);
    });
    *ry = 0;
    *rr = 0;
    for (int t = 0; t < used; ++t) {
        *ry += p1[t];
        *rr += p2[t];
    }
}

void par_axpby(an_net* net, float alpha, const float* x, float beta, float* y, long long n) {
    an::parallel_ranges(net, n, [&](int, long long b, long long e) { an_axpby(alpha, x + b, beta, y + b, e - b); });
}

double par_lanczos_update(an_net* net, const float* bv, float delta, const float* w, float gamma, const float* wprev, const float* a, float* t,
                          float* y, long long n) {
    double part[MAX_RANGES] = {0};
    const int used = an::parallel_ranges(net, n, [&](int th, long long b, long long e) {
        part[th] = lanczos_update(bv + b, delta, w + b, gamma, wprev + b, a + b, t + b, y + b, e - b);
    });
    double s = 0;
    for (int th = 0; th < used; ++th) s += part[th];
    return s;
}

int product(an_net* net, int curvature, const float* v, float* out) {
    return curvature == 1 ? an_net_gn_cached(net, v, out) : an_net_hvp_cached(net, v, out);
}

void put(double* result, double decrease, double norm, int iterations, int products, int exit, double lambda) {
    result[0] = decrease;
    result[1] = norm;
    result[2] = iterations;
    result[3] = products;
    result[4] = exit;
    result[5] = lambda;
}

double boundary_root(double ss, double sp, double pp, double delta2) {
    const double disc = std::sqrt(std::max(0.0, sp * sp + pp * (delta2 - ss)));
    return sp >= 0 ? std::max(0.0, delta2 - ss) / (sp + disc) : (-sp + disc) / pp;
}

}  // namespace

extern "C" {

int an_net_steihaug(an_net* net, int curvature, const float* g, const float* a, double delta, int max_iter, double tol, int rule, float* s,
                    float* work, double* result) {
    return an::guarded([&]() -> int {
        if (!net || !g || !a || !s || !work || !result) throw std::invalid_argument("null pointer");
        if (!(delta > 0) || max_iter < 1 || !(tol > 0)) throw std::invalid_argument("invalid Steihaug options");
        const long long n = an_net_param_count(net);
        float *r = work, *y = work + n, *p = work + 2 * n, *bp = work + 3 * n;
        an_fill(0.0f, s, n);
        const double gnorm = an_nrm2(g, n);
        if (gnorm == 0) {
            put(result, 0, 0, 0, 0, EXIT_ZERO_GRADIENT, 0);
            return AN_OK;
        }
        if (!std::isfinite(gnorm)) {
            put(result, NAN, 0, 0, 0, EXIT_NON_FINITE, 0);
            return AN_OK;
        }
        const double eta = std::min(std::sqrt(gnorm), tol), delta2 = delta * delta;
        an_copy(g, r, n);
        double ry = par_start_cg(net, r, a, y, p, n);
        double ss = 0, sp = 0, pp = ry, m = 0;
        for (int k = 0; k < max_iter; ++k) {
            const int st = product(net, curvature, p, bp);
            if (st != AN_OK) return st;
            const double kappa = par_dot(net, p, bp, n);
            if (!std::isfinite(kappa)) {
                put(result, NAN, std::sqrt(ss), k, k + 1, EXIT_NON_FINITE, 0);
                return AN_OK;
            }
            const double alpha = ry / kappa;
            if (kappa <= 0 || ss + 2 * alpha * sp + alpha * alpha * pp >= delta2) {
                const double tau = boundary_root(ss, sp, pp, delta2);
                an_axpy(static_cast<float>(tau), p, s, n);
                m += -tau * ry + 0.5 * tau * tau * kappa;
                put(result, -m, delta, k + 1, k + 1, kappa <= 0 ? EXIT_NEGATIVE_CURVATURE : EXIT_BOUNDARY, 0);
                return AN_OK;
            }
            double ryNext = 0, rr = 0;
            par_cg_update(net, static_cast<float>(alpha), p, bp, a, s, r, y, n, &ryNext, &rr);
            const double decrease = 0.5 * alpha * ry;
            m -= decrease;
            ss += 2 * alpha * sp + alpha * alpha * pp;
            const bool done = rule == 0 ? std::sqrt(rr) <= eta * gnorm : decrease <= eta * std::fabs(m);
            if (done) {
                put(result, -m, std::sqrt(ss), k + 1, k + 1, EXIT_CONVERGED, 0);
                return AN_OK;
            }
            const double beta = ryNext / ry;
            par_axpby(net, -1.0f, y, static_cast<float>(beta), p, n);
            sp = beta * (sp + alpha * pp);
            pp = ryNext + beta * beta * pp;
            ry = ryNext;
        }
        put(result, -m, std::sqrt(ss), max_iter, max_iter, EXIT_MAX_ITERATIONS, 0);
        return AN_OK;
    });
}

int an_net_lanczos(an_net* net, int curvature, int cubic, const float* g, const float* a, double reg, int max_iter, double tol, int rule,
                   float* s, float* work, double* result) {
    return an::guarded([&]() -> int {
        if (!net || !g || !a || !s || !work || !result) throw std::invalid_argument("null pointer");
        if (!(reg > 0) || max_iter < 1 || !(tol > 0)) throw std::invalid_argument("invalid Lanczos options");
        const long long n = an_net_param_count(net);
        float *t = work, *y = work + n, *bv = work + 2 * n, *w = work + 3 * n, *wprev = work + 4 * n, *basis = work + 5 * n;
        auto v = [&](int j) { return basis + static_cast<size_t>(j) * n; };
        an_copy(g, t, n);
        an_div(t, a, y, n);
        const double g0 = std::sqrt(std::max(0.0, an_dot(t, y, n)));
        if (g0 == 0) {
            an_fill(0.0f, s, n);
            put(result, 0, 0, 0, 0, EXIT_ZERO_GRADIENT, 0);
            return AN_OK;
        }
        if (!std::isfinite(g0)) {
            put(result, NAN, 0, 0, 0, EXIT_NON_FINITE, 0);
            return AN_OK;
        }
        const double eta = std::min(std::sqrt(an_nrm2(g, n)), tol);
        an_copy(y, v(0), n);
        an_scal(static_cast<float>(1 / g0), v(0), n);
        an_copy(t, w, n);
        an_scal(static_cast<float>(1 / g0), w, n);
        an_fill(0.0f, wprev, n);
        std::vector<double> diag, gamma{g0};
        an::TriSolution sol;
        bool have = false;
        int exit = EXIT_MAX_ITERATIONS, products = 0;
        double previous = 0;
        for (int k = 0; k < max_iter; ++k) {
            const int st = product(net, curvature, v(k), bv);
            if (st != AN_OK) return st;
            ++products;
            const double dk = par_dot(net, v(k), bv, n);
            if (!std::isfinite(dk)) {
                exit = EXIT_NON_FINITE;
                break;
            }
            const double tt = par_lanczos_update(net, bv, static_cast<float>(dk), w, static_cast<float>(k > 0 ? gamma[k] : 0.0), wprev, a, t, y, n);
            const double gk = std::sqrt(std::max(0.0, tt));
            if (!std::isfinite(gk)) {
                exit = EXIT_NON_FINITE;
                break;
            }
            diag.push_back(dk);
            gamma.push_back(gk);
            const int size = k + 1;
            std::vector<double> c(size, 0.0), off(gamma.begin() + 1, gamma.begin() + std::max(1, size));
            c[0] = g0;
            sol = an::Tridiagonal::solve(diag, off, c, cubic ? 0.0 : reg, cubic ? reg : 0.0);
            have = true;
            const double residual = gk * std::fabs(sol.h[size - 1]);
            const bool done = rule == 0 ? residual <= eta * g0 : std::fabs(previous - sol.model) <= eta * std::fabs(sol.model);
            previous = sol.model;
            if (done || gk == 0) {
                exit = EXIT_CONVERGED;
                break;
            }
            if (size < max_iter) {
                an_copy(y, v(size), n);
                an_scal(static_cast<float>(1 / gk), v(size), n);
                std::swap(w, wprev);
                an_copy(t, w, n);
                an_scal(static_cast<float>(1 / gk), w, n);
            }
        }
        if (!have) {
            put(result, NAN, 0, 0, products, EXIT_NON_FINITE, 0);
            return AN_OK;
        }
        an_fill(0.0f, s, n);
        for (size_t j = 0; j < sol.h.size(); ++j) an_axpy(static_cast<float>(sol.h[j]), v(static_cast<int>(j)), s, n);
        const double norm = an::Tridiagonal::norm(sol.h);
        if (exit == EXIT_CONVERGED && !cubic && norm >= reg * (1 - 1e-8)) exit = EXIT_BOUNDARY;
        put(result, exit == EXIT_NON_FINITE ? NAN : -sol.model, norm, static_cast<int>(diag.size()), products, exit, sol.mu);
        return AN_OK;
    });
}

}  // extern "C"
