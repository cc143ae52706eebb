// The CUDA backend: a context per backend (device, stream, cuBLAS handle, reduction slots), device
// memory sized when a network is created (by its max_batch) or grown between solves (the Krylov work
// space, the Lanczos coefficients), never inside an iteration; device vectors and their operations (double accumulation in reductions), the fused first-order
// updates, and networks (dense, conv2d by batched im2col, max/avg pooling: loss, gradient, exact HVP
// from scratch and at a cached point, Gauss-Newton) with cuBLAS GEMMs and hand-written kernels for
// the rest. The Krylov solves (Steihaug, GLTR, ARC) run the shared driver of
// native/cpu/krylov_driver.h over a device engine: vectors and reductions stay on the device, and
// the host waits only where a branch needs a scalar (counted in an_cuda_sync_count).
//
// cuBLAS is reached with dlopen("libcublas.so.13") and dlsym of the *_v2 entry points: the library
// builds without cuBLAS headers and reports a clear error where cuBLAS is missing. Every CUDA or
// cuBLAS error becomes a status code with the call and the message (an_last_error), never a crash.
//
// Status: compiled in every build where nvcc exists; not yet run on a GPU by this project (the
// gpu-tagged parity tests and bench/gpu/run.sh are ready for a machine that has one). Every CI
// build runs it translated to C++ on the CPU (tests/cuda-emulation): keep each kernel launch a
// plain triple-chevron launch (grid, block, 0, the stream) followed by its arguments and ';', and
// cooperative code inside block_add, the two things the translator understands.
#include "adanewton.h"
#include "../cpu/internal.h"
#include "../cpu/krylov_driver.h"

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
// *out += the block's sum of v (every thread of the block must call it; blockDim.x == THREADS);
// one double atomic per block (sm_60+)
__device__ void block_add(double v, double* out) {
    __shared__ double part[THREADS];
    __syncthreads();  // the previous call's readers are done with part
    part[threadIdx.x] = v;
    __syncthreads();
    for (int w = blockDim.x / 2; w > 0; w >>= 1) {
        if (threadIdx.x < w) part[threadIdx.x] += part[threadIdx.x + w];
        __syncthreads();
    }
    if (threadIdx.x == 0) atomicAdd(out, part[0]);
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
// the per-tensor norm regularizer's Hessian at w: hv += (lambda / |w|) v - (lambda w'v / |w|^3) w, w'v read on the device
__global__ void k_reg_norm_hv(const float* w, const float* v, float* hv, long long n, double lambda, double norm, const double* wv) {
    const float c1 = (float)(lambda / norm), c2 = (float)(-lambda * *wv / (norm * norm * norm));
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)blockDim.x * gridDim.x) {
        const float h = c1 * v[i] + hv[i];
        hv[i] = c2 * w[i] + h;
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
// The layer kernels index in 32 bits: an_cuda_net_create bounds every layer buffer by 2^31
// elements, and a 32-bit division costs a fraction of a 64-bit one (these kernels divide per element).
#define FOR_EACH_U32(e, n) for (unsigned e = blockIdx.x * blockDim.x + threadIdx.x; e < (unsigned)(n); e += blockDim.x * gridDim.x)

// a = phi(a + b[(i % width) / period]): period 1 for dense layers, the positions for a conv
__global__ void k_bias_act(int act, float* A, const float* b, int rows, int width, int period) {
    FOR_EACH_U32(i, (unsigned)rows * width) A[i] = act_f(act, A[i] + b[(i % (unsigned)width) / (unsigned)period]);
}
__global__ void k_back_act(int act, float* G, const float* A, long long n) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)blockDim.x * gridDim.x) G[i] *= act_d1(act, A[i]);
}
__global__ void k_rfwd_act(int act, float* RZ, float* RA, const float* A, const float* vb, int rows, int width, int period) {
    FOR_EACH_U32(i, (unsigned)rows * width) {
        const float rz = RZ[i] + vb[(i % (unsigned)width) / (unsigned)period];
        RZ[i] = rz;
        RA[i] = act_d1(act, A[i]) * rz;
    }
}
__global__ void k_rbwd_act(int act, float* RG, const float* RZ, const float* G, const float* A, long long n) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)blockDim.x * gridDim.x)
        RG[i] = act_kappa(act, A[i]) * RZ[i] * G[i] + act_d1(act, A[i]) * RG[i];
}
struct Geo {
    int cin, hin, win, cout, k, stride, pad, hout, wout;
    __host__ __device__ int K() const { return cin * k * k; }
    __host__ __device__ int P() const { return hout * wout; }
    // a pooling output's window: the input index (within a sample) of its top-left element, from
    // the output's index within the sample
    __host__ __device__ int window(int out) const {
        const int c = out / P(), oh = (out % P()) / wout, ow = out % wout;
        return (c * hin + oh * stride) * win + ow * stride;
    }
};
// cols (K x rows*P) from x (rows x cin*hin*win, NCHW): one thread per column (sample, position),
// looping over the K = cin*k*k rows (consecutive threads write consecutive columns)
__global__ void k_im2col(Geo g, const float* x, int rows, float* cols) {
    const unsigned P = g.P(), cols_n = (unsigned)rows * P;
    FOR_EACH_U32(col, cols_n) {
        const unsigned s = col / P, p = col % P;
        const int oh = (int)(p / (unsigned)g.wout), ow = (int)(p % (unsigned)g.wout);
        const float* xs = x + (size_t)s * g.cin * g.hin * g.win;
        size_t row = 0;
        for (int c = 0; c < g.cin; ++c)
            for (int i = 0; i < g.k; ++i) {
                const int ih = oh * g.stride - g.pad + i;
                for (int j = 0; j < g.k; ++j, ++row) {
                    const int iw = ow * g.stride - g.pad + j;
                    cols[row * cols_n + col] = ih >= 0 && ih < g.hin && iw >= 0 && iw < g.win ? xs[((size_t)c * g.hin + ih) * g.win + iw] : 0.0f;
                }
            }
    }
}
// gx = beta gx + col2im(cols): each input element gathers the taps that read it
__global__ void k_col2im(Geo g, const float* cols, int rows, float beta, float* gx) {
    const unsigned cols_n = (unsigned)rows * g.P(), in_size = (unsigned)g.cin * g.hin * g.win;
    FOR_EACH_U32(e, (unsigned)rows * in_size) {
        const int s = (int)(e / in_size), rem = (int)(e % in_size);
        const int c = rem / (g.hin * g.win), ih = (rem / g.win) % g.hin, iw = rem % g.win;
        float sum = 0.0f;
        for (int i = 0; i < g.k; ++i) {
            const int ty = ih + g.pad - i;
            if (ty < 0 || ty % g.stride != 0 || ty / g.stride >= g.hout) continue;
            for (int j = 0; j < g.k; ++j) {
                const int tx = iw + g.pad - j;
                if (tx < 0 || tx % g.stride != 0 || tx / g.stride >= g.wout) continue;
                sum += cols[((size_t)(c * g.k + i) * g.k + j) * cols_n + (size_t)s * g.P() + (ty / g.stride) * g.wout + tx / g.stride];
            }
        }
        gx[e] = (beta == 0.0f ? 0.0f : beta * gx[e]) + sum;
    }
}
// channel-major (cout x rows*P) <-> NCHW (rows x cout*P); to_nchw: z = beta z + cm
__global__ void k_cm_to_nchw(const float* cm, int rows, int channels, int positions, float beta, float* z) {
    const unsigned cp = (unsigned)channels * positions;
    FOR_EACH_U32(e, (unsigned)rows * cp) {
        const unsigned s = e / cp, c = (e % cp) / (unsigned)positions, p = e % (unsigned)positions;
        const float v = cm[((size_t)c * rows + s) * positions + p];
        z[e] = beta == 0.0f ? v : beta * z[e] + v;
    }
}
__global__ void k_nchw_to_cm(const float* g, int rows, int channels, int positions, float* cm) {
    const unsigned cp = (unsigned)channels * positions;
    FOR_EACH_U32(e, (unsigned)rows * cp) {
        const unsigned s = e / cp, c = (e % cp) / (unsigned)positions, p = e % (unsigned)positions;
        cm[((size_t)c * rows + s) * positions + p] = g[e];
    }
}
// pooling (k x k windows, stride, no padding): forward (max records the first maximum), apply, transpose
__global__ void k_pool_fwd(Geo g, int max, const float* x, int rows, float* y, int* arg) {
    const unsigned out_size = (unsigned)g.cin * g.P(), in_size = (unsigned)g.cin * g.hin * g.win;
    FOR_EACH_U32(e, (unsigned)rows * out_size) {
        const int s = (int)(e / out_size), base = g.window((int)(e % out_size));
        float best = -INFINITY, sum = 0.0f;
        int where = base;
        for (int i = 0; i < g.k; ++i)
            for (int j = 0; j < g.k; ++j) {
                const int idx = base + i * g.win + j;
                const float v = x[s * in_size + idx];
                sum += v;
                if (v > best) {
                    best = v;
                    where = idx;
                }
            }
        if (max) {
            y[e] = best;
            arg[e] = where;
        } else {
            y[e] = sum / (g.k * g.k);
        }
    }
}
__global__ void k_pool_apply(Geo g, int max, const float* rx, int rows, const int* arg, float* ry) {
    const unsigned out_size = (unsigned)g.cin * g.P(), in_size = (unsigned)g.cin * g.hin * g.win;
    FOR_EACH_U32(e, (unsigned)rows * out_size) {
        const int s = (int)(e / out_size);
        if (max) {
            ry[e] = rx[s * in_size + arg[e]];
            continue;
        }
        const float* window = rx + s * in_size + g.window((int)(e % out_size));
        float sum = 0.0f;
        for (int i = 0; i < g.k; ++i)
            for (int j = 0; j < g.k; ++j) sum += window[i * g.win + j];
        ry[e] = sum / (g.k * g.k);
    }
}
__global__ void k_pool_t(Geo g, int max, const float* gy, int rows, const int* arg, float* gx) {
    const unsigned out_size = (unsigned)g.cin * g.P(), in_size = (unsigned)g.cin * g.hin * g.win;
    FOR_EACH_U32(e, (unsigned)rows * out_size) {
        const int s = (int)(e / out_size);
        if (max) {
            atomicAdd(&gx[s * in_size + arg[e]], gy[e]);
            continue;
        }
        float* window = gx + s * in_size + g.window((int)(e % out_size));
        const float v = gy[e] / (g.k * g.k);
        for (int i = 0; i < g.k; ++i)
            for (int j = 0; j < g.k; ++j) atomicAdd(&window[i * g.win + j], v);
    }
}

