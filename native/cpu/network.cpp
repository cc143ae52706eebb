// Feed-forward networks (dense, conv2d, max/avg pooling) on OpenBLAS: loss, gradient, exact
// Hessian-vector products by Pearlmutter's R-operator, and Gauss-Newton products. A dense or conv
// layer is z = L_W(x) + b, a = phi(z) with L_W linear in W and in x (a conv is lowered per sample by
// im2col to a GEMM, NCHW kept); pooling is linear in x with a fixed pattern (max: the forward argmax).
//
// Parallel layout: a batch is split into contiguous row blocks, one per pool thread; each thread
// runs the whole sweep (forward, backward, R-forward, R-backward) on its rows with single-threaded
// sgemm calls and writes a partial gradient; the partials are then summed by parameter ranges.
// There is one synchronisation per sweep and one per reduction, no idle spinning pool between
// BLAS calls, and the elementwise work runs on both cores.
//
// Notation per dense layer l: z = x W' + b, a = phi(z); ga = dL/da, gz = dL/dz = phi'(z) ga.
// Every supported phi has phi' and phi'' expressible through a, and phi''(z) = kappa(a) phi'(z):
//   tanh: phi' = 1-a^2, kappa = -2a;  sigmoid: phi' = a(1-a), kappa = 1-2a;
//   relu: phi' = [a>0], kappa = 0;   softplus: phi' = 1-e^-a, kappa = e^-a;  identity: 1, 0.
// R-backward of the activation: R(gz) = phi''(z) Rz ga + phi'(z) R(ga) = kappa Rz gz + phi' R(ga).
#include "internal.h"

#include <algorithm>
#include <cblas.h>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace {

using an::Pool;

// 64-byte aligned float buffer.
struct Buf {
    float* p = nullptr;
    size_t n = 0;
    Buf() = default;
    explicit Buf(size_t count) : n(count) {
        size_t bytes = ((count * sizeof(float) + 63) / 64) * 64;
        if (bytes == 0) bytes = 64;
        p = static_cast<float*>(std::aligned_alloc(64, bytes));
        if (p == nullptr) throw std::bad_alloc();
    }
    Buf(Buf&& o) noexcept : p(o.p), n(o.n) { o.p = nullptr; o.n = 0; }
    Buf& operator=(Buf&& o) noexcept { std::swap(p, o.p); std::swap(n, o.n); return *this; }
    ~Buf() { std::free(p); }
};

struct Layer {
    int kind = AN_LAYER_DENSE, act = AN_ACT_IDENTITY;
    int in_size = 0, out_size = 0;     // values per sample
    long long w_off = -1, b_off = -1;  // parameters (-1: none)
    // convolution / pooling geometry (NCHW per sample)
    int cin = 0, hin = 0, win = 0, cout = 0, k = 0, stride = 1, pad = 0, hout = 0, wout = 0;
    bool has_params() const { return kind == AN_LAYER_DENSE || kind == AN_LAYER_CONV2D; }
    int K() const { return cin * k * k; }       // im2col rows
    int P() const { return hout * wout; }       // output positions
    long long weights() const { return kind == AN_LAYER_DENSE ? static_cast<long long>(in_size) * out_size : static_cast<long long>(cout) * K(); }
    long long biases() const { return kind == AN_LAYER_DENSE ? out_size : cout; }
};

// Per-thread buffers for one block of rows (capacity `cap` rows).
struct Block {
    std::vector<Buf> A, G, RZ, RA, RG;  // per layer: cap x out_size
    std::vector<std::vector<int>> arg;  // per max-pool layer: the argmax of each output
    Buf P;                              // softmax / sigmoid of the last layer
    Buf partial;                        // partial gradient / product (threads > 0)
    Buf cols, dcols;                    // im2col / col2im work (largest conv K x P)
    Buf bexp;                           // a conv bias expanded over positions
    std::vector<double> colsum;         // bias-gradient accumulator (largest out_size)
    double loss = 0;
};

// ---- activation formulas (see the header comment) ----
template <int ACT>
static inline __attribute__((always_inline)) float act_f(float z) {
    if constexpr (ACT == AN_ACT_TANH) return an::fast_tanh(z);
    else if constexpr (ACT == AN_ACT_SIGMOID) return an::fast_sigmoid(z);
    else if constexpr (ACT == AN_ACT_RELU) return z > 0.0f ? z : 0.0f;
    else if constexpr (ACT == AN_ACT_SOFTPLUS) return z > 0.0f ? z + std::log1p(std::exp(-z)) : std::log1p(std::exp(z));
    else return z;
}
template <int ACT>
static inline __attribute__((always_inline)) float act_d1(float a) {
    if constexpr (ACT == AN_ACT_TANH) return 1.0f - a * a;
    else if constexpr (ACT == AN_ACT_SIGMOID) return a * (1.0f - a);
    else if constexpr (ACT == AN_ACT_RELU) return a > 0.0f ? 1.0f : 0.0f;
    else if constexpr (ACT == AN_ACT_SOFTPLUS) return 1.0f - an::fast_exp(-a);
    else return 1.0f;
}
template <int ACT>
static inline __attribute__((always_inline)) float act_kappa(float a) {
    if constexpr (ACT == AN_ACT_TANH) return -2.0f * a;
    else if constexpr (ACT == AN_ACT_SIGMOID) return 1.0f - 2.0f * a;
    else if constexpr (ACT == AN_ACT_SOFTPLUS) return an::fast_exp(-a);
    else return 0.0f;
}

#define AN_CLONES __attribute__((target_clones("arch=skylake-avx512", "arch=haswell", "default")))

// a = phi(a + b), in place.
template <int ACT>
static inline __attribute__((always_inline)) void bias_act_t(float* A, const float* b, int rows, int out) {
    for (int i = 0; i < rows; ++i) {
        float* a = A + static_cast<size_t>(i) * out;
        for (int j = 0; j < out; ++j) a[j] = act_f<ACT>(a[j] + b[j]);
    }
}
AN_CLONES static void bias_act(int act, float* A, const float* b, int rows, int out) {
    switch (act) {
        case AN_ACT_TANH: bias_act_t<AN_ACT_TANH>(A, b, rows, out); break;
        case AN_ACT_SIGMOID: bias_act_t<AN_ACT_SIGMOID>(A, b, rows, out); break;
        case AN_ACT_RELU: bias_act_t<AN_ACT_RELU>(A, b, rows, out); break;
        case AN_ACT_SOFTPLUS: bias_act_t<AN_ACT_SOFTPLUS>(A, b, rows, out); break;
        default: bias_act_t<AN_ACT_IDENTITY>(A, b, rows, out); break;
    }
}

