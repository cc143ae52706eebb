// Whole Krylov subproblem solves inside native code (one JNI call per solve), with the curvature
// products computed natively at the network's cached point. The algorithms live in
// krylov_driver.h (shared with the CUDA backend); this file is the CPU engine: the vector work of a
// CG iteration fused into three passes, parallel over the network's thread pool.
#include "internal.h"
#include "../common/krylov_driver.h"

#include <cmath>
#include <cstring>

#define AN_CLONES __attribute__((target_clones("arch=skylake-avx512", "arch=haswell", "default")))

namespace {

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

// The CPU engine of krylov_driver.h: slots are host doubles, fetch is free.
struct CpuEngine {
    an_net* net;
    int curvature;
    long long n;
    double slot[4] = {0, 0, 0, 0};

    int product(const float* v, float* out) { return curvature == 1 ? an_net_gn_cached(net, v, out) : an_net_hvp_cached(net, v, out); }
    void fill(float value, float* x) { an_fill(value, x, n); }
    void copy(const float* x, float* y) { an_copy(x, y, n); }
    void scale_into(float alpha, const float* x, float* y) {
        an::parallel_ranges(net, n, [&](int, long long b, long long e) {
            for (long long i = b; i < e; ++i) y[i] = alpha * x[i];
        });
    }
    void axpby(float alpha, const float* x, float beta, float* y) { par_axpby(net, alpha, x, beta, y, n); }
    void dot(const float* x, const float* y, int s) { slot[s] = par_dot(net, x, y, n); }
    void start_cg(const float* r, const float* a, float* y, float* p, int s) { slot[s] = par_start_cg(net, r, a, y, p, n); }
    void cg_update(float alpha, const float* p, const float* bp, const float* a, float* s, float* r, float* y, int s_ry, int s_rr) {
        par_cg_update(net, alpha, p, bp, a, s, r, y, n, &slot[s_ry], &slot[s_rr]);
    }
    void precondition(const float* t, const float* a, float* y, int s) {
        an_div(t, a, y, n);
        slot[s] = par_dot(net, t, y, n);
    }
    void lanczos_update(const float* bv, int s_delta, const float* w, float gamma, const float* wprev, const float* a, float* t, float* y, int s) {
        slot[s] = par_lanczos_update(net, bv, static_cast<float>(slot[s_delta]), w, gamma, wprev, a, t, y, n);
    }
    void combine(const std::vector<double>& h, const float* basis, float* s) {
        an_fill(0.0f, s, n);
        for (size_t j = 0; j < h.size(); ++j) an_axpy(static_cast<float>(h[j]), basis + static_cast<long long>(j) * n, s, n);
    }
    const double* fetch(int) { return slot; }
};

}  // namespace

extern "C" {

int an_net_steihaug(an_net* net, int curvature, const float* g, const float* a, double delta, int max_iter, double tol, int rule, float* s,
                    float* work, double* result) {
    return an::guarded([&]() -> int {
        if (!net || !g || !a || !s || !work || !result) throw std::invalid_argument("null pointer");
        if (!(delta > 0) || max_iter < 1 || !(tol > 0)) throw std::invalid_argument("invalid Steihaug options");
        CpuEngine e{net, curvature, an_net_param_count(net)};
        return an::steihaug_solve(e, g, a, delta, max_iter, tol, rule, s, work, result);
    });
}

int an_net_lanczos(an_net* net, int curvature, int cubic, const float* g, const float* a, double reg, int max_iter, double tol, int rule,
                   float* s, float* work, double* result) {
    return an::guarded([&]() -> int {
        if (!net || !g || !a || !s || !work || !result) throw std::invalid_argument("null pointer");
        if (!(reg > 0) || max_iter < 1 || !(tol > 0)) throw std::invalid_argument("invalid Lanczos options");
        CpuEngine e{net, curvature, an_net_param_count(net)};
        return an::lanczos_solve(e, cubic, g, a, reg, max_iter, tol, rule, s, work, result);
    });
}

}  // extern "C"