// The loss on the output, added to *loss (the batch mean), with dL/da into ga (if non-null) and the
// probabilities into P for the R-operator. Softmax cross-entropy needs whole rows (few classes):
// one thread per row; the other losses are elementwise: one thread per element, coalesced.
__global__ void k_top_softmax(const float* Z, const int* labels, int rows, int d, int b, float* P, float* ga, double* loss) {
    double sum = 0;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < rows; i += (long long)blockDim.x * gridDim.x) {
        const float* z = Z + i * d;
        float* p = P + i * d;
        float zmax = z[0];
        for (int j = 1; j < d; ++j) zmax = fmaxf(zmax, z[j]);
        double e = 0;
        for (int j = 0; j < d; ++j) e += exp((double)z[j] - zmax);
        const int y = labels[i];
        sum += (log(e) + zmax - z[y]) / b;
        for (int j = 0; j < d; ++j) {
            p[j] = (float)(exp((double)z[j] - zmax) / e);
            if (ga != nullptr) ga[i * d + j] = (p[j] - (j == y ? 1.0f : 0.0f)) / b;
        }
    }
    block_add(sum, loss);
}
// BCE (from the logits; P = sigmoid) and squared error (mean over all outputs, or summed per sample)
__global__ void k_top_elementwise(int kind, const float* Z, const float* targets, long long n, int d, int b, float* P, float* ga, double* loss) {
    const double c = kind == AN_LOSS_SQUARED_MEAN ? 2.0 / ((double)b * d) : 2.0 / b;
    double sum = 0;
    for (long long e = blockIdx.x * (long long)blockDim.x + threadIdx.x; e < n; e += (long long)blockDim.x * gridDim.x) {
        const double z = Z[e], t = targets[e];
        if (kind == AN_LOSS_BCE) {
            sum += ((z > 0 ? z + log1p(exp(-z)) : log1p(exp(z))) - t * z) / b;
            const float p = (float)(1.0 / (1.0 + exp(-z)));
            P[e] = p;
            if (ga != nullptr) ga[e] = (p - targets[e]) / b;
        } else {
            const double r = z - t;
            sum += 0.5 * c * r * r;
            if (ga != nullptr) ga[e] = (float)(c * r);
        }
    }
    block_add(sum, loss);
}
// RGA = (the loss' Hessian in a) RA
__global__ void k_top_r_softmax(const float* P, const float* RA, int rows, int d, int b, float* RGA) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < rows; i += (long long)blockDim.x * gridDim.x) {
        const float* p = P + i * d;
        const float* r = RA + i * d;
        double pr = 0;
        for (int j = 0; j < d; ++j) pr += (double)p[j] * r[j];
        for (int j = 0; j < d; ++j) RGA[i * d + j] = p[j] * (r[j] - (float)pr) / b;
    }
}
__global__ void k_top_r_elementwise(int kind, const float* P, const float* RA, long long n, int d, int b, float* RGA) {
    const float c = (float)(kind == AN_LOSS_SQUARED_MEAN ? 2.0 / ((double)b * d) : 2.0 / b);
    for (long long e = blockIdx.x * (long long)blockDim.x + threadIdx.x; e < n; e += (long long)blockDim.x * gridDim.x)
        RGA[e] = kind == AN_LOSS_BCE ? P[e] * (1.0f - P[e]) * RA[e] / b : c * RA[e];
}

}  // namespace

