// The CUDA backend: a context per backend (device, stream, cuBLAS handle, growing scratch arena),
// device vectors and their operations (double accumulation in reductions), the fused first-order
// updates, and dense networks (loss, gradient, exact HVP from scratch and at a cached point,
// Gauss-Newton) with cuBLAS GEMMs and hand-written kernels for the rest.
//
// cuBLAS is reached with dlopen("libcublas.so.13") and dlsym of the *_v2 entry points: the library
// builds without cuBLAS headers and reports a clear error where cuBLAS is missing. Every CUDA or
// cuBLAS error becomes a status code with the call and the message (an_last_error), never a crash.
//
// Status: compiled in every build where nvcc exists; not yet run on a GPU by this project (the
// gpu-tagged parity tests and bench/gpu/run.sh are ready for a machine that has one).
#include "adanewton.h"
#include "../cpu/internal.h"

#include <cuda_runtime.h>
#include <dlfcn.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace {

// ---- cuBLAS through dlopen ----
typedef int (*CublasCreate)(void**);
typedef int (*CublasDestroy)(void*);
typedef int (*CublasSetStream)(void*, cudaStream_t);
typedef int (*CublasSgemm)(void*, int, int, int, int, int, const float*, const float*, int, const float*, int, const float*, float*, int);
constexpr int OP_N = 0, OP_T = 1;

struct Cublas {
    void* lib = nullptr;
    CublasCreate create = nullptr;
    CublasDestroy destroy = nullptr;
    CublasSetStream set_stream = nullptr;
    CublasSgemm sgemm = nullptr;
    std::string error;

    Cublas() {
        for (const char* name : {"libcublas.so.13", "libcublas.so.12", "libcublas.so"}) {
            lib = dlopen(name, RTLD_NOW | RTLD_LOCAL);
            if (lib != nullptr) break;
        }
        if (lib == nullptr) {
            error = "cuBLAS not found (dlopen libcublas.so.13: " + std::string(dlerror() ? dlerror() : "no message") +
                    "); install the CUDA 13 runtime libraries";
            return;
        }
        create = reinterpret_cast<CublasCreate>(dlsym(lib, "cublasCreate_v2"));
        destroy = reinterpret_cast<CublasDestroy>(dlsym(lib, "cublasDestroy_v2"));
        set_stream = reinterpret_cast<CublasSetStream>(dlsym(lib, "cublasSetStream_v2"));
        sgemm = reinterpret_cast<CublasSgemm>(dlsym(lib, "cublasSgemm_v2"));
        if (!create || !destroy || !set_stream || !sgemm) error = "libcublas lacks the cublas*_v2 entry points";
    }
};

Cublas& cublas() {
    static Cublas instance;
    return instance;
}

void check(cudaError_t e, const char* call) {
    if (e != cudaSuccess) {
        cudaGetLastError();
        throw std::runtime_error(std::string(call) + " failed: " + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")");
    }
}
#define CK(call) check((call), #call)

void check_blas(int status, const char* call) {
    if (status != 0) throw std::runtime_error(std::string(call) + " failed with cuBLAS status " + std::to_string(status));
}

constexpr int THREADS = 256;
inline int blocks(long long n) { return static_cast<int>(std::min<long long>((n + THREADS - 1) / THREADS, 4096)); }

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
// sum of f(i) in double: one partial per block, atomically added (sm_60+ double atomics)
template <class F>
__global__ void k_reduce(F f, long long n, double* out) {
    __shared__ double part[THREADS];
    double s = 0;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)blockDim.x * gridDim.x) s += f(i);
    part[threadIdx.x] = s;
    __syncthreads();
    for (int w = blockDim.x / 2; w > 0; w >>= 1) {
        if (threadIdx.x < w) part[threadIdx.x] += part[threadIdx.x + w];
        __syncthreads();
    }
    if (threadIdx.x == 0) atomicAdd(out, part[0]);
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

