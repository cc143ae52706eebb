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

// Parallel (over a pool) versions of the passes; reductions summed in thread order.
constexpr int MAX_RANGES = 256;  // the CPU backend allows at most 256 threads

// Where the vector passes run: a network's thread pool, or a pool of the caller's own (an_pool).
struct NetRanges {
    an_net* net;
    int operator()(long long n, const std::function<void(int, long long, long long)>& f) const { return an::parallel_ranges(net, n, f); }
};
struct PoolRanges {
    an::Pool* pool;
    int operator()(long long n, const std::function<void(int, long long, long long)>& f) const { return an::parallel_ranges(*pool, n, f); }
};

template <class R>
double par_dot(const R& ranges, const float* x, const float* y, long long n) {
    double part[MAX_RANGES] = {0};
    const int used = ranges(n, [&](int t, long long b, long long e) { part[t] = an_dot(x + b, y + b, e - b); });
    double s = 0;
    for (int t = 0; t < used; ++t) s += part[t];
    return s;
}

template <class R>
double par_start_cg(const R& ranges, const float* r, const float* a, float* y, float* p, long long n) {
    double part[MAX_RANGES] = {0};
    const int used = ranges(n, [&](int t, long long b, long long e) { part[t] = start_cg(r + b, a + b, y + b, p + b, e - b); });
    double s = 0;
    for (int t = 0; t < used; ++t) s += part[t];
    return s;
}

template <class R>
void par_cg_update(const R& ranges, float alpha, const float* p, const float* bp, const float* a, float* s, float* r, float* y, long long n,
                   double* ry, double* rr) {
    double p1[MAX_RANGES] = {0}, p2[MAX_RANGES] = {0};
    const int used = ranges(n, [&](int t, long long b, long long e) {
        cg_update(alpha, p + b, bp + b, a + b, s + b, r + b, y + b, e - b, &p1[t], &p2[t]);
    });
    *ry = 0;
    *rr = 0;
    for (int t = 0; t < used; ++t) {
        *ry += p1[t];
        *rr += p2[t];
    }
}

template <class R>
void par_axpby(const R& ranges, float alpha, const float* x, float beta, float* y, long long n) {
    ranges(n, [&](int, long long b, long long e) { an_axpby(alpha, x + b, beta, y + b, e - b); });
}

template <class R>
double par_lanczos_update(const R& ranges, const float* bv, float delta, const float* w, float gamma, const float* wprev, const float* a, float* t,
                          float* y, long long n) {
    double part[MAX_RANGES] = {0};
    const int used = ranges(n, [&](int th, long long b, long long e) {
        part[th] = lanczos_update(bv + b, delta, w + b, gamma, wprev + b, a + b, t + b, y + b, e - b);
    });
    double s = 0;
    for (int th = 0; th < used; ++th) s += part[th];
    return s;
}

// The CPU engine of krylov_driver.h: slots are host doubles, fetch is free.
// The Krylov engine of krylov_driver.h on the CPU: vector passes on R's threads, products by P
// (P::operator()(v, out) returns an AN_ status).
template <class R, class P>
struct CpuEngine {
    R ranges;
    P product;
    long long n;
    double slot[4] = {0, 0, 0, 0};
    static constexpr bool synchronous_products = true;

    void fill(float value, float* x) { an_fill(value, x, n); }
    void copy(const float* x, float* y) { an_copy(x, y, n); }
    void scale_into(float alpha, const float* x, float* y) {
        ranges(n, [&](int, long long b, long long e) {
            for (long long i = b; i < e; ++i) y[i] = alpha * x[i];
        });
    }
    void axpby(float alpha, const float* x, float beta, float* y) { par_axpby(ranges, alpha, x, beta, y, n); }
    void dot(const float* x, const float* y, int s) { slot[s] = par_dot(ranges, x, y, n); }
    void start_cg(const float* r, const float* a, float* y, float* p, int s) { slot[s] = par_start_cg(ranges, r, a, y, p, n); }
    void cg_update(float alpha, const float* p, const float* bp, const float* a, float* s, float* r, float* y, int s_ry, int s_rr) {
        par_cg_update(ranges, alpha, p, bp, a, s, r, y, n, &slot[s_ry], &slot[s_rr]);
    }
    void precondition(const float* t, const float* a, float* y, int s) {
        an_div(t, a, y, n);
        slot[s] = par_dot(ranges, t, y, n);
    }
    void lanczos_update(const float* bv, int s_delta, const float* w, float gamma, const float* wprev, const float* a, float* t, float* y, int s) {
        slot[s] = par_lanczos_update(ranges, bv, static_cast<float>(slot[s_delta]), w, gamma, wprev, a, t, y, n);
    }
    void combine(const std::vector<double>& h, const float* basis, float* s) {
        an_fill(0.0f, s, n);
        for (size_t j = 0; j < h.size(); ++j) an_axpy(static_cast<float>(h[j]), basis + static_cast<long long>(j) * n, s, n);
    }
    const double* fetch(int) { return slot; }
};

