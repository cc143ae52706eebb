// The CUDA backend's layer kernels: activations and their derivatives, im2col/col2im, the
// channel-major <-> NCHW conversions around the conv GEMMs, pooling, global average pooling,
// dropout, embedding, the row copies of add and concat, batch and layer norm, and the losses, with the host
// launchers that the network engine (network.cu) calls (cuda_internal.cuh). These are the CUDA
// primitives of the shared sweeps (native/common/network_sweep.h).
#include "cuda_internal.cuh"

#include <cmath>

namespace {

using an::Geometry;
using an::cuda::blocks;
using an::cuda::THREADS;

// ---- activations (see native/cpu/network.cpp for phi', kappa; GELU: network_spec.h) ----
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

// a = phi(a + b[(i % width) / period]): period 1 for dense layers, the positions for a conv; a GELU
// layer (act_needs_z) keeps z in Z, takes phi', phi'' from Z and the point's dL/da from GA
__device__ inline float bias_at(const float* b, unsigned i, int width, int period, int count) {
    return b == nullptr ? 0.0f : b[((i % (unsigned)width) / (unsigned)period) % (unsigned)count];
}
__global__ void k_bias_act(int act, float* A, float* Z, const float* b, int rows, int width, int period, int count) {
    FOR_EACH_U32(i, (unsigned)rows * width) {
        const float z = A[i] + bias_at(b, i, width, period, count);
        if (Z != nullptr) {
            Z[i] = z;
            A[i] = an::gelu(z);
        } else {
            A[i] = act_f(act, z);
        }
    }
}
__global__ void k_back_act(int act, float* G, float* GA, const float* A, const float* Z, long long n) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)blockDim.x * gridDim.x) {
        if (GA != nullptr) GA[i] = G[i];
        G[i] *= Z != nullptr ? an::gelu_d1(Z[i]) : act_d1(act, A[i]);
    }
}
__global__ void k_rfwd_act(int act, float* RZ, float* RA, const float* A, const float* Z, const float* vb, int rows, int width, int period,
                           int count) {
    FOR_EACH_U32(i, (unsigned)rows * width) {
        const float rz = RZ[i] + bias_at(vb, i, width, period, count);
        RZ[i] = rz;
        RA[i] = (Z != nullptr ? an::gelu_d1(Z[i]) : act_d1(act, A[i])) * rz;
    }
}
__global__ void k_rbwd_act(int act, float* RG, const float* RZ, const float* G, const float* GA, const float* A, const float* Z, long long n) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)blockDim.x * gridDim.x) {
        if (Z != nullptr) RG[i] = an::gelu_d2(Z[i]) * RZ[i] * GA[i] + an::gelu_d1(Z[i]) * RG[i];
        else RG[i] = act_kappa(act, A[i]) * RZ[i] * G[i] + act_d1(act, A[i]) * RG[i];
    }
}
// cols (K x rows*P) from x (rows x cin*hin*win, NCHW): one thread per column (sample, position),
// looping over the K = cin*k*k rows (consecutive threads write consecutive columns)
__global__ void k_im2col(Geometry g, const float* x, int rows, float* cols) {
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
__global__ void k_col2im(Geometry g, const float* cols, int rows, float beta, float* gx) {
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
__global__ void k_pool_fwd(Geometry g, int max, const float* x, int rows, float* y, int* arg) {
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
__global__ void k_pool_apply(Geometry g, int max, const float* rx, int rows, const int* arg, float* ry) {
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
__global__ void k_pool_t(Geometry g, int max, const float* gy, int rows, const int* arg, float* gx) {
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

// global average pooling: one thread per (row, channel)
__global__ void k_gap(const float* x, int rows, int channels, int positions, float* y) {
    FOR_EACH_U32(e, (unsigned)rows * channels) {
        const float* xs = x + (size_t)e * positions;
        double sum = 0;
        for (int p = 0; p < positions; ++p) sum += xs[p];
        y[e] = (float)(sum / positions);
    }
}
__global__ void k_gap_t(const float* gy, int rows, int channels, int positions, float beta, float* gx) {
    FOR_EACH_U32(e, (unsigned)rows * channels * positions) {
        const float v = gy[e / (unsigned)positions] / positions;
        gx[e] = beta == 0.0f ? v : beta * gx[e] + v;
    }
}
__global__ void k_dropout(const float* x, int rows, int width, uint64_t seed, int layer, int threshold, float scale, float beta, float* y) {
    FOR_EACH_U32(e, (unsigned)rows * width) {
        const int row = (int)(e / (unsigned)width), unit = (int)(e % (unsigned)width);
        const float v = an::dropout_keeps(an::dropout_row(seed, layer, row), unit, threshold) ? x[e] * scale : 0.0f;
        y[e] = beta == 0.0f ? v : beta * y[e] + v;
    }
}
__global__ void k_copy_rows(int rows, int len, const float* x, int x_stride, float beta, float* y, int y_stride) {
    FOR_EACH_U32(e, (unsigned)rows * len) {
        const unsigned r = e / (unsigned)len, i = e % (unsigned)len;
        const float v = x == nullptr ? 0.0f : x[(size_t)r * x_stride + i];
        float* out = y + (size_t)r * y_stride + i;
        *out = beta == 0.0f ? v : beta * *out + v;
    }
}
// an index as the kernels read it: Java checks every index at upload; the clamp keeps a bad one
// inside the table rather than outside the buffer
__device__ inline int embedding_index(float v, int vocabulary) {
    const int i = (int)v;
    return i < 0 ? 0 : (i >= vocabulary ? vocabulary - 1 : i);
}
__global__ void k_embed(const float* idx, int rows, int length, int vocabulary, int dim, const float* W, float* y) {
    FOR_EACH_U32(e, (unsigned)rows * length * dim) {
        const unsigned slot = e / (unsigned)dim, j = e % (unsigned)dim;
        y[e] = W[(size_t)embedding_index(idx[slot], vocabulary) * dim + j];
    }
}
__global__ void k_embed_t(const float* idx, int rows, int length, int vocabulary, int dim, const float* g, float* dW) {
    FOR_EACH_U32(e, (unsigned)rows * length * dim) {
        const unsigned slot = e / (unsigned)dim, j = e % (unsigned)dim;
        atomicAdd(&dW[(size_t)embedding_index(idx[slot], vocabulary) * dim + j], g[e]);
    }
}

// ---- batch and layer norm ----
using an::cuda::NormLayer;
using an::cuda::NormReduce;
using an::cuda::NormTensors;
__device__ inline float norm_xhat(const NormLayer& L, const float* x, unsigned e) {
    const int q = L.set(e);
    return (float)((x[e] - L.st[q]) * L.st[L.cap + q]);
}
__device__ inline float norm_rxhat(const NormLayer& L, const float* rx, unsigned e, float xh) {
    const int q = L.set(e);
    return rx == nullptr ? 0.0f : (float)(L.st[L.cap + q] * (rx[e] - L.st[5 * L.cap + q] - xh * L.st[6 * L.cap + q]));
}
// the K terms of one value (see an::cuda::norm_terms)
__device__ inline void norm_terms(const NormLayer& L, int pass, const NormTensors& t, unsigned e, double* acc) {
    if (pass == an::cuda::NORM_STATS) {
        acc[0] += t.x[e];
        acc[1] += (double)t.x[e] * t.x[e];
        return;
    }
    const float xh = norm_xhat(L, t.x, e);
    const int gi = L.gamma(e);
    if (pass == an::cuda::NORM_RFWD) {
        acc[0] += t.rx[e];
        acc[1] += (double)xh * t.rx[e];
        return;
    }
    if (pass == an::cuda::NORM_BACK || pass == an::cuda::NORM_DGAMMA) {
        const double gzx = (double)t.gz[e] * xh;
        if (pass == an::cuda::NORM_DGAMMA) {
            acc[0] += gzx;
            return;
        }
        acc[0] += (double)t.gamma[gi] * t.gz[e];
        acc[1] += t.gamma[gi] * gzx;
        acc[2] += gzx;
        return;
    }
    const float rxh = norm_rxhat(L, t.rx, e, xh);
    const double rdg = (double)t.rgz[e] * xh + (double)t.gz[e] * rxh;
    if (pass == an::cuda::NORM_RDGAMMA) {
        acc[0] += rdg;
        return;
    }
    const float ry = t.vgamma[gi] * t.gz[e] + t.gamma[gi] * t.rgz[e];
    acc[0] += ry;
    acc[1] += (double)ry * xh;
    acc[2] += (double)(t.gamma[gi] * t.gz[e]) * rxh;
    acc[3] += rdg;
}
// one block per q (grid-strided), its threads over the q's values, then a block sum per term
__global__ void k_norm_reduce(NormLayer L, int pass, NormTensors t, NormReduce r, double* out) {
    const int K = an::cuda::norm_terms(pass);
    for (int q = blockIdx.x; q < r.Q; q += gridDim.x) {
        double acc[4] = {0, 0, 0, 0};
        for (int i = threadIdx.x; i < r.M; i += blockDim.x)
            norm_terms(L, pass, t, (unsigned)((i / r.inner) * r.outer + q * r.stride + i % r.inner), acc);
        for (int j = 0; j < K; ++j) block_add(acc[j], &out[K * q + j]);
    }
}
__global__ void k_norm_finish(NormLayer L, int pass, const double* sums, const double* running, float eps) {
    const int n = L.sets();
    const double m = L.m();
    double* st = L.st;
    FOR_EACH_U32(q, n) {
        if (pass == an::cuda::NORM_STATS) {
            const double mu = sums != nullptr ? sums[2 * q] / m : running[q];
            const double var = sums != nullptr ? fmax(sums[2 * q + 1] / m - mu * mu, 0.0) : running[n + q];
            st[q] = mu;
            st[L.cap + q] = 1.0 / sqrt(var + eps);
            st[2 * L.cap + q] = var;
        } else {
            const int K = an::cuda::norm_terms(pass), at = pass == an::cuda::NORM_BACK ? 3 : 5;
            st[at * L.cap + q] = sums != nullptr ? sums[K * q] / m : 0.0;
            st[(at + 1) * L.cap + q] = sums != nullptr ? sums[K * q + 1] / m : 0.0;
        }
    }
}
__global__ void k_norm_apply(NormLayer L, int pass, NormTensors t, const double* sums, float beta, float* y) {
    const double m = L.m();
    FOR_EACH_U32(e, (unsigned)L.rows * L.out) {
        const int q = L.set(e), gi = L.gamma(e);
        const float xh = norm_xhat(L, t.x, e), s = (float)L.st[L.cap + q];
        float v;
        if (pass == an::cuda::NORM_STATS) {
            v = t.gamma[gi] * xh;
        } else if (pass == an::cuda::NORM_RFWD) {
            v = t.vgamma[gi] * xh + t.gamma[gi] * norm_rxhat(L, t.rx, e, xh);
        } else if (pass == an::cuda::NORM_BACK) {
            const float my = sums != nullptr ? (float)(sums[3 * q] / m) : 0.0f, myx = sums != nullptr ? (float)(sums[3 * q + 1] / m) : 0.0f;
            v = s * (t.gamma[gi] * t.gz[e] - my - xh * myx);
        } else {
            const float rxh = norm_rxhat(L, t.rx, e, xh), mxrx = (float)L.st[6 * L.cap + q];
            const float my = (float)L.st[3 * L.cap + q], myx = (float)L.st[4 * L.cap + q];
            const float mry = sums != nullptr ? (float)(sums[4 * q] / m) : 0.0f, mryx = sums != nullptr ? (float)(sums[4 * q + 1] / m) : 0.0f,
                        myrx = sums != nullptr ? (float)(sums[4 * q + 2] / m) : 0.0f;
            const float g = t.gamma[gi], yv = g * t.gz[e], ry = t.vgamma[gi] * t.gz[e] + g * t.rgz[e];
            v = s * (-s * mxrx * (yv - my - xh * myx) + ry - mry - rxh * myx - xh * (mryx + myrx));
        }
        y[e] = beta == 0.0f ? v : beta * y[e] + v;
    }
}
__global__ void k_take_sums(const double* src, int K, int j, int count, float* dst) {
    FOR_EACH_U32(c, count) dst[c] = (float)src[K * c + j];
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

namespace an {
namespace cuda {

void bias_act(cudaStream_t s, int act, float* A, float* Z, const float* b, int rows, int width, int period, int count) {
    k_bias_act<<<blocks((long long)rows * width), THREADS, 0, s>>>(act, A, Z, b, rows, width, period, count);
}
void back_act(cudaStream_t s, int act, float* G, float* GA, const float* A, const float* Z, long long n) {
    k_back_act<<<blocks(n), THREADS, 0, s>>>(act, G, GA, A, Z, n);
}
void rfwd_act(cudaStream_t s, int act, float* RZ, float* RA, const float* A, const float* Z, const float* vb, int rows, int width, int period,
              int count) {
    k_rfwd_act<<<blocks((long long)rows * width), THREADS, 0, s>>>(act, RZ, RA, A, Z, vb, rows, width, period, count);
}
void rbwd_act(cudaStream_t s, int act, float* RG, const float* RZ, const float* G, const float* GA, const float* A, const float* Z, long long n) {
    k_rbwd_act<<<blocks(n), THREADS, 0, s>>>(act, RG, RZ, G, GA, A, Z, n);
}
void im2col(cudaStream_t s, const Geometry& g, const float* x, int rows, float* cols) {
    k_im2col<<<blocks((long long)rows * g.P()), THREADS, 0, s>>>(g, x, rows, cols);
}
void col2im(cudaStream_t s, const Geometry& g, const float* cols, int rows, float beta, float* gx) {
    k_col2im<<<blocks((long long)rows * g.cin * g.hin * g.win), THREADS, 0, s>>>(g, cols, rows, beta, gx);
}
void cm_to_nchw(cudaStream_t s, const float* cm, int rows, int channels, int positions, float beta, float* z) {
    k_cm_to_nchw<<<blocks((long long)rows * channels * positions), THREADS, 0, s>>>(cm, rows, channels, positions, beta, z);
}
void nchw_to_cm(cudaStream_t s, const float* g, int rows, int channels, int positions, float* cm) {
    k_nchw_to_cm<<<blocks((long long)rows * channels * positions), THREADS, 0, s>>>(g, rows, channels, positions, cm);
}
void pool_forward(cudaStream_t s, const Geometry& g, bool max, const float* x, int rows, float* y, int* arg) {
    k_pool_fwd<<<blocks((long long)rows * g.cin * g.P()), THREADS, 0, s>>>(g, max, x, rows, y, arg);
}
void pool_apply(cudaStream_t s, const Geometry& g, bool max, const float* rx, int rows, const int* arg, float* ry) {
    k_pool_apply<<<blocks((long long)rows * g.cin * g.P()), THREADS, 0, s>>>(g, max, rx, rows, arg, ry);
}
void pool_transpose(cudaStream_t s, const Geometry& g, bool max, const float* gy, int rows, const int* arg, float beta, float* gx) {
    if (beta == 0.0f) CK(cudaMemsetAsync(gx, 0, sizeof(float) * (size_t)rows * g.cin * g.hin * g.win, s));
    k_pool_t<<<blocks((long long)rows * g.cin * g.P()), THREADS, 0, s>>>(g, max, gy, rows, arg, gx);
}
void gap(cudaStream_t s, const float* x, int rows, int channels, int positions, float* y) {
    k_gap<<<blocks((long long)rows * channels), THREADS, 0, s>>>(x, rows, channels, positions, y);
}
void gap_t(cudaStream_t s, const float* gy, int rows, int channels, int positions, float beta, float* gx) {
    k_gap_t<<<blocks((long long)rows * channels * positions), THREADS, 0, s>>>(gy, rows, channels, positions, beta, gx);
}
void dropout(cudaStream_t s, const float* x, int rows, int width, uint64_t seed, int layer, int threshold, float scale, float beta, float* y) {
    k_dropout<<<blocks((long long)rows * width), THREADS, 0, s>>>(x, rows, width, seed, layer, threshold, scale, beta, y);
}
void copy_rows(cudaStream_t s, int rows, int len, const float* x, int x_stride, float beta, float* y, int y_stride) {
    k_copy_rows<<<blocks((long long)rows * len), THREADS, 0, s>>>(rows, len, x, x_stride, beta, y, y_stride);
}
void embed(cudaStream_t s, const float* idx, int rows, int length, int vocabulary, int dim, const float* W, float* y) {
    k_embed<<<blocks((long long)rows * length * dim), THREADS, 0, s>>>(idx, rows, length, vocabulary, dim, W, y);
}
void embed_t(cudaStream_t s, const float* idx, int rows, int length, int vocabulary, int dim, const float* g, float* dW) {
    CK(cudaMemsetAsync(dW, 0, sizeof(float) * (size_t)vocabulary * dim, s));
    k_embed_t<<<blocks((long long)rows * length * dim), THREADS, 0, s>>>(idx, rows, length, vocabulary, dim, g, dW);
}
void norm_reduce(cudaStream_t s, const NormLayer& L, int pass, const NormTensors& t, const NormReduce& r, double* out) {
    CK(cudaMemsetAsync(out, 0, sizeof(double) * norm_terms(pass) * r.Q, s));
    k_norm_reduce<<<std::min(r.Q, 4096), THREADS, 0, s>>>(L, pass, t, r, out);
}
void norm_finish(cudaStream_t s, const NormLayer& L, int pass, const double* sums, const double* running, float eps) {
    k_norm_finish<<<blocks(L.sets()), THREADS, 0, s>>>(L, pass, sums, running, eps);
}
void norm_apply(cudaStream_t s, const NormLayer& L, int pass, const NormTensors& t, const double* sums, float beta, float* y) {
    k_norm_apply<<<blocks((long long)L.rows * L.out), THREADS, 0, s>>>(L, pass, t, sums, beta, y);
}
void take_sums(cudaStream_t s, const double* src, int K, int j, int count, float* dst) {
    k_take_sums<<<blocks(count), THREADS, 0, s>>>(src, K, j, count, dst);
}
void loss(cudaStream_t s, int kind, const float* Z, const int* labels, const float* targets, int rows, int d, float* P, float* ga, double* slot) {
    if (kind == AN_LOSS_SOFTMAX_CE) k_top_softmax<<<blocks(rows), THREADS, 0, s>>>(Z, labels, rows, d, rows, P, ga, slot);
    else k_top_elementwise<<<blocks((long long)rows * d), THREADS, 0, s>>>(kind, Z, targets, (long long)rows * d, d, rows, P, ga, slot);
}
void loss_r(cudaStream_t s, int kind, const float* P, const float* RA, int rows, int d, float* RGA) {
    if (kind == AN_LOSS_SOFTMAX_CE) k_top_r_softmax<<<blocks(rows), THREADS, 0, s>>>(P, RA, rows, d, rows, RGA);
    else k_top_r_elementwise<<<blocks((long long)rows * d), THREADS, 0, s>>>(kind, P, RA, (long long)rows * d, d, rows, RGA);
}

}  // namespace cuda
}  // namespace an