// G = phi'(A) * G in place; colsum += column sums of the new G.
template <int ACT>
static inline __attribute__((always_inline)) void back_act_t(float* G, const float* A, int rows, int out, double* colsum) {
    for (int i = 0; i < rows; ++i) {
        float* g = G + static_cast<size_t>(i) * out;
        const float* a = A + static_cast<size_t>(i) * out;
        for (int j = 0; j < out; ++j) {
            const float v = act_d1<ACT>(a[j]) * g[j];
            g[j] = v;
            colsum[j] += v;
        }
    }
}
AN_CLONES static void back_act(int act, float* G, const float* A, int rows, int out, double* colsum) {
    switch (act) {
        case AN_ACT_TANH: back_act_t<AN_ACT_TANH>(G, A, rows, out, colsum); break;
        case AN_ACT_SIGMOID: back_act_t<AN_ACT_SIGMOID>(G, A, rows, out, colsum); break;
        case AN_ACT_RELU: back_act_t<AN_ACT_RELU>(G, A, rows, out, colsum); break;
        case AN_ACT_SOFTPLUS: back_act_t<AN_ACT_SOFTPLUS>(G, A, rows, out, colsum); break;
        default: back_act_t<AN_ACT_IDENTITY>(G, A, rows, out, colsum); break;
    }
}

// RZ += vb; RA = phi'(A) * RZ (RA may alias RZ only for the identity).
template <int ACT>
static inline __attribute__((always_inline)) void rfwd_act_t(float* RZ, float* RA, const float* A, const float* vb, int rows, int out) {
    for (int i = 0; i < rows; ++i) {
        const size_t o = static_cast<size_t>(i) * out;
        for (int j = 0; j < out; ++j) {
            const float rz = RZ[o + j] + vb[j];
            RZ[o + j] = rz;
            RA[o + j] = act_d1<ACT>(A[o + j]) * rz;
        }
    }
}
AN_CLONES static void rfwd_act(int act, float* RZ, float* RA, const float* A, const float* vb, int rows, int out) {
    switch (act) {
        case AN_ACT_TANH: rfwd_act_t<AN_ACT_TANH>(RZ, RA, A, vb, rows, out); break;
        case AN_ACT_SIGMOID: rfwd_act_t<AN_ACT_SIGMOID>(RZ, RA, A, vb, rows, out); break;
        case AN_ACT_RELU: rfwd_act_t<AN_ACT_RELU>(RZ, RA, A, vb, rows, out); break;
        case AN_ACT_SOFTPLUS: rfwd_act_t<AN_ACT_SOFTPLUS>(RZ, RA, A, vb, rows, out); break;
        default: rfwd_act_t<AN_ACT_IDENTITY>(RZ, RA, A, vb, rows, out); break;
    }
}

// RG = kappa(A) * RZ * G + phi'(A) * RG in place (G holds gz); colsum += column sums of RG.
template <int ACT>
static inline __attribute__((always_inline)) void rbwd_act_t(float* RG, const float* RZ, const float* G, const float* A, int rows, int out, double* colsum) {
    for (int i = 0; i < rows; ++i) {
        const size_t o = static_cast<size_t>(i) * out;
        for (int j = 0; j < out; ++j) {
            const float a = A[o + j];
            const float v = act_kappa<ACT>(a) * RZ[o + j] * G[o + j] + act_d1<ACT>(a) * RG[o + j];
            RG[o + j] = v;
            colsum[j] += v;
        }
    }
}
AN_CLONES static void rbwd_act(int act, float* RG, const float* RZ, const float* G, const float* A, int rows, int out, double* colsum) {
    switch (act) {
        case AN_ACT_TANH: rbwd_act_t<AN_ACT_TANH>(RG, RZ, G, A, rows, out, colsum); break;
        case AN_ACT_SIGMOID: rbwd_act_t<AN_ACT_SIGMOID>(RG, RZ, G, A, rows, out, colsum); break;
        case AN_ACT_RELU: rbwd_act_t<AN_ACT_RELU>(RG, RZ, G, A, rows, out, colsum); break;
        case AN_ACT_SOFTPLUS: rbwd_act_t<AN_ACT_SOFTPLUS>(RG, RZ, G, A, rows, out, colsum); break;
        default: rbwd_act_t<AN_ACT_IDENTITY>(RG, RZ, G, A, rows, out, colsum); break;
    }
}

AN_CLONES static void add_into(float* out, const float* x, long long n) {
    for (long long i = 0; i < n; ++i) out[i] += x[i];
}

inline void gemm_nt(int m, int n, int k, const float* a, const float* b, float beta, float* c) {
    // C (m x n) = A (m x k) B' (B is n x k) + beta C
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1.0f, a, k, b, k, beta, c, n);
}
inline void gemm_tn(int m, int n, int k, const float* a, const float* b, float beta, float* c) {
    // C (m x n) = A' (A is k x m) B (k x n) + beta C
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, m, n, k, 1.0f, a, m, b, n, beta, c, n);
}
inline void gemm_nn(int m, int n, int k, const float* a, const float* b, float beta, float* c) {
    // C (m x n) = A (m x k) B (k x n) + beta C
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a, k, b, n, beta, c, n);
}

}  // namespace

struct an_net {
    int input = 0;
    std::vector<Layer> layers;
    int loss = 0, reg = 0;
    double lambda = 0;
    int max_batch = 0;
    int cap = 0;  // rows per block
    long long params = 0;
    int max_width = 0;
    std::unique_ptr<Pool> pool;
    std::vector<Block> blocks;
    // The point of the last gradient()/hvp() call, reused by the *_cached calls.
    bool cached = false;
    const float* w = nullptr;
    const float* x = nullptr;
    int batch = 0;

    int out_dim() const { return layers.back().out_size; }
    int used_threads(int b) const { return std::min(pool->size(), b); }
    int row_begin(int t, int b) const { return static_cast<int>(static_cast<long long>(t) * b / used_threads(b)); }

    // ---- the layer maps ----
    const float* layer_input(int l, const Block& k, const float* xr) const { return l == 0 ? xr : k.A[l - 1].p; }

