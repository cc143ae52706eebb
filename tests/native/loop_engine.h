// A reference engine for native/common/krylov_driver.h: plain loops over host floats with double
// accumulation, any product. It behaves like the CUDA engine: reductions land in "device" slots
// and the driver sees them only through fetch, which copies them to a separate host array and
// counts the waits; a driver that read a scalar without fetching it would see a stale value.
// Used by tests/native (a dense matrix) and tests/cuda-emulation (the emulated device network).
#ifndef ADANEWTON_LOOP_ENGINE_H
#define ADANEWTON_LOOP_ENGINE_H

#include <cmath>
#include <functional>
#include <vector>

#include "adanewton.h"

struct LoopEngine {
    long long n;
    std::function<int(const float*, float*)> apply;  // the curvature product
    double device[4] = {0, 0, 0, 0}, host[4] = {NAN, NAN, NAN, NAN};
    static constexpr bool synchronous_products = true;
    int fetches = 0, products = 0;

    int product(const float* v, float* out) {
        ++products;
        return apply(v, out);
    }
    void fill(float value, float* x) {
        for (long long i = 0; i < n; ++i) x[i] = value;
    }
    void copy(const float* x, float* y) {
        for (long long i = 0; i < n; ++i) y[i] = x[i];
    }
    void scale_into(float alpha, const float* x, float* y) {
        for (long long i = 0; i < n; ++i) y[i] = alpha * x[i];
    }
    void axpby(float alpha, const float* x, float beta, float* y) {
        for (long long i = 0; i < n; ++i) y[i] = alpha * x[i] + beta * y[i];
    }
    void dot(const float* x, const float* y, int s) {
        device[s] = 0;
        for (long long i = 0; i < n; ++i) device[s] += double(x[i]) * y[i];
    }
    void start_cg(const float* r, const float* a, float* y, float* p, int s) {
        device[s] = 0;
        for (long long i = 0; i < n; ++i) {
            y[i] = r[i] / a[i];
            p[i] = -y[i];
            device[s] += double(r[i]) * y[i];
        }
    }
    void cg_update(float alpha, const float* p, const float* bp, const float* a, float* sv, float* r, float* y, int s_ry, int s_rr) {
        device[s_ry] = device[s_rr] = 0;
        for (long long i = 0; i < n; ++i) {
            sv[i] += alpha * p[i];
            r[i] += alpha * bp[i];
            y[i] = r[i] / a[i];
            device[s_ry] += double(r[i]) * y[i];
            device[s_rr] += double(r[i]) * r[i];
        }
    }
    void precondition(const float* t, const float* a, float* y, int s) {
        device[s] = 0;
        for (long long i = 0; i < n; ++i) {
            y[i] = t[i] / a[i];
            device[s] += double(t[i]) * y[i];
        }
    }
    void lanczos_update(const float* bv, int s_delta, const float* w, float gamma, const float* wprev, const float* a, float* t, float* y, int s) {
        const float delta = static_cast<float>(device[s_delta]);  // read where it lives, as the device kernel does
        device[s] = 0;
        for (long long i = 0; i < n; ++i) {
            t[i] = bv[i] - delta * w[i] - gamma * wprev[i];
            y[i] = t[i] / a[i];
            device[s] += double(t[i]) * y[i];
        }
    }
    void combine(const std::vector<double>& h, const float* basis, float* sv) {
        for (long long i = 0; i < n; ++i) {
            double acc = 0;
            for (size_t j = 0; j < h.size(); ++j) acc += h[j] * basis[static_cast<long long>(j) * n + i];
            sv[i] = static_cast<float>(acc);
        }
    }
    const double* fetch(int count) {
        ++fetches;
        for (int i = 0; i < 4; ++i) host[i] = i < count ? device[i] : NAN;
        return host;
    }
};

#endif
