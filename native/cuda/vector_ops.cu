// The CUDA backend's vector operations: the device vectors' reductions (double accumulation), the
// elementwise operations, the fused first-order updates, and the fused vector passes of the Krylov
// solves (native/common/krylov_driver.h; the same float arithmetic as native/cpu/krylov.cpp), with
// the host launchers that the network and Krylov engines call (cuda_internal.cuh).
#include "cuda_internal.cuh"

namespace {

using an::cuda::blocks;
using an::cuda::THREADS;

// ---- kernels: vector operations ----
__global__ void k_axpby(float alpha, const float* x, float beta, float* y, long long n) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)blockDim.x * gridDim.x) y[i] = alpha * x[i] + beta * y[i];
}
__global__ void k_fill(float v, float* x, long long n) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)blockDim.x * gridDim.x) x[i] = v;
}
__global__ void k_mul(const float* x, const float* y, float* out, long long n, int divide) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)blockDim.x * gridDim.x)
        out[i] = divide ? x[i] / y[i] : x[i] * y[i];
}
// sum of f(i) in double
template <class F>
__global__ void k_reduce(F f, long long n, double* out) {
    double s = 0;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)blockDim.x * gridDim.x) s += f(i);
    block_add(s, out);
}
// ---- kernels: the fused vector passes of the Krylov solves (krylov_driver.h; same float arithmetic as krylov.cpp) ----
// y = r / a; p = -y; *ry += r'y
__global__ void k_start_cg(const float* r, const float* a, float* y, float* p, long long n, double* ry) {
    double s = 0;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)blockDim.x * gridDim.x) {
        const float yv = r[i] / a[i];
        y[i] = yv;
        p[i] = -yv;
        s += (double)r[i] * yv;
    }
    block_add(s, ry);
}
// s += alpha p; r += alpha bp; y = r / a; *ry += r'y; *rr += r'r
__global__ void k_cg_update(float alpha, const float* p, const float* bp, const float* a, float* s, float* r, float* y, long long n, double* ry,
                            double* rr) {
    double s1 = 0, s2 = 0;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)blockDim.x * gridDim.x) {
        s[i] += alpha * p[i];
        const float rv = r[i] + alpha * bp[i];
        r[i] = rv;
        const float yv = rv / a[i];
        y[i] = yv;
        s1 += (double)rv * yv;
        s2 += (double)rv * rv;
    }
    block_add(s1, ry);
    block_add(s2, rr);
}
// y = t / a; *ty += t'y
__global__ void k_precondition(const float* t, const float* a, float* y, long long n, double* ty) {
    double s = 0;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)blockDim.x * gridDim.x) {
        const float yv = t[i] / a[i];
        y[i] = yv;
        s += (double)t[i] * yv;
    }
    block_add(s, ty);
}
// t = bv - delta w - gamma wprev with delta = (float) *delta_slot read on the device; y = t / a; *ty += t'y
__global__ void k_lanczos_update(const float* bv, const double* delta_slot, const float* w, float gamma, const float* wprev, const float* a, float* t,
                                 float* y, long long n, double* ty) {
    const float delta = (float)*delta_slot;
    double s = 0;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)blockDim.x * gridDim.x) {
        const float tv = bv[i] - delta * w[i] - gamma * wprev[i];
        t[i] = tv;
        const float yv = tv / a[i];
        y[i] = yv;
        s += (double)tv * yv;
    }
    block_add(s, ty);
}
__global__ void k_scale_into(float alpha, const float* x, float* y, long long n) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)blockDim.x * gridDim.x) y[i] = alpha * x[i];
}
// the per-tensor norm regularizer's Hessian at w: hv += c1 v - c3 (w'v) w, w'v read on the device
__global__ void k_norm_hessian(const float* w, const float* v, float* hv, long long n, double c1, double c3, const double* wv) {
    const float f1 = (float)c1, f2 = (float)(-c3 * *wv);
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)blockDim.x * gridDim.x) {
        const float h = f1 * v[i] + hv[i];
        hv[i] = f2 * w[i] + h;
    }
}
struct DotF {
    const float *x, *y;
    __device__ double operator()(long long i) const { return (double)x[i] * y[i]; }
};
struct WeightedF {
    const float *a, *x;
    __device__ double operator()(long long i) const { return (double)a[i] * x[i] * x[i]; }
};
struct NonFiniteF {
    const float* x;
    __device__ double operator()(long long i) const { return isfinite(x[i]) ? 0.0 : 1.0; }
};
__global__ void k_accumulate_squares(float decay, float weight, const float* g, float* v, long long n) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)blockDim.x * gridDim.x) v[i] = decay * v[i] + weight * g[i] * g[i];
}
__global__ void k_root_metric(const float* v, float scale, float eps, float lo, float hi, float* out, long long n) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)blockDim.x * gridDim.x) {
        const float m = sqrtf(scale * v[i]) + eps;
        out[i] = m >= lo ? (m <= hi ? m : hi) : (m < lo ? lo : hi);
    }
}
__global__ void k_sgd(float* w, const float* g, float* buf, float lr, float mu, float wd, int nesterov, long long n) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)blockDim.x * gridDim.x) {
        const float d = g[i] + wd * w[i];
        if (buf == nullptr || mu == 0.0f) {
            w[i] -= lr * d;
        } else {
            const float b = mu * buf[i] + d;
            buf[i] = b;
            w[i] -= lr * (nesterov ? d + mu * b : b);
        }
    }
}
__global__ void k_adaptive(float* w, const float* g, float* m, float* v, float lr, float beta1, float decay, float weight, float c1, float c2, float eps,
                           float l2, float decoupled, long long n) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)blockDim.x * gridDim.x) {
        const float d = g[i] + l2 * w[i];
        float num = d;
        if (m != nullptr) {
            m[i] = beta1 * m[i] + (1.0f - beta1) * d;
            num = m[i] / c1;
        }
        v[i] = decay * v[i] + weight * d * d;
        w[i] = w[i] * (1.0f - lr * decoupled) - lr * num / (sqrtf(v[i] / c2) + eps);
    }
}

}  // namespace