    // cols (K x P) = im2col of one sample
    static void im2col(const Layer& L, const float* x, float* cols) {
        for (int c = 0; c < L.cin; ++c)
            for (int i = 0; i < L.k; ++i)
                for (int j = 0; j < L.k; ++j) {
                    float* row = cols + (static_cast<size_t>(c * L.k + i) * L.k + j) * L.P();
                    for (int oh = 0; oh < L.hout; ++oh) {
                        const int ih = oh * L.stride - L.pad + i;
                        float* out = row + oh * L.wout;
                        if (ih < 0 || ih >= L.hin) {
                            std::fill(out, out + L.wout, 0.0f);
                            continue;
                        }
                        const float* in = x + (static_cast<size_t>(c) * L.hin + ih) * L.win;
                        for (int ow = 0; ow < L.wout; ++ow) {
                            const int iw = ow * L.stride - L.pad + j;
                            out[ow] = iw >= 0 && iw < L.win ? in[iw] : 0.0f;
                        }
                    }
                }
    }

    // x (one sample) += col2im(cols)
    static void col2im_add(const Layer& L, const float* cols, float* x) {
        for (int c = 0; c < L.cin; ++c)
            for (int i = 0; i < L.k; ++i)
                for (int j = 0; j < L.k; ++j) {
                    const float* row = cols + (static_cast<size_t>(c * L.k + i) * L.k + j) * L.P();
                    for (int oh = 0; oh < L.hout; ++oh) {
                        const int ih = oh * L.stride - L.pad + i;
                        if (ih < 0 || ih >= L.hin) continue;
                        float* in = x + (static_cast<size_t>(c) * L.hin + ih) * L.win;
                        const float* src = row + oh * L.wout;
                        for (int ow = 0; ow < L.wout; ++ow) {
                            const int iw = ow * L.stride - L.pad + j;
                            if (iw >= 0 && iw < L.win) in[iw] += src[ow];
                        }
                    }
                }
    }

    // z (rows x out) = beta z + L_W(x), without the bias
    void linear(const Layer& L, Block& k, const float* W, const float* x, int rows, float beta, float* z) const {
        if (L.kind == AN_LAYER_DENSE) {
            gemm_nt(rows, L.out_size, L.in_size, x, W, beta, z);
            return;
        }
        for (int s = 0; s < rows; ++s) {
            im2col(L, x + static_cast<size_t>(s) * L.in_size, k.cols.p);
            gemm_nn(L.cout, L.P(), L.K(), W, k.cols.p, beta, z + static_cast<size_t>(s) * L.out_size);
        }
    }

    // gx (rows x in) = beta gx + L_W^T(gz)
    void linear_t(const Layer& L, Block& k, const float* W, const float* gz, int rows, float beta, float* gx) const {
        if (L.kind == AN_LAYER_DENSE) {
            gemm_nn(rows, L.in_size, L.out_size, gz, W, beta, gx);
            return;
        }
        for (int s = 0; s < rows; ++s) {
            float* gxs = gx + static_cast<size_t>(s) * L.in_size;
            if (beta == 0.0f) std::fill(gxs, gxs + L.in_size, 0.0f);
            gemm_tn(L.K(), L.P(), L.cout, W, gz + static_cast<size_t>(s) * L.out_size, 0.0f, k.dcols.p);
            col2im_add(L, k.dcols.p, gxs);
        }
    }

    // gx (rows x in) = L_W^T(g1) + L_V^T(g2): for a conv, both into one column buffer and one col2im
    void linear_t_pair(const Layer& L, Block& k, const float* W, const float* g1, const float* V, const float* g2, int rows, float* gx) const {
        if (L.kind == AN_LAYER_DENSE) {
            gemm_nn(rows, L.in_size, L.out_size, g1, W, 0.0f, gx);
            gemm_nn(rows, L.in_size, L.out_size, g2, V, 1.0f, gx);
            return;
        }
        for (int s = 0; s < rows; ++s) {
            float* gxs = gx + static_cast<size_t>(s) * L.in_size;
            std::fill(gxs, gxs + L.in_size, 0.0f);
            gemm_tn(L.K(), L.P(), L.cout, W, g1 + static_cast<size_t>(s) * L.out_size, 0.0f, k.dcols.p);
            gemm_tn(L.K(), L.P(), L.cout, V, g2 + static_cast<size_t>(s) * L.out_size, 1.0f, k.dcols.p);
            col2im_add(L, k.dcols.p, gxs);
        }
    }

    // dW = beta dW + sum over rows of the outer products of gz and x (the weight gradient's shape)
    void outer(const Layer& L, Block& k, const float* gz, const float* x, int rows, float beta, float* dW) const {
        if (L.kind == AN_LAYER_DENSE) {
            gemm_tn(L.out_size, L.in_size, rows, gz, x, beta, dW);
            return;
        }
        for (int s = 0; s < rows; ++s) {
            im2col(L, x + static_cast<size_t>(s) * L.in_size, k.cols.p);
            gemm_nt(L.cout, L.K(), L.P(), gz + static_cast<size_t>(s) * L.out_size, k.cols.p, s == 0 ? beta : 1.0f, dW);
        }
    }

    // The bias as a per-output vector (a conv bias repeated over the positions).
    const float* bias_vector(const Layer& L, Block& k, const float* b) const {
        if (L.kind == AN_LAYER_DENSE) return b;
        for (int c = 0; c < L.cout; ++c) std::fill(k.bexp.p + static_cast<size_t>(c) * L.P(), k.bexp.p + static_cast<size_t>(c + 1) * L.P(), b[c]);
        return k.bexp.p;
    }

    // Bias gradient from the per-output column sums.
    void flush_bias(const Layer& L, Block& k, float* dst) const {
        if (L.kind == AN_LAYER_DENSE) {
            for (int j = 0; j < L.out_size; ++j) dst[j] = static_cast<float>(k.colsum[j]);
            return;
        }
        for (int c = 0; c < L.cout; ++c) {
            double sum = 0;
            for (int p = 0; p < L.P(); ++p) sum += k.colsum[static_cast<size_t>(c) * L.P() + p];
            dst[c] = static_cast<float>(sum);
        }
    }