// The cached curvature of a network (0 Hessian, 1 Gauss-Newton).
struct NetProduct {
    an_net* net;
    int curvature;
    int operator()(const float* v, float* out) const { return curvature == 1 ? an_net_gn_cached(net, v, out) : an_net_hvp_cached(net, v, out); }
};

// A caller's product through a C function pointer (a Java callback), with the vectors' addresses.
struct CallbackProduct {
    an_product_fn fn;
    int operator()(const float* v, float* out) const {
        const int st = fn(reinterpret_cast<long long>(v), reinterpret_cast<long long>(out));
        return st == AN_OK ? st : an::fail(st, "the caller's curvature product failed");
    }
};

using NetEngine = CpuEngine<NetRanges, NetProduct>;
using PoolEngine = CpuEngine<PoolRanges, CallbackProduct>;

}  // namespace

struct an_pool {
    an::Pool pool;
    explicit an_pool(int threads) : pool(threads) {}
};

extern "C" {

an_pool* an_pool_create(int threads) {
    an_pool* result = nullptr;
    an::guarded([&] {
        if (threads < 1 || threads > MAX_RANGES) throw std::invalid_argument("threads must be in [1, 256]");
        result = new an_pool(threads);
        return AN_OK;
    });
    return result;
}

void an_pool_destroy(an_pool* pool) { delete pool; }

int an_pool_steihaug(an_pool* pool, long long n, an_product_fn product, const float* g, const float* a, double delta, int max_iter, double tol,
                     int rule, float* s, float* work, double* result) {
    return an::guarded([&]() -> int {
        if (!pool || !product || !g || !a || !s || !work || !result) throw std::invalid_argument("null pointer");
        if (n < 1 || !(delta > 0) || max_iter < 1 || !(tol > 0)) throw std::invalid_argument("invalid Steihaug options");
        PoolEngine e{{&pool->pool}, {product}, n};
        return an::steihaug_solve(e, g, a, delta, max_iter, tol, rule, s, work, result);
    });
}

int an_pool_lanczos(an_pool* pool, long long n, an_product_fn product, int cubic, const float* g, const float* a, double reg, int max_iter,
                    double tol, int rule, float* s, float* work, double* result) {
    return an::guarded([&]() -> int {
        if (!pool || !product || !g || !a || !s || !work || !result) throw std::invalid_argument("null pointer");
        if (n < 1 || !(reg > 0) || max_iter < 1 || !(tol > 0)) throw std::invalid_argument("invalid Lanczos options");
        PoolEngine e{{&pool->pool}, {product}, n};
        return an::lanczos_solve(e, cubic, g, a, reg, max_iter, tol, rule, s, work, result);
    });
}

int an_net_steihaug(an_net* net, int curvature, const float* g, const float* a, double delta, int max_iter, double tol, int rule, float* s,
                    float* work, double* result) {
    return an::guarded([&]() -> int {
        if (!net || !g || !a || !s || !work || !result) throw std::invalid_argument("null pointer");
        if (!(delta > 0) || max_iter < 1 || !(tol > 0)) throw std::invalid_argument("invalid Steihaug options");
        NetEngine e{{net}, {net, curvature}, an_net_param_count(net)};
        return an::steihaug_solve(e, g, a, delta, max_iter, tol, rule, s, work, result);
    });
}

int an_net_lanczos(an_net* net, int curvature, int cubic, const float* g, const float* a, double reg, int max_iter, double tol, int rule,
                   float* s, float* work, double* result) {
    return an::guarded([&]() -> int {
        if (!net || !g || !a || !s || !work || !result) throw std::invalid_argument("null pointer");
        if (!(reg > 0) || max_iter < 1 || !(tol > 0)) throw std::invalid_argument("invalid Lanczos options");
        NetEngine e{{net}, {net, curvature}, an_net_param_count(net)};
        return an::lanczos_solve(e, cubic, g, a, reg, max_iter, tol, rule, s, work, result);
    });
}

}  // extern "C"
