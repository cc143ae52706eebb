// Vector operations for Krylov loops: float32 storage, double accumulation in reductions.
// Single-threaded SIMD loops (one core saturates memory bandwidth for these streaming kernels
// at the sizes a CG loop sees; see README "Performance notes").
#include "internal.h"

#include <cmath>
#include <cstring>

#define AN_CLONES __attribute__((target_clones("arch=skylake-avx512", "arch=haswell", "default")))

namespace {
constexpr int LANES = 8;  // independent double accumulators: lets the reduction vectorize
}

extern "C" {

AN_CLONES double an_dot(const float* x, const float* y, long long n) {
    double acc[LANES] = {0, 0, 0, 0, 0, 0, 0, 0};
    long long i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int j = 0; j < LANES; ++j) acc[j] += static_cast<double>(x[i + j]) * y[i + j];
    double s = 0;
    for (; i < n; ++i) s += static_cast<double>(x[i]) * y[i];
    for (int j = 0; j < LANES; ++j) s += acc[j];
    return s;
}

double an_nrm2(const float* x, long long n) { return std::sqrt(an_dot(x, x, n)); }

AN_CLONES double an_weighted_nrm2(const float* a, const float* x, long long n) {
    double acc[LANES] = {0, 0, 0, 0, 0, 0, 0, 0};
    long long i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int j = 0; j < LANES; ++j) {
            const double xv = x[i + j];
            acc[j] += static_cast<double>(a[i + j]) * xv * xv;
        }
    double s = 0;
    for (; i < n; ++i) s += static_cast<double>(a[i]) * x[i] * x[i];
    for (int j = 0; j < LANES; ++j) s += acc[j];
    return std::sqrt(s);
}

AN_CLONES void an_axpy(float alpha, const float* x, float* y, long long n) {
    for (long long i = 0; i < n; ++i) y[i] += alpha * x[i];
}

AN_CLONES void an_axpby(float alpha, const float* x, float beta, float* y, long long n) {
    for (long long i = 0; i < n; ++i) y[i] = alpha * x[i] + beta * y[i];
}

AN_CLONES void an_scal(float alpha, float* x, long long n) {
    for (long long i = 0; i < n; ++i) x[i] *= alpha;
}

void an_copy(const float* x, float* y, long long n) {
    if (x != y) std::memmove(y, x, sizeof(float) * static_cast<size_t>(n));
}

AN_CLONES void an_fill(float value, float* x, long long n) {
    for (long long i = 0; i < n; ++i) x[i] = value;
}

AN_CLONES void an_mul(const float* x, const float* y, float* out, long long n) {
    for (long long i = 0; i < n; ++i) out[i] = x[i] * y[i];
}

AN_CLONES void an_div(const float* x, const float* y, float* out, long long n) {
    for (long long i = 0; i < n; ++i) out[i] = x[i] / y[i];
}

AN_CLONES void an_accumulate_squares(float decay, float weight, const float* g, float* v, long long n) {
    for (long long i = 0; i < n; ++i) v[i] = decay * v[i] + weight * g[i] * g[i];
}

AN_CLONES void an_root_metric(const float* v, float scale, float eps, float lo, float hi, float* out, long long n) {
    for (long long i = 0; i < n; ++i) {
        const float m = std::sqrt(scale * v[i]) + eps;
        // written so that NaN (all comparisons false) ends at hi
        out[i] = m >= lo ? (m <= hi ? m : hi) : (m < lo ? lo : hi);
    }
}

long long an_count_nonfinite(const float* x, long long n, long long* first) {
    long long count = 0, where = -1;
    for (long long i = 0; i < n; ++i) {
        if (!std::isfinite(x[i])) {
            if (where < 0) where = i;
            ++count;
        }
    }
    if (first != nullptr) *first = where;
    return count;
}

}  // extern "C"