    // Pooling: forward (max records its argmax: the first maximum in scan order wins ties).
    void pool_forward(const Layer& L, Block& k, int l, const float* x, int rows, float* y) const {
        const float inv = 1.0f / static_cast<float>(L.k * L.k);
        for (int s = 0; s < rows; ++s) {
            const float* xs = x + static_cast<size_t>(s) * L.in_size;
            float* ys = y + static_cast<size_t>(s) * L.out_size;
            int* as = L.kind == AN_LAYER_MAXPOOL2D ? k.arg[l].data() + static_cast<size_t>(s) * L.out_size : nullptr;
            for (int c = 0; c < L.cin; ++c)
                for (int oh = 0; oh < L.hout; ++oh)
                    for (int ow = 0; ow < L.wout; ++ow) {
                        const int o = (c * L.hout + oh) * L.wout + ow;
                        float best = -INFINITY, sum = 0;
                        int where = (c * L.hin + oh * L.stride) * L.win + ow * L.stride;
                        for (int i = 0; i < L.k; ++i)
                            for (int j = 0; j < L.k; ++j) {
                                const int idx = (c * L.hin + oh * L.stride + i) * L.win + ow * L.stride + j;
                                const float v = xs[idx];
                                sum += v;
                                if (v > best) {
                                    best = v;
                                    where = idx;
                                }
                            }
                        if (as != nullptr) {
                            ys[o] = best;
                            as[o] = where;
                        } else {
                            ys[o] = sum * inv;
                        }
                    }
        }
    }

    // R-forward of pooling (the max follows the cached argmax): ry = P rx
    void pool_apply(const Layer& L, Block& k, int l, const float* rx, int rows, float* ry) const {
        if (L.kind == AN_LAYER_AVGPOOL2D) {
            const float inv = 1.0f / static_cast<float>(L.k * L.k);
            for (int s = 0; s < rows; ++s) {
                const float* xs = rx + static_cast<size_t>(s) * L.in_size;
                float* ys = ry + static_cast<size_t>(s) * L.out_size;
                for (int c = 0; c < L.cin; ++c)
                    for (int oh = 0; oh < L.hout; ++oh)
                        for (int ow = 0; ow < L.wout; ++ow) {
                            float sum = 0;
                            for (int i = 0; i < L.k; ++i)
                                for (int j = 0; j < L.k; ++j) sum += xs[(c * L.hin + oh * L.stride + i) * L.win + ow * L.stride + j];
                            ys[(c * L.hout + oh) * L.wout + ow] = sum * inv;
                        }
            }
            return;
        }
        const size_t n = static_cast<size_t>(rows) * L.out_size;
        const int* arg = k.arg[l].data();
        for (size_t o = 0; o < n; ++o) ry[o] = rx[(o / L.out_size) * L.in_size + arg[o]];
    }

    // Backward of pooling: gx = P^T gy (gx overwritten)
    void pool_transpose(const Layer& L, Block& k, int l, const float* gy, int rows, float* gx) const {
        std::fill(gx, gx + static_cast<size_t>(rows) * L.in_size, 0.0f);
        if (L.kind == AN_LAYER_AVGPOOL2D) {
            const float inv = 1.0f / static_cast<float>(L.k * L.k);
            for (int s = 0; s < rows; ++s) {
                float* xs = gx + static_cast<size_t>(s) * L.in_size;
                const float* ys = gy + static_cast<size_t>(s) * L.out_size;
                for (int c = 0; c < L.cin; ++c)
                    for (int oh = 0; oh < L.hout; ++oh)
                        for (int ow = 0; ow < L.wout; ++ow) {
                            const float g = ys[(c * L.hout + oh) * L.wout + ow] * inv;
                            for (int i = 0; i < L.k; ++i)
                                for (int j = 0; j < L.k; ++j) xs[(c * L.hin + oh * L.stride + i) * L.win + ow * L.stride + j] += g;
                        }
            }
            return;
        }
        const size_t n = static_cast<size_t>(rows) * L.out_size;
        const int* arg = k.arg[l].data();
        for (size_t o = 0; o < n; ++o) gx[(o / L.out_size) * L.in_size + arg[o]] += gy[o];
    }

    // ---- the sweeps over one row block ----
    void forward(Block& k, const float* w_, const float* xr, int rows) const {
        for (size_t l = 0; l < layers.size(); ++l) {
            const Layer& L = layers[l];
            const float* in = layer_input(static_cast<int>(l), k, xr);
            if (!L.has_params()) {
                pool_forward(L, k, static_cast<int>(l), in, rows, k.A[l].p);
                continue;
            }
            linear(L, k, w_ + L.w_off, in, rows, 0.0f, k.A[l].p);
            bias_act(L.act, k.A[l].p, bias_vector(L, k, w_ + L.b_off), rows, L.out_size);
        }
    }

    // Loss sum over the rows (already divided by the batch) and, if ga != null, dL/da of the output.
    double top(Block& k, int rows, int row0, const int* labels, const float* targets, int b, float* ga) const {
        const int d = out_dim();
        const float* A = k.A.back().p;
        double total = 0;
        if (loss == AN_LOSS_SOFTMAX_CE) {
            const float inv = 1.0f / static_cast<float>(b);
            for (int i = 0; i < rows; ++i) {
                const float* z = A + static_cast<size_t>(i) * d;
                float* p = k.P.p + static_cast<size_t>(i) * d;
                float zmax = z[0];
                for (int j = 1; j < d; ++j) zmax = std::max(zmax, z[j]);
                double s = 0;
                for (int j = 0; j < d; ++j) s += std::exp(static_cast<double>(z[j]) - zmax);
                const int y = labels[row0 + i];
                total += std::log(s) + zmax - z[y];
                const double invs = 1.0 / s;
                for (int j = 0; j < d; ++j) p[j] = static_cast<float>(std::exp(static_cast<double>(z[j]) - zmax) * invs);
                if (ga != nullptr) {
                    float* g = ga + static_cast<size_t>(i) * d;
                    for (int j = 0; j < d; ++j) g[j] = p[j] * inv;
                    g[y] -= inv;
                }
            }
            return total / b;
        }
        if (loss == AN_LOSS_BCE) {
            // L = (1/b) sum softplus(z) - t z; dL/dz = (sigma(z) - t)/b; sigma kept in P for the R-op
            const float inv = 1.0f / static_cast<float>(b);
            for (int i = 0; i < rows; ++i) {
                const float* z = A + static_cast<size_t>(i) * d;
                const float* t = targets + static_cast<size_t>(row0 + i) * d;
                float* p = k.P.p + static_cast<size_t>(i) * d;
                for (int j = 0; j < d; ++j) {
                    const double zj = z[j];
                    total += (zj > 0 ? zj + std::log1p(std::exp(-zj)) : std::log1p(std::exp(zj))) - t[j] * zj;
                    const float sig = static_cast<float>(1.0 / (1.0 + std::exp(-zj)));
                    p[j] = sig;
                    if (ga != nullptr) ga[static_cast<size_t>(i) * d + j] = (sig - t[j]) * inv;
                }
            }
            return total / b;
        }
        // squared error: L = c/2 * sum (a - t)^2 with c = 2/(b d) (mean) or 2/b (per-sample sum)
        const double c = loss == AN_LOSS_SQUARED_MEAN ? 2.0 / (static_cast<double>(b) * d) : 2.0 / b;
        const float cf = static_cast<float>(c);
        for (int i = 0; i < rows; ++i) {
            const float* a = A + static_cast<size_t>(i) * d;
            const float* t = targets + static_cast<size_t>(row0 + i) * d;
            double s = 0;
            for (int j = 0; j < d; ++j) {
                const double e = static_cast<double>(a[j]) - t[j];
                s += e * e;
                if (ga != nullptr) ga[static_cast<size_t>(i) * d + j] = cf * static_cast<float>(e);
            }
            total += s;
        }
        return 0.5 * c * total;
    }