namespace an {
namespace cuda {

void fill(cudaStream_t s, float value, float* x, long long n) { k_fill<<<blocks(n), THREADS, 0, s>>>(value, x, n); }
void axpby(cudaStream_t s, float alpha, const float* x, float beta, float* y, long long n) { k_axpby<<<blocks(n), THREADS, 0, s>>>(alpha, x, beta, y, n); }
void scale_into(cudaStream_t s, float alpha, const float* x, float* y, long long n) { k_scale_into<<<blocks(n), THREADS, 0, s>>>(alpha, x, y, n); }
void dot(cudaStream_t s, const float* x, const float* y, long long n, double* slot) { k_reduce<<<blocks(n), THREADS, 0, s>>>(DotF{x, y}, n, slot); }
void norm_hessian(cudaStream_t s, const float* w, const float* v, float* hv, long long n, double c1, double c3, const double* wv) {
    k_norm_hessian<<<blocks(n), THREADS, 0, s>>>(w, v, hv, n, c1, c3, wv);
}
void start_cg(cudaStream_t s, const float* r, const float* a, float* y, float* p, long long n, double* ry) {
    k_start_cg<<<blocks(n), THREADS, 0, s>>>(r, a, y, p, n, ry);
}
void cg_update(cudaStream_t s, float alpha, const float* p, const float* bp, const float* a, float* sv, float* r, float* y, long long n, double* ry,
               double* rr) {
    k_cg_update<<<blocks(n), THREADS, 0, s>>>(alpha, p, bp, a, sv, r, y, n, ry, rr);
}
void precondition(cudaStream_t s, const float* t, const float* a, float* y, long long n, double* ty) {
    k_precondition<<<blocks(n), THREADS, 0, s>>>(t, a, y, n, ty);
}
void lanczos_update(cudaStream_t s, const float* bv, const double* delta_slot, const float* w, float gamma, const float* wprev, const float* a,
                    float* t, float* y, long long n, double* ty) {
    k_lanczos_update<<<blocks(n), THREADS, 0, s>>>(bv, delta_slot, w, gamma, wprev, a, t, y, n, ty);
}

}  // namespace cuda
}  // namespace an