// ---- kernels: network layers (row-major rows x width) ----
__device__ inline float act_f(int act, float z) {
    switch (act) {
        case AN_ACT_TANH: return tanhf(z);
        case AN_ACT_SIGMOID: return 1.0f / (1.0f + expf(-z));
        case AN_ACT_RELU: return z > 0.0f ? z : 0.0f;
        case AN_ACT_SOFTPLUS: return z > 0.0f ? z + log1pf(expf(-z)) : log1pf(expf(z));
        default: return z;
    }
}
__device__ inline float act_d1(int act, float a) {
    switch (act) {
        case AN_ACT_TANH: return 1.0f - a * a;
        case AN_ACT_SIGMOID: return a * (1.0f - a);
        case AN_ACT_RELU: return a > 0.0f ? 1.0f : 0.0f;
        case AN_ACT_SOFTPLUS: return 1.0f - expf(-a);
        default: return 1.0f;
    }
}
__device__ inline float act_kappa(int act, float a) {
    switch (act) {
        case AN_ACT_TANH: return -2.0f * a;
        case AN_ACT_SIGMOID: return 1.0f - 2.0f * a;
        case AN_ACT_SOFTPLUS: return expf(-a);
        default: return 0.0f;
    }
}
__global__ void k_bias_act(int act, float* A, const float* b, int rows, int width) {
    const long long n = (long long)rows * width;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)blockDim.x * gridDim.x) A[i] = act_f(act, A[i] + b[i % width]);
}
__global__ void k_back_act(int act, float* G, const float* A, long long n) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)blockDim.x * gridDim.x) G[i] *= act_d1(act, A[i]);
}
__global__ void k_rfwd_act(int act, float* RZ, float* RA, const float* A, const float* vb, int rows, int width) {
    const long long n = (long long)rows * width;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)blockDim.x * gridDim.x) {
        const float rz = RZ[i] + vb[i % width];
        RZ[i] = rz;
        RA[i] = act_d1(act, A[i]) * rz;
    }
}
__global__ void k_rbwd_act(int act, float* RG, const float* RZ, const float* G, const float* A, long long n) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)blockDim.x * gridDim.x)
        RG[i] = act_kappa(act, A[i]) * RZ[i] * G[i] + act_d1(act, A[i]) * RG[i];
}
// column sums (bias gradients), one thread per column, double accumulation
__global__ void k_colsum(const float* G, int rows, int width, float* out) {
    const int j = blockIdx.x * blockDim.x + threadIdx.x;
    if (j >= width) return;
    double s = 0;
    for (int i = 0; i < rows; ++i) s += G[(long long)i * width + j];
    out[j] = (float)s;
}
// the loss on the output: per-row loss into rowloss, dL/da into ga (if non-null), probabilities into P
__global__ void k_top(int loss, const float* Z, const int* labels, const float* targets, int rows, int d, int b, float* P, float* ga, double* rowloss) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= rows) return;
    const float* z = Z + (long long)i * d;
    float* p = P + (long long)i * d;
    float* g = ga == nullptr ? nullptr : ga + (long long)i * d;
    double total = 0;
    if (loss == AN_LOSS_SOFTMAX_CE) {
        float zmax = z[0];
        for (int j = 1; j < d; ++j) zmax = fmaxf(zmax, z[j]);
        double s = 0;
        for (int j = 0; j < d; ++j) s += exp((double)z[j] - zmax);
        const int y = labels[i];
        total = log(s) + zmax - z[y];
        for (int j = 0; j < d; ++j) {
            p[j] = (float)(exp((double)z[j] - zmax) / s);
            if (g != nullptr) g[j] = (p[j] - (j == y ? 1.0f : 0.0f)) / b;
        }
    } else if (loss == AN_LOSS_BCE) {
        const float* t = targets + (long long)i * d;
        for (int j = 0; j < d; ++j) {
            const double zj = z[j];
            total += (zj > 0 ? zj + log1p(exp(-zj)) : log1p(exp(zj))) - t[j] * zj;
            p[j] = (float)(1.0 / (1.0 + exp(-zj)));
            if (g != nullptr) g[j] = (p[j] - t[j]) / b;
        }
    } else {
        const float* t = targets + (long long)i * d;
        const double c = loss == AN_LOSS_SQUARED_MEAN ? 2.0 / ((double)b * d) : 2.0 / b;
        for (int j = 0; j < d; ++j) {
            const double e = (double)z[j] - t[j];
            total += 0.5 * c * e * e * b;  // divided by b below
            if (g != nullptr) g[j] = (float)(c * e);
        }
    }
    rowloss[i] = total / b;
}
__global__ void k_top_r(int loss, const float* P, const float* RA, int rows, int d, int b, float* RGA) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= rows) return;
    const float* p = P + (long long)i * d;
    const float* r = RA + (long long)i * d;
    float* o = RGA + (long long)i * d;
    if (loss == AN_LOSS_SOFTMAX_CE) {
        double pr = 0;
        for (int j = 0; j < d; ++j) pr += (double)p[j] * r[j];
        for (int j = 0; j < d; ++j) o[j] = p[j] * (r[j] - (float)pr) / b;
    } else if (loss == AN_LOSS_BCE) {
        for (int j = 0; j < d; ++j) o[j] = p[j] * (1.0f - p[j]) * r[j] / b;
    } else {
        const float c = (float)(loss == AN_LOSS_SQUARED_MEAN ? 2.0 / ((double)b * d) : 2.0 / b);
        for (int j = 0; j < d; ++j) o[j] = c * r[j];
    }
}
__global__ void k_sum_rows(const double* rowloss, int rows, double* out) {
    if (blockIdx.x == 0 && threadIdx.x == 0) {
        double s = 0;
        for (int i = 0; i < rows; ++i) s += rowloss[i];
        *out = s;
    }
}

}  // namespace