    // R(ga) of the output = H_loss * RA_L (for the loss on the network output).
    void top_r(Block& k, int rows, int b, const float* ra, float* rga) const {
        const int d = out_dim();
        if (loss == AN_LOSS_SOFTMAX_CE) {
            const float inv = 1.0f / static_cast<float>(b);
            for (int i = 0; i < rows; ++i) {
                const float* p = k.P.p + static_cast<size_t>(i) * d;
                const float* r = ra + static_cast<size_t>(i) * d;
                float* o = rga + static_cast<size_t>(i) * d;
                double pr = 0;
                for (int j = 0; j < d; ++j) pr += static_cast<double>(p[j]) * r[j];
                const float prf = static_cast<float>(pr);
                for (int j = 0; j < d; ++j) o[j] = inv * p[j] * (r[j] - prf);
            }
            return;
        }
        if (loss == AN_LOSS_BCE) {
            const float inv = 1.0f / static_cast<float>(b);
            const size_t n = static_cast<size_t>(rows) * d;
            for (size_t i = 0; i < n; ++i) rga[i] = inv * k.P.p[i] * (1.0f - k.P.p[i]) * ra[i];
            return;
        }
        const float c = static_cast<float>(loss == AN_LOSS_SQUARED_MEAN ? 2.0 / (static_cast<double>(b) * d) : 2.0 / b);
        const size_t n = static_cast<size_t>(rows) * d;
        for (size_t i = 0; i < n; ++i) rga[i] = c * ra[i];
    }

    void reset_colsum(Block& k, const Layer& L) const { std::fill(k.colsum.begin(), k.colsum.begin() + L.out_size, 0.0); }

    // Backpropagation of the output vector in D[L-1] (dL/da): each D[l] becomes phi'(z) D[l] (the
    // cached gz when D is G), grad gets the weight and bias gradients. On RG it is the Gauss-Newton
    // product's J' step (G untouched).
    void backprop(Block& k, std::vector<Buf>& D, const float* w_, const float* xr, int rows, float* grad) const {
        for (int l = static_cast<int>(layers.size()) - 1; l >= 0; --l) {
            const Layer& L = layers[l];
            if (!L.has_params()) {
                if (l > 0) pool_transpose(L, k, l, D[l].p, rows, D[l - 1].p);
                continue;
            }
            reset_colsum(k, L);
            back_act(L.act, D[l].p, k.A[l].p, rows, L.out_size, k.colsum.data());
            flush_bias(L, k, grad + L.b_off);
            outer(L, k, D[l].p, layer_input(l, k, xr), rows, 0.0f, grad + L.w_off);
            if (l > 0) linear_t(L, k, w_ + L.w_off, D[l].p, rows, 0.0f, D[l - 1].p);
        }
    }

    // RZ, RA of every layer for direction v.
    void r_forward(Block& k, const float* w_, const float* xr, int rows, const float* v) const {
        for (size_t l = 0; l < layers.size(); ++l) {
            const Layer& L = layers[l];
            float* rz = k.RZ[l].p;
            if (!L.has_params()) {
                if (l == 0) std::fill(rz, rz + static_cast<size_t>(rows) * L.out_size, 0.0f);
                else pool_apply(L, k, static_cast<int>(l), ra_buf(k, l - 1), rows, rz);
                continue;
            }
            linear(L, k, v + L.w_off, layer_input(static_cast<int>(l), k, xr), rows, 0.0f, rz);
            if (l > 0) linear(L, k, w_ + L.w_off, ra_buf(k, l - 1), rows, 1.0f, rz);
            rfwd_act(L.act, rz, ra_buf(k, l), k.A[l].p, bias_vector(L, k, v + L.b_off), rows, L.out_size);
        }
    }
    float* ra_buf(Block& k, size_t l) const { return layers[l].act == AN_ACT_IDENTITY ? k.RZ[l].p : k.RA[l].p; }
    const float* ra_buf(const Block& k, size_t l) const { return layers[l].act == AN_ACT_IDENTITY ? k.RZ[l].p : k.RA[l].p; }

    // R-backward from R(ga) in RG[L-1], with gz cached in G (with_backward: G holds ga and the
    // plain backward runs in the same sweep, without weight gradients). out gets R(grad).
    void r_backward(Block& k, const float* w_, const float* xr, int rows, const float* v, float* out, bool with_backward) const {
        for (int l = static_cast<int>(layers.size()) - 1; l >= 0; --l) {
            const Layer& L = layers[l];
            if (!L.has_params()) {
                if (l > 0) {
                    pool_transpose(L, k, l, k.RG[l].p, rows, k.RG[l - 1].p);
                    if (with_backward) pool_transpose(L, k, l, k.G[l].p, rows, k.G[l - 1].p);
                }
                continue;
            }
            if (with_backward) {
                reset_colsum(k, L);
                back_act(L.act, k.G[l].p, k.A[l].p, rows, L.out_size, k.colsum.data());
            }
            reset_colsum(k, L);
            rbwd_act(L.act, k.RG[l].p, k.RZ[l].p, k.G[l].p, k.A[l].p, rows, L.out_size, k.colsum.data());
            flush_bias(L, k, out + L.b_off);
            const float* in = layer_input(l, k, xr);
            outer(L, k, k.RG[l].p, in, rows, 0.0f, out + L.w_off);
            if (l > 0) {
                outer(L, k, k.G[l].p, ra_buf(k, l - 1), rows, 1.0f, out + L.w_off);
                linear_t_pair(L, k, w_ + L.w_off, k.RG[l].p, v + L.w_off, k.G[l].p, rows, k.RG[l - 1].p);
                if (with_backward) linear_t(L, k, w_ + L.w_off, k.G[l].p, rows, 0.0f, k.G[l - 1].p);
            }
        }
    }