// ---- the context ----
struct an_cuda {
    int device = 0;
    cudaStream_t stream = nullptr;
    void* blas = nullptr;
    static constexpr int SLOTS = 8;
    double* reduce = nullptr;       // SLOTS device doubles for reductions (slot 0: reduce_to_host; the Krylov engine's slots)
    double* host_reduce = nullptr;  // SLOTS pinned host doubles
    float* coefficients = nullptr;       // the Lanczos step's coefficients h on the device, grown between solves only
    float* host_coefficients = nullptr;  // and their pinned staging buffer (the copy then waits for nothing)
    size_t coefficient_floats = 0;
    long long syncs = 0;            // host synchronizations with the stream so far (an_cuda_sync_count)
    long long allocations = 0;      // cudaMalloc and cudaMallocHost calls so far (an_cuda_allocation_count)

    // every device and pinned allocation of the backend goes through these two, so that it is counted
    template <class T>
    void device_alloc(T** p, size_t bytes) {
        CK(cudaMalloc(p, bytes));
        ++allocations;
    }
    template <class T>
    void pinned_alloc(T** p, size_t bytes) {
        CK(cudaMallocHost(p, bytes));
        ++allocations;
    }

    // the host waits for the stream: the only place where it does, so that syncs counts every wait
    void sync() {
        CK(cudaStreamSynchronize(stream));
        ++syncs;
    }
    // brings `count` device doubles to the host's pinned buffer
    const double* fetch(const double* device, int count) {
        if (count < 1 || count > SLOTS) throw std::logic_error("fetch of " + std::to_string(count) + " doubles; the buffer holds " + std::to_string(SLOTS));
        CK(cudaGetLastError());
        CK(cudaMemcpyAsync(host_reduce, device, sizeof(double) * count, cudaMemcpyDeviceToHost, stream));
        sync();
        return host_reduce;
    }
    double reduce_to_host(const std::function<void(double*)>& launch) {
        CK(cudaMemsetAsync(reduce, 0, sizeof(double), stream));
        launch(reduce);
        return fetch(reduce, 1)[0];
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
        c->device_alloc(&c->reduce, sizeof(double) * an_cuda::SLOTS);
        c->pinned_alloc(&c->host_reduce, sizeof(double) * an_cuda::SLOTS);
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
    cudaFree(c->coefficients);
    cudaFreeHost(c->host_coefficients);
    cudaStreamDestroy(c->stream);
    delete c;
}

float* an_cuda_alloc(an_cuda* c, long long n) {
    float* out = nullptr;
    an::guarded([&]() -> int {
        CK(cudaSetDevice(c->device));
        c->device_alloc(&out, static_cast<size_t>(std::max(1LL, n)) * sizeof(float));
        return AN_OK;
    });
    return out;
}

int an_cuda_free(an_cuda* c, float* p) {
    return an::guarded([&]() -> int {
        if (c) CK(cudaSetDevice(c->device));
        CK(cudaFree(p));
        return AN_OK;
    });
}

int an_cuda_copy(an_cuda* c, const float* src, float* dst, long long n, int kind /* 0 h->d, 1 d->h, 2 d->d */) {
    return an::guarded([&]() -> int {
        const cudaMemcpyKind k = kind == 0 ? cudaMemcpyHostToDevice : kind == 1 ? cudaMemcpyDeviceToHost : cudaMemcpyDeviceToDevice;
        CK(cudaMemcpyAsync(dst, src, static_cast<size_t>(n) * sizeof(float), k, c->stream));
        if (kind != 2) c->sync();
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

// ---- networks on the device (dense, conv2d, max/avg pooling: the layers of network.cpp) ----
struct an_cuda_net {
    an_cuda* ctx = nullptr;
    struct L {
        int kind, in, out, act;
        long long w_off, b_off;
        Geo g;
        bool params() const { return kind == AN_LAYER_DENSE || kind == AN_LAYER_CONV2D; }
        int period() const { return kind == AN_LAYER_CONV2D ? g.P() : 1; }
        long long weights() const { return kind == AN_LAYER_DENSE ? (long long)in * out : (long long)g.cout * g.K(); }
        long long biases() const { return kind == AN_LAYER_DENSE ? out : g.cout; }
    };
    std::vector<L> layers;
    int input = 0, loss = 0, reg = 0, max_batch = 0;
    double lambda = 0;
    long long params = 0;
    std::vector<float*> A, G, RZ, RA, RG;
    std::vector<int*> arg;
    float *P = nullptr, *cols = nullptr, *cm = nullptr;
    // per conv layer: im2col of its input at the cached point (forward), and of its R-input
    // (r_forward, layers after the first), each read again by the backward passes; null elsewhere
    std::vector<float*> xcols, rcols;
    float* ones = nullptr;          // max(max_batch, positions) ones: bias gradients as GEMMs
    float* channel_rows = nullptr;  // max_batch x channels: per-(sample, channel) sums of a conv's G
    // regularization: the parameter tensors (each W and each b: offset, length), device slots for
    // their |T|^2 (0..T-1), w'v (T..2T-1) and the data loss (2T), pinned host copies, and the norms
    // at the cached point
    std::vector<long long> tensor_off, tensor_len;
    double* reg_dev = nullptr;
    double* reg_host = nullptr;
    std::vector<double> reg_norm;
    const float *w = nullptr, *x = nullptr;
    const int* labels = nullptr;
    const float* targets = nullptr;
    int batch = 0;
    bool cached = false;

    // frees whatever was allocated, also when an_cuda_net_create fails half-way
    ~an_cuda_net() {
        if (ctx != nullptr) cudaSetDevice(ctx->device);
        for (auto* vec : {&A, &G, &RZ, &RA, &RG, &xcols, &rcols})
            for (float* p : *vec) cudaFree(p);
        for (int* a : arg) cudaFree(a);
        for (float* p : {P, cols, cm, ones, channel_rows}) cudaFree(p);
        cudaFree(reg_dev);
        cudaFreeHost(reg_host);
    }

    float* ra(size_t l) { return layers[l].act == AN_ACT_IDENTITY ? RZ[l] : RA[l]; }
    const float* in(size_t l, const float* xr) { return l == 0 ? xr : A[l - 1]; }
    cudaStream_t s() const { return ctx->stream; }

    // xc = im2col(x) (K x rows*P) for a conv layer
    const float* im2col(const L& q, const float* x_, int rows, float* xc) {
        k_im2col<<<blocks((long long)rows * q.g.P()), THREADS, 0, s()>>>(q.g, x_, rows, xc);
        return xc;
    }
    // z = beta z + L_W(x); a conv layer reads x as xc = im2col(x), computed once per point
    void linear(const L& q, const float* W, const float* x_, const float* xc, int rows, float beta, float* z) {
        if (q.kind == AN_LAYER_DENSE) {
            ctx->gemm_nt(rows, q.out, q.in, x_, W, beta, z);
            return;
        }
        const long long bp = (long long)rows * q.g.P();
        ctx->gemm_nn(q.g.cout, (int)bp, q.g.K(), W, xc, 0.0f, cm);
        k_cm_to_nchw<<<blocks((long long)rows * q.out), THREADS, 0, s()>>>(cm, rows, q.g.cout, q.g.P(), beta, z);
    }
    // gx = beta gx + L_W^T(g)
    void linear_t(const L& q, const float* W, const float* g_, int rows, float beta, float* gx) {
        if (q.kind == AN_LAYER_DENSE) {
            ctx->gemm_nn(rows, q.in, q.out, g_, W, beta, gx);
            return;
        }
        const long long bp = (long long)rows * q.g.P();
        k_nchw_to_cm<<<blocks((long long)rows * q.out), THREADS, 0, s()>>>(g_, rows, q.g.cout, q.g.P(), cm);
        ctx->gemm_tn(q.g.K(), (int)bp, q.g.cout, W, cm, 0.0f, cols);
        k_col2im<<<blocks((long long)rows * q.in), THREADS, 0, s()>>>(q.g, cols, rows, beta, gx);
    }
    // dW = beta dW + outer(g, x) (a conv layer reads x as xc = im2col(x))
    void outer(const L& q, const float* g_, const float* x_, const float* xc, int rows, float beta, float* dW) {
        if (q.kind == AN_LAYER_DENSE) {
            ctx->gemm_tn(q.out, q.in, rows, g_, x_, beta, dW);
            return;
        }
        const long long bp = (long long)rows * q.g.P();
        k_nchw_to_cm<<<blocks((long long)rows * q.out), THREADS, 0, s()>>>(g_, rows, q.g.cout, q.g.P(), cm);
        ctx->gemm_nt(q.g.cout, q.g.K(), (int)bp, cm, xc, beta, dW);
    }
    // db = column sums of G (dense: ones' G; conv: sums over the positions, then over the rows),
    // as cuBLAS GEMMs with a ones vector: the bandwidth-bound reduction at full device width
    void bias_grad(const L& q, const float* G_, int rows, float* dst) {
        if (q.kind == AN_LAYER_DENSE) {
            ctx->gemm_nn(1, q.out, rows, ones, G_, 0.0f, dst);
            return;
        }
        ctx->gemm_nn(rows * q.g.cout, 1, q.g.P(), G_, ones, 0.0f, channel_rows);
        ctx->gemm_nn(1, q.g.cout, rows, ones, channel_rows, 0.0f, dst);
    }
    void pool_t(const L& q, size_t l, const float* gy, int rows, float* gx) {
        CK(cudaMemsetAsync(gx, 0, sizeof(float) * (size_t)rows * q.in, s()));
        k_pool_t<<<blocks((long long)rows * q.out), THREADS, 0, s()>>>(q.g, q.kind == AN_LAYER_MAXPOOL2D, gy, rows, arg[l], gx);
    }

    void forward(const float* w_, const float* xr, int rows) {
        for (size_t l = 0; l < layers.size(); ++l) {
            const L& q = layers[l];
            if (!q.params()) {
                k_pool_fwd<<<blocks((long long)rows * q.out), THREADS, 0, s()>>>(q.g, q.kind == AN_LAYER_MAXPOOL2D, in(l, xr), rows, A[l], arg[l]);
                continue;
            }
            const float* xc = q.kind == AN_LAYER_CONV2D ? im2col(q, in(l, xr), rows, xcols[l]) : nullptr;
            linear(q, w_ + q.w_off, in(l, xr), xc, rows, 0.0f, A[l]);
            k_bias_act<<<blocks((long long)rows * q.out), THREADS, 0, s()>>>(q.act, A[l], w_ + q.b_off, rows, q.out, q.period());
        }
    }
    // the loss at the output into the data-loss slot (reg_dev[2T]), its gradient into ga (if non-null)
    void top(int rows, float* ga) {
        const int d = layers.back().out;
        double* slot = reg_dev + 2 * tensor_off.size();
        CK(cudaMemsetAsync(slot, 0, sizeof(double), s()));
        if (loss == AN_LOSS_SOFTMAX_CE) k_top_softmax<<<blocks(rows), THREADS, 0, s()>>>(A.back(), labels, rows, d, rows, P, ga, slot);
        else k_top_elementwise<<<blocks((long long)rows * d), THREADS, 0, s()>>>(loss, A.back(), targets, (long long)rows * d, d, rows, P, ga, slot);
    }
    // RG at the output = the loss' Hessian times RA at the output
    void top_r(int rows) {
        const size_t last = layers.size() - 1;
        const int d = layers.back().out;
        if (loss == AN_LOSS_SOFTMAX_CE) k_top_r_softmax<<<blocks(rows), THREADS, 0, s()>>>(P, ra(last), rows, d, rows, RG[last]);
        else k_top_r_elementwise<<<blocks((long long)rows * d), THREADS, 0, s()>>>(loss, P, ra(last), (long long)rows * d, d, rows, RG[last]);
    }
    void backprop(std::vector<float*>& D, const float* w_, const float* xr, int rows, float* grad) {
        for (int l = (int)layers.size() - 1; l >= 0; --l) {
            const L& q = layers[l];
            if (!q.params()) {
                if (l > 0) pool_t(q, l, D[l], rows, D[l - 1]);
                continue;
            }
            k_back_act<<<blocks((long long)rows * q.out), THREADS, 0, s()>>>(q.act, D[l], A[l], (long long)rows * q.out);
            bias_grad(q, D[l], rows, grad + q.b_off);
            outer(q, D[l], in(l, xr), xcols[l], rows, 0.0f, grad + q.w_off);
            if (l > 0) linear_t(q, w_ + q.w_off, D[l], rows, 0.0f, D[l - 1]);
        }
    }
    void r_forward(const float* w_, const float* xr, int rows, const float* v) {
        for (size_t l = 0; l < layers.size(); ++l) {
            const L& q = layers[l];
            if (!q.params()) {
                if (l == 0) CK(cudaMemsetAsync(RZ[l], 0, sizeof(float) * (size_t)rows * q.out, s()));
                else k_pool_apply<<<blocks((long long)rows * q.out), THREADS, 0, s()>>>(q.g, q.kind == AN_LAYER_MAXPOOL2D, ra(l - 1), rows, arg[l], RZ[l]);
                continue;
            }
            linear(q, v + q.w_off, in(l, xr), xcols[l], rows, 0.0f, RZ[l]);
            if (l > 0) {
                const float* rc = q.kind == AN_LAYER_CONV2D ? im2col(q, ra(l - 1), rows, rcols[l]) : nullptr;
                linear(q, w_ + q.w_off, ra(l - 1), rc, rows, 1.0f, RZ[l]);
            }
            k_rfwd_act<<<blocks((long long)rows * q.out), THREADS, 0, s()>>>(q.act, RZ[l], ra(l), A[l], v + q.b_off, rows, q.out, q.period());
        }
    }
    void r_backward(const float* w_, const float* xr, int rows, const float* v, float* out, bool with_backward) {
        for (int l = (int)layers.size() - 1; l >= 0; --l) {
            const L& q = layers[l];
            if (!q.params()) {
                if (l > 0) {
                    pool_t(q, l, RG[l], rows, RG[l - 1]);
                    if (with_backward) pool_t(q, l, G[l], rows, G[l - 1]);
                }
                continue;
            }
            const long long n = (long long)rows * q.out;
            if (with_backward) k_back_act<<<blocks(n), THREADS, 0, s()>>>(q.act, G[l], A[l], n);
            k_rbwd_act<<<blocks(n), THREADS, 0, s()>>>(q.act, RG[l], RZ[l], G[l], A[l], n);
            bias_grad(q, RG[l], rows, out + q.b_off);
            outer(q, RG[l], in(l, xr), xcols[l], rows, 0.0f, out + q.w_off);
            if (l > 0) {
                outer(q, G[l], ra(l - 1), rcols[l], rows, 1.0f, out + q.w_off);
                linear_t(q, w_ + q.w_off, RG[l], rows, 0.0f, RG[l - 1]);
                linear_t(q, v + q.w_off, G[l], rows, 1.0f, RG[l - 1]);
                if (with_backward) linear_t(q, w_ + q.w_off, G[l], rows, 0.0f, G[l - 1]);
            }
        }
    }
    // the regularizer (value and gradient, or Hessian times v), tensor by tensor
    bool regularized() const { return reg != AN_REG_NONE && lambda != 0; }
    // The loss at the point (data loss + regularizer) with one host synchronization; remembers the
    // tensor norms for the regularizer's Hessian and adds the regularizer's gradient (if grad).
    double point_value(const float* w_, float* grad) {
        const int T = (int)tensor_off.size();
        CK(cudaMemsetAsync(reg_dev, 0, sizeof(double) * T, s()));
        if (regularized() && reg == AN_REG_SQUARED)  // only the total is needed: one sum over the parameters, which the tensors tile
            k_reduce<<<blocks(params), THREADS, 0, s()>>>(DotF{w_, w_}, params, reg_dev);
        else if (regularized())
            for (int t = 0; t < T; ++t)
                k_reduce<<<blocks(tensor_len[t]), THREADS, 0, s()>>>(DotF{w_ + tensor_off[t], w_ + tensor_off[t]}, tensor_len[t], reg_dev + t);
        CK(cudaGetLastError());
        CK(cudaMemcpyAsync(reg_host, reg_dev, sizeof(double) * T, cudaMemcpyDeviceToHost, s()));
        CK(cudaMemcpyAsync(reg_host + T, reg_dev + 2 * T, sizeof(double), cudaMemcpyDeviceToHost, s()));
        ctx->sync();
        double value = reg_host[T];
        if (!regularized()) return value;
        if (reg == AN_REG_SQUARED) {
            value += 0.5 * lambda * reg_host[0];
            if (grad) k_axpby<<<blocks(params), THREADS, 0, s()>>>((float)lambda, w_, 1.0f, grad, params);
        } else {
            for (int t = 0; t < T; ++t) {
                const double norm = std::sqrt(reg_host[t]);
                reg_norm[t] = norm;
                value += lambda * norm;
                if (grad && norm > 0)
                    k_axpby<<<blocks(tensor_len[t]), THREADS, 0, s()>>>((float)(lambda / norm), w_ + tensor_off[t], 1.0f, grad + tensor_off[t], tensor_len[t]);
            }
        }
        CK(cudaGetLastError());
        return value;
    }
    // hv += the regularizer's Hessian times v at the cached point, without a host synchronization
    void reg_hv(const float* w_, const float* v, float* hv) {
        if (!regularized()) return;
        if (reg == AN_REG_SQUARED) {
            k_axpby<<<blocks(params), THREADS, 0, s()>>>((float)lambda, v, 1.0f, hv, params);
            return;
        }
        const int T = (int)tensor_off.size();
        CK(cudaMemsetAsync(reg_dev + T, 0, sizeof(double) * T, s()));
        for (int t = 0; t < T; ++t) {
            if (!(reg_norm[t] > 0)) continue;
            const long long off = tensor_off[t], n = tensor_len[t];
            k_reduce<<<blocks(n), THREADS, 0, s()>>>(DotF{w_ + off, v + off}, n, reg_dev + T + t);
            k_reg_norm_hv<<<blocks(n), THREADS, 0, s()>>>(w_ + off, v + off, hv + off, n, lambda, reg_norm[t], reg_dev + T + t);
        }
    }
    // out = (Hessian or Gauss-Newton) v at the cached point; no host synchronization
    void product(int curvature, const float* v, float* out) {
        if (!cached) throw std::logic_error("no cached point: call gradient() or hvp() first");
        r_forward(w, x, batch, v);
        top_r(batch);
        if (curvature == 1) backprop(RG, w, x, batch, out);
        else r_backward(w, x, batch, v, out, false);
        reg_hv(w, v, out);
        CK(cudaGetLastError());
    }
};

extern "C" {

an_cuda_net* an_cuda_net_create(an_cuda* ctx, const int* spec, int spec_len, int loss, int reg, double lambda, int max_batch) {
    an_cuda_net* result = nullptr;
    an::guarded([&]() -> int {
        if (!ctx || !spec || spec_len < 2 || max_batch < 1) throw std::invalid_argument("invalid network arguments");
        if (loss < AN_LOSS_SOFTMAX_CE || loss > AN_LOSS_BCE) throw std::invalid_argument("unknown loss");
        if (reg < AN_REG_NONE || reg > AN_REG_NORM || !(lambda >= 0)) throw std::invalid_argument("invalid regularization");
        auto net = std::make_unique<an_cuda_net>();
        net->ctx = ctx;
        net->input = spec[0];
        const int n = spec[1];
        if (net->input < 1 || n < 1 || spec_len != 2 + AN_SPEC_INTS_PER_LAYER * n) throw std::invalid_argument("malformed network spec");
        int in = net->input;
        long long off = 0;
        size_t cols_floats = 1, cm_floats = 1, ones_floats = (size_t)max_batch, channels = 1;
        for (int l = 0; l < n; ++l) {
            const int* s = spec + 2 + AN_SPEC_INTS_PER_LAYER * l;
            const std::string where = "layer " + std::to_string(l) + " in network spec: ";
            an_cuda_net::L q{};
            q.kind = s[0];
            q.act = s[1];
            q.in = in;
            q.w_off = q.b_off = -1;
            if (q.act < AN_ACT_IDENTITY || q.act > AN_ACT_SOFTPLUS) throw std::invalid_argument(where + "unknown activation");
            if (q.kind == AN_LAYER_DENSE) {
                if (s[2] < 1) throw std::invalid_argument(where + "dense output size < 1");
                q.out = s[2];
            } else if (q.kind == AN_LAYER_CONV2D || q.kind == AN_LAYER_MAXPOOL2D || q.kind == AN_LAYER_AVGPOOL2D) {
                const bool conv = q.kind == AN_LAYER_CONV2D;
                q.g.cin = s[2];
                q.g.hin = s[3];
                q.g.win = s[4];
                q.g.cout = conv ? s[5] : q.g.cin;
                q.g.k = conv ? s[6] : s[5];
                q.g.stride = conv ? s[7] : s[6];
                q.g.pad = conv ? s[8] : 0;
                if (q.g.cin < 1 || q.g.hin < 1 || q.g.win < 1 || q.g.cout < 1 || q.g.k < 1 || q.g.stride < 1 || q.g.pad < 0)
                    throw std::invalid_argument(where + "invalid geometry");
                if ((long long)q.g.cin * q.g.hin * q.g.win != in)
                    throw std::invalid_argument(where + "input " + std::to_string(q.g.cin) + "x" + std::to_string(q.g.hin) + "x" + std::to_string(q.g.win) +
                                                " does not match the previous output size " + std::to_string(in));
                if (q.g.hin + 2 * q.g.pad < q.g.k || q.g.win + 2 * q.g.pad < q.g.k) throw std::invalid_argument(where + "kernel larger than the input");
                if (!conv && q.act != AN_ACT_IDENTITY) throw std::invalid_argument(where + "pooling takes no activation");
                q.g.hout = (q.g.hin + 2 * q.g.pad - q.g.k) / q.g.stride + 1;
                q.g.wout = (q.g.win + 2 * q.g.pad - q.g.k) / q.g.stride + 1;
                q.out = q.g.cout * q.g.P();
                if (conv) {
                    cols_floats = std::max(cols_floats, (size_t)q.g.K() * q.g.P() * (size_t)max_batch);
                    cm_floats = std::max(cm_floats, (size_t)q.out * (size_t)max_batch);
                    ones_floats = std::max(ones_floats, (size_t)q.g.P());
                    channels = std::max(channels, (size_t)q.g.cout);
                }
            } else {
                throw std::invalid_argument(where + "unknown layer kind " + std::to_string(q.kind));
            }
            const size_t largest = std::max({(size_t)q.in, (size_t)q.out, q.kind == AN_LAYER_CONV2D ? (size_t)q.g.K() * q.g.P() : size_t(0)}) * max_batch;
            if (largest > (size_t)INT32_MAX)
                throw std::invalid_argument(where + "max_batch " + std::to_string(max_batch) + " makes a buffer of " + std::to_string(largest) +
                                            " floats; the CUDA layer kernels index in 32 bits (at most 2^31 - 1): use a smaller batch");
            if (q.params()) {
                q.w_off = off;
                q.b_off = off + q.weights();
                off = q.b_off + q.biases();
                net->tensor_off.push_back(q.w_off);
                net->tensor_len.push_back(q.weights());
                net->tensor_off.push_back(q.b_off);
                net->tensor_len.push_back(q.biases());
            }
            net->layers.push_back(q);
            in = q.out;
        }
        net->params = off;
        net->loss = loss;
        net->reg = reg;
        net->lambda = lambda;
        net->max_batch = max_batch;
        CK(cudaSetDevice(ctx->device));
        auto device_floats = [ctx](std::vector<float*>& vec, size_t floats) {
            float* p = nullptr;
            if (floats > 0) ctx->device_alloc(&p, sizeof(float) * floats);
            vec.push_back(p);
        };
        for (size_t l = 0; l < net->layers.size(); ++l) {
            const auto& q = net->layers[l];
            const size_t act = (size_t)max_batch * q.out, im2col = q.kind == AN_LAYER_CONV2D ? (size_t)q.g.K() * q.g.P() * max_batch : 0;
            for (auto* vec : {&net->A, &net->G, &net->RZ, &net->RG}) device_floats(*vec, act);
            device_floats(net->RA, q.act == AN_ACT_IDENTITY ? 0 : act);  // ra(l) is RZ[l] for identity layers
            device_floats(net->xcols, im2col);
            device_floats(net->rcols, l > 0 ? im2col : 0);
            int* a = nullptr;
            if (q.kind == AN_LAYER_MAXPOOL2D) ctx->device_alloc(&a, sizeof(int) * (size_t)max_batch * q.out);
            net->arg.push_back(a);
        }
        ctx->device_alloc(&net->cols, sizeof(float) * cols_floats);
        ctx->device_alloc(&net->cm, sizeof(float) * cm_floats);
        ctx->device_alloc(&net->ones, sizeof(float) * ones_floats);
        ctx->device_alloc(&net->channel_rows, sizeof(float) * channels * (size_t)max_batch);
        k_fill<<<blocks((long long)ones_floats), THREADS, 0, ctx->stream>>>(1.0f, net->ones, (long long)ones_floats);
        CK(cudaGetLastError());
        ctx->device_alloc(&net->P, sizeof(float) * (size_t)max_batch * net->layers.back().out);
        const size_t T = net->tensor_off.size();
        ctx->device_alloc(&net->reg_dev, sizeof(double) * (2 * T + 1));
        ctx->pinned_alloc(&net->reg_host, sizeof(double) * (T + 1));
        net->reg_norm.assign(T, 0.0);
        result = net.release();
        return AN_OK;
    });
    return result;
}

void an_cuda_net_destroy(an_cuda_net* net) { delete net; }

long long an_cuda_net_param_count(const an_cuda_net* net) { return net ? net->params : -1; }

}  // extern "C"

namespace {
// Every network entry point: a second line behind Java's checks, and the context's device made
// current for this thread (JNI threads differ). batch 0: a call without a batch.
an_cuda_net* enter(an_cuda_net* net, int batch) {
    if (net == nullptr) throw std::invalid_argument("null network");
    if (batch != 0 && (batch < 1 || batch > net->max_batch))
        throw std::invalid_argument("batch = " + std::to_string(batch) + "; must be in [1, " + std::to_string(net->max_batch) + "]");
    CK(cudaSetDevice(net->ctx->device));
    return net;
}
}  // namespace

extern "C" {

int an_cuda_net_forward(an_cuda_net* net, const float* w, const float* x, int batch, float* out) {
    return an::guarded([&]() -> int {
        enter(net, batch)->cached = false;
        net->forward(w, x, batch);
        CK(cudaMemcpyAsync(out, net->A.back(), sizeof(float) * (size_t)batch * net->layers.back().out, cudaMemcpyDeviceToDevice, net->s()));
        CK(cudaGetLastError());
        return AN_OK;
    });
}

int an_cuda_net_loss(an_cuda_net* net, const float* w, const float* x, const int* labels, const float* targets, int batch, double* loss) {
    return an::guarded([&]() -> int {
        enter(net, batch)->cached = false;
        net->labels = labels;
        net->targets = targets;
        net->forward(w, x, batch);
        net->top(batch, nullptr);
        *loss = net->point_value(w, nullptr);
        return AN_OK;
    });
}

int an_cuda_net_gradient(an_cuda_net* net, const float* w, const float* x, const int* labels, const float* targets, int batch, float* grad,
                         double* loss) {
    return an::guarded([&]() -> int {
        enter(net, batch)->cached = false;
        net->labels = labels;
        net->targets = targets;
        net->forward(w, x, batch);
        net->top(batch, net->G.back());
        net->backprop(net->G, w, x, batch, grad);
        *loss = net->point_value(w, grad);
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
        enter(net, batch)->cached = false;
        net->labels = labels;
        net->targets = targets;
        net->forward(w, x, batch);
        net->r_forward(w, x, batch, v);
        net->top(batch, net->G.back());
        net->top_r(batch);
        net->r_backward(w, x, batch, v, out, true);
        *loss = net->point_value(w, nullptr);
        net->reg_hv(w, v, out);
        CK(cudaGetLastError());
        net->cached = true;
        net->w = w;
        net->x = x;
        net->batch = batch;
        return AN_OK;
    });
}

int an_cuda_net_hvp_cached(an_cuda_net* net, const float* v, float* out) {
    return an::guarded([&]() -> int {
        enter(net, 0)->product(0, v, out);
        return AN_OK;
    });
}

int an_cuda_net_gn_cached(an_cuda_net* net, const float* v, float* out) {
    return an::guarded([&]() -> int {
        enter(net, 0)->product(1, v, out);
        return AN_OK;
    });
}

long long an_cuda_sync_count(const an_cuda* c) { return c ? c->syncs : -1; }

long long an_cuda_allocation_count(const an_cuda* c) { return c ? c->allocations : -1; }

int an_cuda_synchronize(an_cuda* c) {
    return an::guarded([&]() -> int {
        if (!c) throw std::invalid_argument("null context");
        c->sync();
        return AN_OK;
    });
}

}  // extern "C"

namespace {

// The device engine of krylov_driver.h: vectors on the device, reduction slots in the context's
// device doubles, fetch copies them to pinned memory and is the one host synchronization.
struct CudaEngine {
    an_cuda_net* net;
    int curvature;
    long long n;

    cudaStream_t s() const { return net->s(); }
    double* slot(int i) const { return net->ctx->reduce + i; }
    void zero(int i) { CK(cudaMemsetAsync(slot(i), 0, sizeof(double), s())); }

    int product(const float* v, float* out) {
        net->product(curvature, v, out);
        return AN_OK;
    }
    void fill(float value, float* x) { k_fill<<<blocks(n), THREADS, 0, s()>>>(value, x, n); }
    void copy(const float* x, float* y) { CK(cudaMemcpyAsync(y, x, sizeof(float) * (size_t)n, cudaMemcpyDeviceToDevice, s())); }
    void scale_into(float alpha, const float* x, float* y) { k_scale_into<<<blocks(n), THREADS, 0, s()>>>(alpha, x, y, n); }
    void axpby(float alpha, const float* x, float beta, float* y) { k_axpby<<<blocks(n), THREADS, 0, s()>>>(alpha, x, beta, y, n); }
    void dot(const float* x, const float* y, int i) {
        zero(i);
        k_reduce<<<blocks(n), THREADS, 0, s()>>>(DotF{x, y}, n, slot(i));
    }
    void start_cg(const float* r, const float* a, float* y, float* p, int i) {
        zero(i);
        k_start_cg<<<blocks(n), THREADS, 0, s()>>>(r, a, y, p, n, slot(i));
    }
    void cg_update(float alpha, const float* p, const float* bp, const float* a, float* sv, float* r, float* y, int i_ry, int i_rr) {
        zero(i_ry);
        zero(i_rr);
        k_cg_update<<<blocks(n), THREADS, 0, s()>>>(alpha, p, bp, a, sv, r, y, n, slot(i_ry), slot(i_rr));
    }
    void precondition(const float* t, const float* a, float* y, int i) {
        zero(i);
        k_precondition<<<blocks(n), THREADS, 0, s()>>>(t, a, y, n, slot(i));
    }
    void lanczos_update(const float* bv, int i_delta, const float* w, float gamma, const float* wprev, const float* a, float* t, float* y, int i) {
        zero(i);
        k_lanczos_update<<<blocks(n), THREADS, 0, s()>>>(bv, slot(i_delta), w, gamma, wprev, a, t, y, n, slot(i));
    }
    // s = h' V: one GEMM (1 x k) x (k x n) over the kept Lanczos vectors
    void combine(const std::vector<double>& h, const float* basis, float* sv) {
        an_cuda* c = net->ctx;
        const size_t k = h.size();
        // The driver fetched (waited for the stream) at least once in this solve, so the previous
        // solve's copy out of the staging buffer and its GEMM are done: reuse or regrow freely.
        if (k > c->coefficient_floats) {
            cudaFree(c->coefficients);
            cudaFreeHost(c->host_coefficients);
            c->coefficients = nullptr;
            c->host_coefficients = nullptr;
            c->coefficient_floats = 0;
            const size_t grown = std::max<size_t>(k, 64);
            c->device_alloc(&c->coefficients, sizeof(float) * grown);
            c->pinned_alloc(&c->host_coefficients, sizeof(float) * grown);
            c->coefficient_floats = grown;
        }
        for (size_t j = 0; j < k; ++j) c->host_coefficients[j] = static_cast<float>(h[j]);
        CK(cudaMemcpyAsync(c->coefficients, c->host_coefficients, sizeof(float) * k, cudaMemcpyHostToDevice, s()));
        c->gemm_nn(1, (int)n, (int)k, c->coefficients, basis, 0.0f, sv);
    }
    const double* fetch(int count) { return net->ctx->fetch(slot(0), count); }
};

void check_solve(an_cuda_net* net, const void* g, const void* a, const void* s, const void* work, const double* result, int max_iter) {
    enter(net, 0);
    if (!g || !a || !s || !work || !result) throw std::invalid_argument("null pointer");
    if (max_iter < 1 || max_iter > (1 << 20)) throw std::invalid_argument("max_iter = " + std::to_string(max_iter) + "; must be in [1, 2^20]");
    if (net->params > INT32_MAX) throw std::invalid_argument("more than 2^31 - 1 parameters");
    if (!net->cached) throw std::logic_error("no cached point: call gradient() or hvp() first");
}

}  // namespace

extern "C" {

int an_cuda_net_steihaug(an_cuda_net* net, int curvature, const float* g, const float* a, double delta, int max_iter, double tol, int rule,
                         float* s, float* work, double* result) {
    return an::guarded([&]() -> int {
        check_solve(net, g, a, s, work, result, max_iter);
        if (!(delta > 0) || !(tol > 0)) throw std::invalid_argument("invalid Steihaug options");
        CudaEngine e{net, curvature, net->params};
        const int st = an::steihaug_solve(e, g, a, delta, max_iter, tol, rule, s, work, result);
        CK(cudaGetLastError());
        return st;
    });
}

int an_cuda_net_lanczos(an_cuda_net* net, int curvature, int cubic, const float* g, const float* a, double reg, int max_iter, double tol, int rule,
                        float* s, float* work, double* result) {
    return an::guarded([&]() -> int {
        check_solve(net, g, a, s, work, result, max_iter);
        if (!(reg > 0) || !(tol > 0)) throw std::invalid_argument("invalid Lanczos options");
        CudaEngine e{net, curvature, net->params};
        const int st = an::lanczos_solve(e, cubic, g, a, reg, max_iter, tol, rule, s, work, result);
        CK(cudaGetLastError());
        return st;
    });
}

}  // extern "C"