extern "C" {

int an_cuda_dot(an_cuda* c, const float* x, const float* y, long long n, double* out) {
    return an::guarded([&]() -> int {
        *out = c->reduce_to_host([&](double* r) { k_reduce<<<blocks(n), THREADS, 0, c->stream>>>(DotF{x, y}, n, r); });
        return AN_OK;
    });
}

int an_cuda_weighted_dot(an_cuda* c, const float* a, const float* x, long long n, double* out) {
    return an::guarded([&]() -> int {
        *out = c->reduce_to_host([&](double* r) { k_reduce<<<blocks(n), THREADS, 0, c->stream>>>(WeightedF{a, x}, n, r); });
        return AN_OK;
    });
}

int an_cuda_count_nonfinite(an_cuda* c, const float* x, long long n, double* out) {
    return an::guarded([&]() -> int {
        *out = c->reduce_to_host([&](double* r) { k_reduce<<<blocks(n), THREADS, 0, c->stream>>>(NonFiniteF{x}, n, r); });
        return AN_OK;
    });
}

int an_cuda_axpby(an_cuda* c, float alpha, const float* x, float beta, float* y, long long n) {
    return an::guarded([&]() -> int {
        k_axpby<<<blocks(n), THREADS, 0, c->stream>>>(alpha, x, beta, y, n);
        CK(cudaGetLastError());
        return AN_OK;
    });
}

int an_cuda_fill(an_cuda* c, float v, float* x, long long n) {
    return an::guarded([&]() -> int {
        k_fill<<<blocks(n), THREADS, 0, c->stream>>>(v, x, n);
        CK(cudaGetLastError());
        return AN_OK;
    });
}

int an_cuda_mul(an_cuda* c, const float* x, const float* y, float* out, long long n, int divide) {
    return an::guarded([&]() -> int {
        k_mul<<<blocks(n), THREADS, 0, c->stream>>>(x, y, out, n, divide);
        CK(cudaGetLastError());
        return AN_OK;
    });
}

int an_cuda_accumulate_squares(an_cuda* c, float decay, float weight, const float* g, float* v, long long n) {
    return an::guarded([&]() -> int {
        k_accumulate_squares<<<blocks(n), THREADS, 0, c->stream>>>(decay, weight, g, v, n);
        CK(cudaGetLastError());
        return AN_OK;
    });
}

int an_cuda_root_metric(an_cuda* c, const float* v, float scale, float eps, float lo, float hi, float* out, long long n) {
    return an::guarded([&]() -> int {
        k_root_metric<<<blocks(n), THREADS, 0, c->stream>>>(v, scale, eps, lo, hi, out, n);
        CK(cudaGetLastError());
        return AN_OK;
    });
}

int an_cuda_sgd_step(an_cuda* c, float* w, const float* g, float* buf, float lr, float mu, float wd, int nesterov, long long n) {
    return an::guarded([&]() -> int {
        k_sgd<<<blocks(n), THREADS, 0, c->stream>>>(w, g, buf, lr, mu, wd, nesterov, n);
        CK(cudaGetLastError());
        return AN_OK;
    });
}

int an_cuda_adaptive_step(an_cuda* c, float* w, const float* g, float* m, float* v, float lr, float beta1, float decay, float weight, float c1, float c2,
                          float eps, float l2, float decoupled, long long n) {
    return an::guarded([&]() -> int {
        k_adaptive<<<blocks(n), THREADS, 0, c->stream>>>(w, g, m, v, lr, beta1, decay, weight, c1, c2, eps, l2, decoupled, n);
        CK(cudaGetLastError());
        return AN_OK;
    });
}

}  // extern "C"