    // ---- orchestration ----
    // Runs sweep(block, rows, row0, dst) on every row block, then sums the partials into out.
    template <class Sweep>
    void parallel(int b, float* out, Sweep&& sweep) {
        const int used = used_threads(b);
        pool->run(used, [&](int t) {
            const int r0 = row_begin(t, b), r1 = row_begin(t + 1, b);
            Block& k = blocks[t];
            k.loss = 0;
            sweep(k, r1 - r0, r0, out == nullptr ? nullptr : (t == 0 ? out : k.partial.p));
        });
        if (out != nullptr && used > 1) {
            pool->run(used, [&](int t) {
                const long long p0 = params * t / used, p1 = params * (t + 1) / used;
                for (int s = 1; s < used; ++s) add_into(out + p0, blocks[s].partial.p + p0, p1 - p0);
            });
        }
    }

    double loss_sum(int b) const {
        double total = 0;
        for (int t = 0; t < used_threads(b); ++t) total += blocks[t].loss;
        return total;
    }

    // ---- regularization over parameter tensors ----
    template <class F>
    void for_each_tensor(F&& f) const {
        for (const Layer& L : layers) {
            if (!L.has_params()) continue;
            f(L.w_off, L.weights());
            f(L.b_off, L.biases());
        }
    }
    double reg_value_and_grad(const float* w_, float* grad) const {
        if (reg == AN_REG_NONE || lambda == 0) return 0;
        double value = 0;
        for_each_tensor([&](long long off, long long n) {
            const double sq = an_dot(w_ + off, w_ + off, n);
            if (reg == AN_REG_SQUARED) {
                value += 0.5 * lambda * sq;
                if (grad) an_axpy(static_cast<float>(lambda), w_ + off, grad + off, n);
            } else {
                const double norm = std::sqrt(sq);
                value += lambda * norm;
                if (grad && norm > 0) an_axpy(static_cast<float>(lambda / norm), w_ + off, grad + off, n);
            }
        });
        return value;
    }
    // out += Hessian of the regularizer times v. For lambda*||T|| the Hessian is
    // lambda (I/||T|| - T T'/||T||^3); at T = 0 (not differentiable) it is taken as 0.
    void reg_hvp(const float* w_, const float* v, float* out) const {
        if (reg == AN_REG_NONE || lambda == 0) return;
        for_each_tensor([&](long long off, long long n) {
            if (reg == AN_REG_SQUARED) {
                an_axpy(static_cast<float>(lambda), v + off, out + off, n);
                return;
            }
            const double norm = an_nrm2(w_ + off, n);
            if (norm == 0) return;
            const double wv = an_dot(w_ + off, v + off, n);
            an_axpy(static_cast<float>(lambda / norm), v + off, out + off, n);
            an_axpy(static_cast<float>(-lambda * wv / (norm * norm * norm)), w_ + off, out + off, n);
        });
    }

    void require_batch(int b) const {
        if (b < 1 || b > max_batch)
            throw std::invalid_argument("batch = " + std::to_string(b) + "; must be in [1, " + std::to_string(max_batch) + "]");
    }
    void require_cache() const {
        if (!cached) throw std::logic_error("no cached point: call gradient() or hvp() first");
    }
    // The pool provides the parallelism: every sgemm of a sweep runs single-threaded.
    void single_threaded_blas() const {
        if (openblas_get_num_threads() != 1) openblas_set_num_threads(1);
    }
};

int an::parallel_ranges(an_net* net, long long n, const std::function<void(int, long long, long long)>& f) {
    constexpr long long MIN_PER_THREAD = 32768;  // below this, waking a thread costs more than it saves
    const int used = static_cast<int>(std::max(1LL, std::min<long long>(net->pool->size(), n / MIN_PER_THREAD)));
    net->pool->run(used, [&](int t) { f(t, n * t / used, n * (t + 1) / used); });
    return used;
}

