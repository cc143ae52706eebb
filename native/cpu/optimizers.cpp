// Fused first-order update kernels: one pass over the parameters per step.
#include "internal.h"

#include <cmath>

#define AN_CLONES __attribute__((target_clones("arch=skylake-avx512", "arch=haswell", "default")))

extern "C" {

AN_CLONES void an_sgd_step(float* w, const float* g, float* buf, float lr, float momentum, float weight_decay, int nesterov, long long n) {
    if (buf == nullptr || momentum == 0.0f) {
        for (long long i = 0; i < n; ++i) w[i] -= lr * (g[i] + weight_decay * w[i]);
        return;
    }
    for (long long i = 0; i < n; ++i) {
        const float d = g[i] + weight_decay * w[i];
        const float b = momentum * buf[i] + d;
        buf[i] = b;
        w[i] -= lr * (nesterov ? d + momentum * b : b);
    }
}

AN_CLONES void an_adaptive_step(float* w, const float* g, float* m, float* v, float lr, float beta1, float decay, float weight, float c1,
                                float c2, float eps, float l2, float decoupled, long long n) {
    const float inv_c1 = 1.0f / c1, inv_c2 = 1.0f / c2, shrink = 1.0f - lr * decoupled;
    if (m == nullptr) {
        for (long long i = 0; i < n; ++i) {
            const float d = g[i] + l2 * w[i];
            const float vv = decay * v[i] + weight * d * d;
            v[i] = vv;
            w[i] = w[i] * shrink - lr * d / (std::sqrt(vv * inv_c2) + eps);
        }
        return;
    }
    for (long long i = 0; i < n; ++i) {
        const float d = g[i] + l2 * w[i];
        const float mm = beta1 * m[i] + (1.0f - beta1) * d;
        m[i] = mm;
        const float vv = decay * v[i] + weight * d * d;
        v[i] = vv;
        w[i] = w[i] * shrink - lr * (mm * inv_c1) / (std::sqrt(vv * inv_c2) + eps);
    }
}

}  // extern "C"