// ---- the context ----
struct an_cuda {
    int device = 0;
    cudaStream_t stream = nullptr;
    void* blas = nullptr;
    double* reduce = nullptr;       // device scalar for reductions
    double* host_reduce = nullptr;  // pinned
    float* arena = nullptr;         // scratch, grown between iterations only
    size_t arena_floats = 0;

    double reduce_to_host(const std::function<void(double*)>& launch) {
        CK(cudaMemsetAsync(reduce, 0, sizeof(double), stream));
        launch(reduce);
        CK(cudaGetLastError());
        CK(cudaMemcpyAsync(host_reduce, reduce, sizeof(double), cudaMemcpyDeviceToHost, stream));
        CK(cudaStreamSynchronize(stream));
        return *host_reduce;
    }
    float* scratch(size_t floats) {
        if (floats > arena_floats) {
            if (arena != nullptr) CK(cudaFree(arena));
            arena = nullptr;
            CK(cudaMalloc(&arena, floats * sizeof(float)));
            arena_floats = floats;
        }
        return arena;
    }
    // row-major GEMMs through column-major cuBLAS (see the header comment of network.cpp for shapes)
    void gemm_nt(int m, int n, int k, const float* a, const float* b, float beta, float* c) {
        const float one = 1.0f;
        check_blas(cublas().sgemm(blas, OP_T, OP_N, n, m, k, &one, b, k, a, k, &beta, c, n), "cublasSgemm (NT)");
    }
    void gemm_tn(int m, int n, int k, const float* a, const float* b, float beta, float* c) {
        const float one = 1.0f;
        check_blas(cublas().sgemm(blas, OP_N, OP_T, n, m, k, &one, b, n, a, m, &beta, c, n), "cublasSgemm (TN)");
    }
    void gemm_nn(int m, int n, int k, const float* a, const float* b, float beta, float* c) {
        const float one = 1.0f;
        check_blas(cublas().sgemm(blas, OP_N, OP_N, n, m, k, &one, b, n, a, k, &beta, c, n), "cublasSgemm (NN)");
    }
};