extern "C" {

an_net* an_net_create(const int* spec, int spec_len, int loss, int reg, double lambda, int max_batch, int threads) {
    an_net* result = nullptr;
    an::guarded([&] {
        if (spec == nullptr || spec_len < 2) throw std::invalid_argument("network spec is empty");
        if (max_batch < 1) throw std::invalid_argument("max_batch must be >= 1");
        if (threads < 1) throw std::invalid_argument("threads must be >= 1");
        if (loss < AN_LOSS_SOFTMAX_CE || loss > AN_LOSS_BCE) throw std::invalid_argument("unknown loss");
        if (reg < AN_REG_NONE || reg > AN_REG_NORM || !(lambda >= 0)) throw std::invalid_argument("invalid regularization");
        auto net = std::make_unique<an_net>();
        net->input = spec[0];
        const int n = spec[1];
        if (net->input < 1 || n < 1 || spec_len != 2 + AN_SPEC_INTS_PER_LAYER * n) throw std::invalid_argument("malformed network spec");
        int in = net->input;
        long long off = 0;
        net->max_width = in;
        size_t max_cols = 1;
        for (int l = 0; l < n; ++l) {
            const int* s = spec + 2 + AN_SPEC_INTS_PER_LAYER * l;
            const std::string where = "layer " + std::to_string(l) + " in network spec: ";
            Layer L;
            L.kind = s[0];
            L.act = s[1];
            L.in_size = in;
            if (L.act < AN_ACT_IDENTITY || L.act > AN_ACT_SOFTPLUS) throw std::invalid_argument(where + "unknown activation");
            if (L.kind == AN_LAYER_DENSE) {
                if (s[2] < 1) throw std::invalid_argument(where + "dense output size < 1");
                L.out_size = s[2];
            } else if (L.kind == AN_LAYER_CONV2D || L.kind == AN_LAYER_MAXPOOL2D || L.kind == AN_LAYER_AVGPOOL2D) {
                const bool conv = L.kind == AN_LAYER_CONV2D;
                L.cin = s[2];
                L.hin = s[3];
                L.win = s[4];
                L.cout = conv ? s[5] : L.cin;
                L.k = conv ? s[6] : s[5];
                L.stride = conv ? s[7] : s[6];
                L.pad = conv ? s[8] : 0;
                if (L.cin < 1 || L.hin < 1 || L.win < 1 || L.cout < 1 || L.k < 1 || L.stride < 1 || L.pad < 0)
                    throw std::invalid_argument(where + "invalid geometry");
                if (static_cast<long long>(L.cin) * L.hin * L.win != in)
                    throw std::invalid_argument(where + "input " + std::to_string(L.cin) + "x" + std::to_string(L.hin) + "x" + std::to_string(L.win)
                                                + " does not match the previous output size " + std::to_string(in));
                L.hout = (L.hin + 2 * L.pad - L.k) / L.stride + 1;
                L.wout = (L.win + 2 * L.pad - L.k) / L.stride + 1;
                if (L.hin + 2 * L.pad < L.k || L.win + 2 * L.pad < L.k) throw std::invalid_argument(where + "kernel larger than the input");
                if (!conv && L.act != AN_ACT_IDENTITY) throw std::invalid_argument(where + "pooling takes no activation");
                L.out_size = L.cout * L.P();
                if (conv) max_cols = std::max(max_cols, static_cast<size_t>(L.K()) * L.P());
            } else {
                throw std::invalid_argument(where + "unknown layer kind " + std::to_string(L.kind));
            }
            if (L.has_params()) {
                L.w_off = off;
                L.b_off = off + L.weights();
                off = L.b_off + L.biases();
            }
            net->layers.push_back(L);
            net->max_width = std::max(net->max_width, L.out_size);
            in = L.out_size;
        }
        net->params = off;
        net->loss = loss;
        net->reg = reg;
        net->lambda = lambda;
        net->max_batch = max_batch;
        net->pool = std::make_unique<Pool>(threads);
        net->cap = (max_batch + threads - 1) / threads;
        net->blocks.resize(threads);
        for (int t = 0; t < threads; ++t) {
            Block& k = net->blocks[t];
            for (const Layer& L : net->layers) {
                const size_t sz = static_cast<size_t>(net->cap) * L.out_size;
                k.A.emplace_back(sz);
                k.G.emplace_back(sz);
                k.RZ.emplace_back(sz);
                k.RA.emplace_back(L.act == AN_ACT_IDENTITY ? 0 : sz);
                k.RG.emplace_back(sz);
                k.arg.emplace_back(L.kind == AN_LAYER_MAXPOOL2D ? sz : 0);
            }
            k.cols = Buf(max_cols);
            k.dcols = Buf(max_cols);
            k.bexp = Buf(static_cast<size_t>(net->max_width));
            k.P = Buf(static_cast<size_t>(net->cap) * net->out_dim());
            if (t > 0) k.partial = Buf(static_cast<size_t>(net->params));
            k.colsum.assign(net->max_width, 0.0);
        }
        result = net.release();
        return AN_OK;
    });
    return result;
}

void an_net_destroy(an_net* net) { delete net; }

long long an_net_param_count(const an_net* net) { return net == nullptr ? -1 : net->params; }

int an_net_forward(an_net* net, const float* w, const float* x, int batch, float* out) {
    return an::guarded([&] {
        if (!net || !w || !x || !out) throw std::invalid_argument("null pointer");
        net->require_batch(batch);
        net->single_threaded_blas();
        net->cached = false;
        const int d = net->out_dim();
        net->parallel(batch, nullptr, [&](Block& k, int rows, int r0, float*) {
            net->forward(k, w, x + static_cast<size_t>(r0) * net->input, rows);
            std::memcpy(out + static_cast<size_t>(r0) * d, k.A.back().p, sizeof(float) * rows * d);
        });
        return AN_OK;
    });
}

int an_net_loss(an_net* net, const float* w, const float* x, const int* labels, const float* targets, int batch, double* loss) {
    return an::guarded([&] {
        if (!net || !w || !x || !loss) throw std::invalid_argument("null pointer");
        if (net->loss == AN_LOSS_SOFTMAX_CE ? labels == nullptr : targets == nullptr) throw std::invalid_argument("labels/targets missing");
        net->require_batch(batch);
        net->single_threaded_blas();
        net->cached = false;
        net->parallel(batch, nullptr, [&](Block& k, int rows, int r0, float*) {
            net->forward(k, w, x + static_cast<size_t>(r0) * net->input, rows);
            k.loss = net->top(k, rows, r0, labels, targets, batch, nullptr);
        });
        *loss = net->loss_sum(batch) + net->reg_value_and_grad(w, nullptr);
        return AN_OK;
    });
}

int an_net_gradient(an_net* net, const float* w, const float* x, const int* labels, const float* targets, int batch, float* grad, double* loss) {
    return an::guarded([&] {
        if (!net || !w || !x || !grad || !loss) throw std::invalid_argument("null pointer");
        if (net->loss == AN_LOSS_SOFTMAX_CE ? labels == nullptr : targets == nullptr) throw std::invalid_argument("labels/targets missing");
        net->require_batch(batch);
        net->single_threaded_blas();
        net->cached = false;
        net->parallel(batch, grad, [&](Block& k, int rows, int r0, float* dst) {
            const float* xr = x + static_cast<size_t>(r0) * net->input;
            net->forward(k, w, xr, rows);
            k.loss = net->top(k, rows, r0, labels, targets, batch, k.G.back().p);
            net->backprop(k, k.G, w, xr, rows, dst);
        });
        *loss = net->loss_sum(batch) + net->reg_value_and_grad(w, grad);
        net->cached = true;
        net->w = w;
        net->x = x;
        net->batch = batch;
        return AN_OK;
    });
}

int an_net_hvp(an_net* net, const float* w, const float* x, const int* labels, const float* targets, int batch, const float* v, float* out, double* loss) {
    return an::guarded([&] {
        if (!net || !w || !x || !v || !out || !loss) throw std::invalid_argument("null pointer");
        if (net->loss == AN_LOSS_SOFTMAX_CE ? labels == nullptr : targets == nullptr) throw std::invalid_argument("labels/targets missing");
        net->require_batch(batch);
        net->single_threaded_blas();
        net->cached = false;
        net->parallel(batch, out, [&](Block& k, int rows, int r0, float* dst) {
            const float* xr = x + static_cast<size_t>(r0) * net->input;
            net->forward(k, w, xr, rows);
            net->r_forward(k, w, xr, rows, v);
            const size_t last = net->layers.size() - 1;
            k.loss = net->top(k, rows, r0, labels, targets, batch, k.G[last].p);
            net->top_r(k, rows, batch, net->ra_buf(k, last), k.RG[last].p);
            net->r_backward(k, w, xr, rows, v, dst, true);
        });
        *loss = net->loss_sum(batch) + net->reg_value_and_grad(w, nullptr);
        net->reg_hvp(w, v, out);
        net->cached = true;
        net->w = w;
        net->x = x;
        net->batch = batch;
        return AN_OK;
    });
}

int an_net_hvp_cached(an_net* net, const float* v, float* out) {
    return an::guarded([&] {
        if (!net || !v || !out) throw std::invalid_argument("null pointer");
        net->require_cache();
        net->single_threaded_blas();
        const int batch = net->batch;
        net->parallel(batch, out, [&](Block& k, int rows, int r0, float* dst) {
            const float* xr = net->x + static_cast<size_t>(r0) * net->input;
            net->r_forward(k, net->w, xr, rows, v);
            const size_t last = net->layers.size() - 1;
            net->top_r(k, rows, batch, net->ra_buf(k, last), k.RG[last].p);
            net->r_backward(k, net->w, xr, rows, v, dst, false);
        });
        net->reg_hvp(net->w, v, out);
        return AN_OK;
    });
}

int an_net_gn_cached(an_net* net, const float* v, float* out) {
    return an::guarded([&] {
        if (!net || !v || !out) throw std::invalid_argument("null pointer");
        net->require_cache();
        net->single_threaded_blas();
        const int batch = net->batch;
        net->parallel(batch, out, [&](Block& k, int rows, int r0, float* dst) {
            const float* xr = net->x + static_cast<size_t>(r0) * net->input;
            net->r_forward(k, net->w, xr, rows, v);
            const size_t last = net->layers.size() - 1;
            net->top_r(k, rows, batch, net->ra_buf(k, last), k.RG[last].p);
            net->backprop(k, k.RG, net->w, xr, rows, dst);
        });
        net->reg_hvp(net->w, v, out);
        return AN_OK;
    });
}

int an_net_gemm_floor(an_net* net, int op, int batch, int repeats, double* ms, double* gflop) {
    return an::guarded([&] {
        if (!net || !ms || !gflop) throw std::invalid_argument("null pointer");
        if (op < AN_OP_FORWARD || op > AN_OP_GN_CACHED) throw std::invalid_argument("unknown op");
        if (batch < 1 || repeats < 1) throw std::invalid_argument("batch and repeats must be >= 1");
        // Shapes (m, n, k, kind) of every sgemm the operation makes, at the full batch.
        struct Shape { int m, n, k, kind, count; };
        std::vector<Shape> shapes;
        const bool fwd = op == AN_OP_FORWARD || op == AN_OP_GRADIENT || op == AN_OP_HVP;
        const bool rfwd = op == AN_OP_HVP || op == AN_OP_HVP_CACHED || op == AN_OP_GN_CACHED;
        // per layer: the forward map (kind 0), its transpose (2) and the weight outer product (1)
        auto fwd_shape = [&](const Layer& L) {
            return L.kind == AN_LAYER_DENSE ? Shape{batch, L.out_size, L.in_size, 0, 1} : Shape{L.cout, L.P(), L.K(), 3, batch};
        };
        auto outer_shape = [&](const Layer& L) {
            return L.kind == AN_LAYER_DENSE ? Shape{L.out_size, L.in_size, batch, 1, 1} : Shape{L.cout, L.K(), L.P(), 0, batch};
        };
        auto t_shape = [&](const Layer& L) {
            return L.kind == AN_LAYER_DENSE ? Shape{batch, L.in_size, L.out_size, 2, 1} : Shape{L.K(), L.P(), L.cout, 1, batch};
        };
        for (size_t l = 0; l < net->layers.size(); ++l) {
            const Layer& L = net->layers[l];
            if (!L.has_params()) continue;
            if (fwd) shapes.push_back(fwd_shape(L));
            if (rfwd) {
                shapes.push_back(fwd_shape(L));
                if (l > 0) shapes.push_back(fwd_shape(L));
            }
        }
        for (size_t l = net->layers.size(); l-- > 0;) {
            const Layer& L = net->layers[l];
            if (!L.has_params()) continue;
            const bool first = l == 0;
            switch (op) {
                case AN_OP_GRADIENT:
                case AN_OP_GN_CACHED:
                    shapes.push_back(outer_shape(L));
                    if (!first) shapes.push_back(t_shape(L));
                    break;
                case AN_OP_HVP:
                case AN_OP_HVP_CACHED:
                    shapes.push_back(outer_shape(L));
                    if (!first) {
                        shapes.push_back(outer_shape(L));
                        shapes.push_back(t_shape(L));
                        shapes.push_back(t_shape(L));
                        if (op == AN_OP_HVP) shapes.push_back(t_shape(L));
                    }
                    break;
                default:
                    break;
            }
        }
        size_t biggest = 1;
        double flops = 0;
        for (const Shape& s : shapes) {
            biggest = std::max({biggest, static_cast<size_t>(s.m) * s.k, static_cast<size_t>(s.k) * s.n, static_cast<size_t>(s.m) * s.n});
            flops += 2.0 * s.m * s.n * s.k * s.count;
        }
        Buf a(biggest), b(biggest), c(biggest);
        an_fill(0.01f, a.p, static_cast<long long>(biggest));
        an_fill(0.02f, b.p, static_cast<long long>(biggest));
        std::vector<double> times;
        for (int r = -1; r < repeats; ++r) {
            const auto t0 = std::chrono::steady_clock::now();
            for (const Shape& s : shapes) {
                for (int rep = 0; rep < s.count; ++rep) {
                    if (s.kind == 0) gemm_nt(s.m, s.n, s.k, a.p, b.p, 0.0f, c.p);
                    else if (s.kind == 1) gemm_tn(s.m, s.n, s.k, a.p, b.p, 0.0f, c.p);
                    else gemm_nn(s.m, s.n, s.k, a.p, b.p, 0.0f, c.p);
                }
            }
            const auto t1 = std::chrono::steady_clock::now();
            if (r >= 0) times.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
        }
        std::sort(times.begin(), times.end());
        *ms = times[times.size() / 2];
        *gflop = flops * 1e-9;
        return AN_OK;
    });
}

}  // extern "C"