extern "C" {

an_cuda* an_cuda_create(int device) {
    an_cuda* result = nullptr;
    an::guarded([&]() -> int {
        if (!cublas().error.empty()) throw std::runtime_error(cublas().error);
        auto c = std::make_unique<an_cuda>();
        c->device = device;
        CK(cudaSetDevice(device));
        CK(cudaStreamCreateWithFlags(&c->stream, cudaStreamNonBlocking));
        check_blas(cublas().create(&c->blas), "cublasCreate");
        check_blas(cublas().set_stream(c->blas, c->stream), "cublasSetStream");
        CK(cudaMalloc(&c->reduce, sizeof(double)));
        CK(cudaMallocHost(&c->host_reduce, sizeof(double)));
        result = c.release();
        return AN_OK;
    });
    return result;
}

void an_cuda_destroy(an_cuda* c) {
    if (c == nullptr) return;
    cudaSetDevice(c->device);
    cudaStreamSynchronize(c->stream);
    if (c->blas) cublas().destroy(c->blas);
    cudaFree(c->reduce);
    cudaFreeHost(c->host_reduce);
    cudaFree(c->arena);
    cudaStreamDestroy(c->stream);
    delete c;
}

float* an_cuda_alloc(an_cuda* c, long long n) {
    float* out = nullptr;
    an::guarded([&]() -> int {
        CK(cudaSetDevice(c->device));
        CK(cudaMalloc(&out, static_cast<size_t>(std::max(1LL, n)) * sizeof(float)));
        return AN_OK;
    });
    return out;
}

int an_cuda_free(an_cuda* c, float* p) {
    return an::guarded([&]() -> int {
        CK(cudaFree(p));
        return AN_OK;
    });
}

int an_cuda_copy(an_cuda* c, const float* src, float* dst, long long n, int kind /* 0 h->d, 1 d->h, 2 d->d */) {
    return an::guarded([&]() -> int {
        const cudaMemcpyKind k = kind == 0 ? cudaMemcpyHostToDevice : kind == 1 ? cudaMemcpyDeviceToHost : cudaMemcpyDeviceToDevice;
        CK(cudaMemcpyAsync(dst, src, static_cast<size_t>(n) * sizeof(float), k, c->stream));
        if (kind != 2) CK(cudaStreamSynchronize(c->stream));
        return AN_OK;
    });
}

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

// ---- dense networks on the device ----
struct an_cuda_net {
    an_cuda* ctx = nullptr;
    struct L {
        int in, out, act;
        long long w_off, b_off;
    };
    std::vector<L> layers;
    int input = 0, loss = 0, reg = 0, max_batch = 0;
    double lambda = 0;
    long long params = 0;
    std::vector<float*> A, G, RZ, RA, RG;
    float *P = nullptr, *bias_tmp = nullptr;
    double* rowloss = nullptr;
    const float *w = nullptr, *x = nullptr;
    const int* labels = nullptr;
    const float* targets = nullptr;
    int batch = 0;
    bool cached = false;

    float* ra(size_t l) { return layers[l].act == AN_ACT_IDENTITY ? RZ[l] : RA[l]; }
    const float* in(size_t l, const float* xr) { return l == 0 ? xr : A[l - 1]; }
    cudaStream_t s() const { return ctx->stream; }

    void forward(const float* w_, const float* xr, int rows) {
        for (size_t l = 0; l < layers.size(); ++l) {
            const L& q = layers[l];
            ctx->gemm_nt(rows, q.out, q.in, in(l, xr), w_ + q.w_off, 0.0f, A[l]);
            k_bias_act<<<blocks((long long)rows * q.out), THREADS, 0, s()>>>(q.act, A[l], w_ + q.b_off, rows, q.out);
        }
    }
    void top(int rows, float* ga) {
        const L& q = layers.back();
        k_top<<<(rows + 127) / 128, 128, 0, s()>>>(loss, A.back(), labels, targets, rows, q.out, rows, P, ga, rowloss);
    }
    double loss_value(int rows) {
        return ctx->reduce_to_host([&](double* r) { k_sum_rows<<<1, 1, 0, s()>>>(rowloss, rows, r); });
    }
    void bias_grad(const L& q, const float* G_, int rows, float* dst) {
        k_colsum<<<(q.out + 127) / 128, 128, 0, s()>>>(G_, rows, q.out, dst);
    }
    void backward(const float* w_, const float* xr, int rows, float* grad) {
        for (int l = (int)layers.size() - 1; l >= 0; --l) {
            const L& q = layers[l];
            k_back_act<<<blocks((long long)rows * q.out), THREADS, 0, s()>>>(q.act, G[l], A[l], (long long)rows * q.out);
            bias_grad(q, G[l], rows, grad + q.b_off);
            ctx->gemm_tn(q.out, q.in, rows, G[l], in(l, xr), 0.0f, grad + q.w_off);
            if (l > 0) ctx->gemm_nn(rows, q.in, q.out, G[l], w_ + q.w_off, 0.0f, G[l - 1]);
        }
    }
    void r_forward(const float* w_, const float* xr, int rows, const float* v) {
        for (size_t l = 0; l < layers.size(); ++l) {
            const L& q = layers[l];
            ctx->gemm_nt(rows, q.out, q.in, in(l, xr), v + q.w_off, 0.0f, RZ[l]);
            if (l > 0) ctx->gemm_nt(rows, q.out, q.in, ra(l - 1), w_ + q.w_off, 1.0f, RZ[l]);
            k_rfwd_act<<<blocks((long long)rows * q.out), THREADS, 0, s()>>>(q.act, RZ[l], ra(l), A[l], v + q.b_off, rows, q.out);
        }
    }
    void r_backward(const float* w_, const float* xr, int rows, const float* v, float* out, bool with_backward) {
        for (int l = (int)layers.size() - 1; l >= 0; --l) {
            const L& q = layers[l];
            const long long n = (long long)rows * q.out;
            if (with_backward) k_back_act<<<blocks(n), THREADS, 0, s()>>>(q.act, G[l], A[l], n);
            k_rbwd_act<<<blocks(n), THREADS, 0, s()>>>(q.act, RG[l], RZ[l], G[l], A[l], n);
            bias_grad(q, RG[l], rows, out + q.b_off);
            ctx->gemm_tn(q.out, q.in, rows, RG[l], in(l, xr), 0.0f, out + q.w_off);
            if (l > 0) {
                ctx->gemm_tn(q.out, q.in, rows, G[l], ra(l - 1), 1.0f, out + q.w_off);
                ctx->gemm_nn(rows, q.in, q.out, RG[l], w_ + q.w_off, 0.0f, RG[l - 1]);
                ctx->gemm_nn(rows, q.in, q.out, G[l], v + q.w_off, 1.0f, RG[l - 1]);
                if (with_backward) ctx->gemm_nn(rows, q.in, q.out, G[l], w_ + q.w_off, 0.0f, G[l - 1]);
            }
        }
    }
    void gn_backward(const float* w_, const float* xr, int rows, float* out) {
        for (int l = (int)layers.size() - 1; l >= 0; --l) {
            const L& q = layers[l];
            k_back_act<<<blocks((long long)rows * q.out), THREADS, 0, s()>>>(q.act, RG[l], A[l], (long long)rows * q.out);
            bias_grad(q, RG[l], rows, out + q.b_off);
            ctx->gemm_tn(q.out, q.in, rows, RG[l], in(l, xr), 0.0f, out + q.w_off);
            if (l > 0) ctx->gemm_nn(rows, q.in, q.out, RG[l], w_ + q.w_off, 0.0f, RG[l - 1]);
        }
    }
    // the regularizer (value and gradient, or Hessian times v), tensor by tensor
    double reg_terms(const float* w_, float* grad, const float* v, float* hv) {
        if (reg == AN_REG_NONE || lambda == 0) return 0;
        double value = 0;
        for (const L& q : layers) {
            for (int t = 0; t < 2; ++t) {
                const long long off = t == 0 ? q.w_off : q.b_off, n = t == 0 ? (long long)q.in * q.out : q.out;
                double sq = 0, wv = 0;
                an_cuda_dot(ctx, w_ + off, w_ + off, n, &sq);
                if (reg == AN_REG_SQUARED) {
                    value += 0.5 * lambda * sq;
                    if (grad) an_cuda_axpby(ctx, (float)lambda, w_ + off, 1.0f, grad + off, n);
                    if (hv) an_cuda_axpby(ctx, (float)lambda, v + off, 1.0f, hv + off, n);
                } else {
                    const double norm = std::sqrt(sq);
                    value += lambda * norm;
                    if (norm == 0) continue;
                    if (grad) an_cuda_axpby(ctx, (float)(lambda / norm), w_ + off, 1.0f, grad + off, n);
                    if (hv) {
                        an_cuda_dot(ctx, w_ + off, v + off, n, &wv);
                        an_cuda_axpby(ctx, (float)(lambda / norm), v + off, 1.0f, hv + off, n);
                        an_cuda_axpby(ctx, (float)(-lambda * wv / (norm * norm * norm)), w_ + off, 1.0f, hv + off, n);
                    }
                }
            }
        }
        return value;
    }
};

extern "C" {

an_cuda_net* an_cuda_net_create(an_cuda* ctx, const int* spec, int spec_len, int loss, int reg, double lambda, int max_batch) {
    an_cuda_net* result = nullptr;
    an::guarded([&]() -> int {
        if (!ctx || !spec || spec_len < 2 || max_batch < 1) throw std::invalid_argument("invalid network arguments");
        auto net = std::make_unique<an_cuda_net>();
        net->ctx = ctx;
        net->input = spec[0];
        const int n = spec[1];
        if (spec_len != 2 + AN_SPEC_INTS_PER_LAYER * n) throw std::invalid_argument("malformed network spec");
        int in = net->input;
        long long off = 0;
        for (int l = 0; l < n; ++l) {
            const int* s = spec + 2 + AN_SPEC_INTS_PER_LAYER * l;
            if (s[0] != AN_LAYER_DENSE)
                throw std::invalid_argument("conv2d and pooling layers are not implemented on the CUDA backend yet (layer " + std::to_string(l) + ")");
            an_cuda_net::L q{in, s[2], s[1], off, off + (long long)in * s[2]};
            off = q.b_off + q.out;
            net->layers.push_back(q);
            in = q.out;
        }
        net->params = off;
        net->loss = loss;
        net->reg = reg;
        net->lambda = lambda;
        net->max_batch = max_batch;
        CK(cudaSetDevice(ctx->device));
        for (const auto& q : net->layers) {
            for (auto* vec : {&net->A, &net->G, &net->RZ, &net->RA, &net->RG}) {
                float* p = nullptr;
                CK(cudaMalloc(&p, sizeof(float) * (size_t)max_batch * q.out));
                vec->push_back(p);
            }
        }
        CK(cudaMalloc(&net->P, sizeof(float) * (size_t)max_batch * net->layers.back().out));
        CK(cudaMalloc(&net->rowloss, sizeof(double) * (size_t)max_batch));
        result = net.release();
        return AN_OK;
    });
    return result;
}

void an_cuda_net_destroy(an_cuda_net* net) {
    if (!net) return;
    for (auto* vec : {&net->A, &net->G, &net->RZ, &net->RA, &net->RG})
        for (float* p : *vec) cudaFree(p);
    cudaFree(net->P);
    cudaFree(net->rowloss);
    delete net;
}

long long an_cuda_net_param_count(const an_cuda_net* net) { return net ? net->params : -1; }

int an_cuda_net_forward(an_cuda_net* net, const float* w, const float* x, int batch, float* out) {
    return an::guarded([&]() -> int {
        net->cached = false;
        net->forward(w, x, batch);
        CK(cudaMemcpyAsync(out, net->A.back(), sizeof(float) * (size_t)batch * net->layers.back().out, cudaMemcpyDeviceToDevice, net->s()));
        CK(cudaGetLastError());
        return AN_OK;
    });
}

int an_cuda_net_loss(an_cuda_net* net, const float* w, const float* x, const int* labels, const float* targets, int batch, double* loss) {
    return an::guarded([&]() -> int {
        net->cached = false;
        net->labels = labels;
        net->targets = targets;
        net->forward(w, x, batch);
        net->top(batch, nullptr);
        *loss = net->loss_value(batch) + net->reg_terms(w, nullptr, nullptr, nullptr);
        return AN_OK;
    });
}

int an_cuda_net_gradient(an_cuda_net* net, const float* w, const float* x, const int* labels, const float* targets, int batch, float* grad,
                         double* loss) {
    return an::guarded([&]() -> int {
        net->labels = labels;
        net->targets = targets;
        net->forward(w, x, batch);
        net->top(batch, net->G.back());
        net->backward(w, x, batch, grad);
        *loss = net->loss_value(batch) + net->reg_terms(w, grad, nullptr, nullptr);
        net->cached = true;
        net->w = w;
        net->x = x;
        net->batch = batch;
        return AN_OK;
    });
}

int an_cuda_net_hvp(an_cuda_net* net, const float* w, const float* x, const int* labels, const float* targets, int batch, const float* v, float* out,
                    double* loss) {
    return an::guarded([&]() -> int {
        net->labels = labels;
        net->targets = targets;
        net->forward(w, x, batch);
        net->r_forward(w, x, batch, v);
        const size_t last = net->layers.size() - 1;
        net->top(batch, net->G[last]);
        k_top_r<<<(batch + 127) / 128, 128, 0, net->s()>>>(net->loss, net->P, net->ra(last), batch, net->layers.back().out, batch, net->RG[last]);
        net->r_backward(w, x, batch, v, out, true);
        *loss = net->loss_value(batch) + net->reg_terms(w, nullptr, v, out);
        net->cached = true;
        net->w = w;
        net->x = x;
        net->batch = batch;
        return AN_OK;
    });
}

int an_cuda_net_hvp_cached(an_cuda_net* net, const float* v, float* out) {
    return an::guarded([&]() -> int {
        if (!net->cached) throw std::logic_error("no cached point: call gradient() or hvp() first");
        const int batch = net->batch;
        net->r_forward(net->w, net->x, batch, v);
        const size_t last = net->layers.size() - 1;
        k_top_r<<<(batch + 127) / 128, 128, 0, net->s()>>>(net->loss, net->P, net->ra(last), batch, net->layers.back().out, batch, net->RG[last]);
        net->r_backward(net->w, net->x, batch, v, out, false);
        net->reg_terms(net->w, nullptr, v, out);
        CK(cudaGetLastError());
        return AN_OK;
    });
}

int an_cuda_net_gn_cached(an_cuda_net* net, const float* v, float* out) {
    return an::guarded([&]() -> int {
        if (!net->cached) throw std::logic_error("no cached point: call gradient() or hvp() first");
        const int batch = net->batch;
        net->r_forward(net->w, net->x, batch, v);
        const size_t last = net->layers.size() - 1;
        k_top_r<<<(batch + 127) / 128, 128, 0, net->s()>>>(net->loss, net->P, net->ra(last), batch, net->layers.back().out, batch, net->RG[last]);
        net->gn_backward(net->w, net->x, batch, out);
        net->reg_terms(net->w, nullptr, v, out);
        CK(cudaGetLastError());
        return AN_OK;
    });
}

}  // extern "C"
