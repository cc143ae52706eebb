// The CPU engine of the network sweeps (native/common/network_sweep.h): graphs of dense, conv2d,
// pooling, batch and layer norm, global average pooling, dropout, embedding, add, concat and
// activation layers on OpenBLAS, a thread pool and vectorized elementwise passes. The graph and the
// sweeps (loss, gradient, exact Hessian-vector products by Pearlmutter's R-operator, Gauss-Newton
// products, the regularizer) are shared with the CUDA backend; this file holds only their CPU
// primitives: GEMMs, activations and their derivatives, im2col/col2im per sample, pooling, the
// norms, the losses, and the parallel layout.
//
// Parallel layout: a batch is split into contiguous row blocks, one per pool thread; each thread
// runs the whole sweep (forward, backward, R-forward, R-backward) on its rows with single-threaded
// sgemm calls and writes a partial gradient; the partials are then summed by parameter ranges.
// There is one synchronisation per sweep and one per reduction, no idle spinning pool between
// BLAS calls, and the elementwise work runs on both cores. Batch norm in training mode couples the
// rows: its per-channel sums are reduced across the blocks inside the sweep (each block's partial
// sums, a barrier, then every block adds them up in block order, so the result does not depend on
// timing).
//
// Activations: every supported phi but GELU has phi' and phi'' expressible through a = phi(z),
// with phi''(z) = kappa(a) phi'(z):
//   tanh: phi' = 1-a^2, kappa = -2a;  sigmoid: phi' = a(1-a), kappa = 1-2a;
//   relu: phi' = [a>0], kappa = 0;   softplus: phi' = 1-e^-a, kappa = e^-a;  identity: 1, 0;
// GELU's need z (network_spec.h: act_needs_z): a GELU layer keeps Z (z) and GA (the point's dL/da).
//
// Batch and layer norm (per set: a batch norm channel over the batch's rows and positions, or a
// layer norm group of one sample; m values, gamma per channel or per position in the group):
// xhat = (x - mu) s with s = 1/sqrt(var + eps), z = gamma xhat. With y = gamma gz and the set means
// my = mean(y), myx = mean(y xhat):
//   backward    gx = s (y - my - xhat myx),  dgamma = sum gz xhat
//   R-forward   R(xhat) = s (Rx - mean(Rx) - xhat mean(xhat Rx)),  Rz = vgamma xhat + gamma R(xhat)
//   R-backward  with Ry = vgamma gz + gamma R(gz):
//               R(gx) = s (-s mean(xhat Rx) (y - my - xhat myx) + Ry - mean(Ry) - R(xhat) myx
//                          - xhat (mean(Ry xhat) + mean(y R(xhat)))),
//               R(dgamma) = sum R(gz) xhat + gz R(xhat)
// (the derivative of the backward through mu and s). Batch norm in evaluation mode normalizes with
// the running statistics, constants: every set mean above is then 0.
#include "internal.h"
#include "../common/network_sweep.h"

#include <algorithm>
#include <cblas.h>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace {

using an::Layer;
using an::Pool;
using an::Source;
using an::Topology;

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

// A norm layer's per-set state in one block (sets: a batch norm's channels, the same in every
// block; a layer norm's groups of the block's rows).
struct NormState {
    std::vector<double> mu, s, var;  // the statistics: mean, 1/sqrt(var + eps), var (biased)
    std::vector<double> my, myx;     // the point's means of y = gamma gz and y xhat (backward)
    std::vector<double> mrx, mxrx;   // the means of Rx and xhat Rx (R-forward)
    void resize(size_t sets) {
        for (auto* v : {&mu, &s, &var, &my, &myx, &mrx, &mxrx}) v->assign(sets, 0.0);
    }
};

// Per-thread buffers for one block of rows (capacity `cap` rows).
struct Block {
    std::vector<Buf> A, G, RZ, RA, RG;  // per layer: cap x out_size
    std::vector<Buf> Z, GA;             // per GELU layer: z and the point's dL/da (empty elsewhere)
    std::vector<std::vector<int>> arg;  // per max-pool layer: the argmax of each output
    std::vector<NormState> norm;        // per norm layer (empty elsewhere)
    Buf P;                              // softmax / sigmoid of the last layer
    Buf partial;                        // partial gradient / product (threads > 0)
    Buf cols, dcols;                    // im2col / col2im work (largest conv K x P)
    Buf bexp;                           // a bias expanded to every output of a sample
    Buf zeros;                          // max_width zeros (a layer without a bias)
    std::vector<double> colsum;         // bias-gradient accumulator (largest out_size)
    std::vector<double> sums;           // a norm layer's per-set sums (up to 3 per set)
    std::vector<double> dgamma;         // a norm layer's scale-gradient accumulator
    std::vector<double> slot[2];        // this block's partial sums of a cross-block reduction (alternating)
    int parity = 0;                     // which slot the next reduction uses
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

// ---- GELU: the same four passes from z (Z) and the point's dL/da (GA) ----
AN_CLONES static void gelu_bias_act(float* A, float* Z, const float* b, int rows, int out) {
    for (int i = 0; i < rows; ++i) {
        const size_t o = static_cast<size_t>(i) * out;
        for (int j = 0; j < out; ++j) {
            const float z = A[o + j] + b[j];
            Z[o + j] = z;
            A[o + j] = an::gelu(z);
        }
    }
}
// D = phi'(Z) D (ga saved into GA first when non-null); colsum += column sums of the new D
AN_CLONES static void gelu_back_act(float* D, float* GA, const float* Z, int rows, int out, double* colsum) {
    for (int i = 0; i < rows; ++i) {
        const size_t o = static_cast<size_t>(i) * out;
        for (int j = 0; j < out; ++j) {
            if (GA != nullptr) GA[o + j] = D[o + j];
            const float v = an::gelu_d1(Z[o + j]) * D[o + j];
            D[o + j] = v;
            colsum[j] += v;
        }
    }
}
AN_CLONES static void gelu_rfwd_act(float* RZ, float* RA, const float* Z, const float* vb, int rows, int out) {
    for (int i = 0; i < rows; ++i) {
        const size_t o = static_cast<size_t>(i) * out;
        for (int j = 0; j < out; ++j) {
            const float rz = RZ[o + j] + vb[j];
            RZ[o + j] = rz;
            RA[o + j] = an::gelu_d1(Z[o + j]) * rz;
        }
    }
}
AN_CLONES static void gelu_rbwd_act(float* RG, const float* RZ, const float* GA, const float* Z, int rows, int out, double* colsum) {
    for (int i = 0; i < rows; ++i) {
        const size_t o = static_cast<size_t>(i) * out;
        for (int j = 0; j < out; ++j) {
            const float z = Z[o + j];
            const float v = an::gelu_d2(z) * RZ[o + j] * GA[o + j] + an::gelu_d1(z) * RG[o + j];
            RG[o + j] = v;
            colsum[j] += v;
        }
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

// ---- the CPU primitives of a conv layer, per sample (NCHW) ----

// The outputs ow in [lo, hi) of a row whose tap j reads inside the input row
// (iw = ow stride - pad + j in [0, win)); the others read the zero padding.
inline void tap_range(const an::Geometry& g, int j, int& lo, int& hi) {
    const int first = g.pad - j, last = g.win - 1 + g.pad - j;  // first <= ow stride <= last
    lo = first <= 0 ? 0 : (first + g.stride - 1) / g.stride;
    hi = last < 0 ? 0 : std::min(g.wout, last / g.stride + 1);
    hi = std::max(hi, lo);
}

// cols (K x P) = im2col of one sample
void im2col(const an::Geometry& g, const float* x, float* cols) {
    for (int c = 0; c < g.cin; ++c)
        for (int i = 0; i < g.k; ++i)
            for (int j = 0; j < g.k; ++j) {
                float* row = cols + (static_cast<size_t>(c * g.k + i) * g.k + j) * g.P();
                int lo, hi;
                tap_range(g, j, lo, hi);
                for (int oh = 0; oh < g.hout; ++oh) {
                    const int ih = oh * g.stride - g.pad + i;
                    float* out = row + oh * g.wout;
                    if (ih < 0 || ih >= g.hin) {
                        std::fill(out, out + g.wout, 0.0f);
                        continue;
                    }
                    const float* in = x + (static_cast<size_t>(c) * g.hin + ih) * g.win;
                    const int shift = j - g.pad;  // iw = ow stride + shift
                    std::fill(out, out + lo, 0.0f);
                    if (g.stride == 1) std::memcpy(out + lo, in + lo + shift, sizeof(float) * (hi - lo));
                    else for (int ow = lo; ow < hi; ++ow) out[ow] = in[ow * g.stride + shift];
                    std::fill(out + hi, out + g.wout, 0.0f);
                }
            }
}

// x (one sample) += col2im(cols)
void col2im_add(const an::Geometry& g, const float* cols, float* x) {
    for (int c = 0; c < g.cin; ++c)
        for (int i = 0; i < g.k; ++i)
            for (int j = 0; j < g.k; ++j) {
                const float* row = cols + (static_cast<size_t>(c * g.k + i) * g.k + j) * g.P();
                int lo, hi;
                tap_range(g, j, lo, hi);
                for (int oh = 0; oh < g.hout; ++oh) {
                    const int ih = oh * g.stride - g.pad + i;
                    if (ih < 0 || ih >= g.hin) continue;
                    float* in = x + (static_cast<size_t>(c) * g.hin + ih) * g.win;
                    const float* src = row + oh * g.wout;
                    const int shift = j - g.pad;
                    if (g.stride == 1) for (int ow = lo; ow < hi; ++ow) in[ow + shift] += src[ow];
                    else for (int ow = lo; ow < hi; ++ow) in[ow * g.stride + shift] += src[ow];
                }
            }
}

}  // namespace

struct an_net {
    Topology topo;
    int cap = 0;  // rows per block
    std::unique_ptr<Pool> pool;
    std::vector<Block> blocks;
    an::Barrier barrier;  // the cross-block reductions of a sweep (batch norm in training mode)
    // the mode (an_net_set_mode): training, dropout's seed, the batch norms' running statistics
    bool training = true;
    uint64_t seed = 0;
    std::vector<double> running;  // per batch norm layer: the channels' means, then their variances
    // the tensors' squared norms and norms at the last point (the regularizer; sized once)
    std::vector<double> squares, norms;
    // The point of the last gradient()/hvp() call, reused by the *_cached calls.
    bool cached = false;
    const float* w = nullptr;
    const float* x = nullptr;
    int batch = 0;

    int used_threads(int b) const { return std::min(pool->size(), b); }
    int row_begin(int t, int b) const { return static_cast<int>(static_cast<long long>(t) * b / used_threads(b)); }

    // Runs sweep(block, t, rows, row0, dst) on every row block, then sums the partials into out. A
    // thread that fails breaks the barrier, so that the others do not wait for it; its exception is
    // the one rethrown.
    template <class Sweep>
    void parallel(int b, float* out, Sweep&& sweep) {
        const int used = used_threads(b);
        barrier.reset(used);
        std::mutex failed_mutex;
        std::exception_ptr failed;
        pool->run(used, [&](int t) {
            const int r0 = row_begin(t, b), r1 = row_begin(t + 1, b);
            Block& k = blocks[t];
            k.loss = 0;
            k.parity = 0;
            try {
                sweep(k, t, r1 - r0, r0, out == nullptr ? nullptr : (t == 0 ? out : k.partial.p));
            } catch (const an::BarrierBroken&) {
                // another thread failed first: its exception is the one to report
            } catch (...) {
                {
                    std::lock_guard<std::mutex> lock(failed_mutex);
                    if (!failed) failed = std::current_exception();
                }
                barrier.abort();
            }
        });
        if (failed) std::rethrow_exception(failed);
        if (out != nullptr && used > 1) {
            pool->run(used, [&](int t) {
                const long long p0 = topo.params * t / used, p1 = topo.params * (t + 1) / used;
                for (int s = 1; s < used; ++s) add_into(out + p0, blocks[s].partial.p + p0, p1 - p0);
            });
        }
    }

    double loss_sum(int b) const {
        double total = 0;
        for (int t = 0; t < used_threads(b); ++t) total += blocks[t].loss;
        return total;
    }

    // The regularizer's vector engine (network_sweep.h) on the whole parameter vector.
    struct Vectors {
        const Topology& topo;
        void axpy(float alpha, const float* x_, float* y, long long off, long long n) { an_axpy(alpha, x_ + off, y + off, n); }
        void norm_hessian(size_t i, double c1, double c3, const float* w_, const float* v, float* hv) {
            const long long off = topo.tensors[i].off, n = topo.tensors[i].len;
            const double wv = an_dot(w_ + off, v + off, n);
            an_axpy(static_cast<float>(c1), v + off, hv + off, n);
            an_axpy(static_cast<float>(-c3 * wv), w_ + off, hv + off, n);
        }
    };
    // The regularizer's value at w_ (its gradient added to grad if non-null); keeps the norms.
    double regularizer(const float* w_, float* grad) {
        if (!topo.regularized()) return 0;
        for (size_t i = 0; i < squares.size(); ++i) squares[i] = an_dot(w_ + topo.tensors[i].off, w_ + topo.tensors[i].off, topo.tensors[i].len);
        Vectors v{topo};
        return an::regularizer_value(v, topo, squares.data(), w_, grad, norms.data());
    }
    void regularizer_hvp(const float* w_, const float* v, float* out) {
        Vectors vec{topo};
        an::regularizer_hvp(vec, topo, norms.data(), w_, v, out);
    }

    void require_batch(int b) const {
        if (b < 1 || b > topo.max_batch)
            throw std::invalid_argument("batch = " + std::to_string(b) + "; must be in [1, " + std::to_string(topo.max_batch) + "]");
    }
    // a second line behind Java's upload check: an embedding's indices are integers in [0, vocabulary)
    void require_indices(const float* x_, int b) const {
        for (const Layer& L : topo.layers) {
            if (L.kind != AN_LAYER_EMBEDDING) continue;
            for (long long i = 0; i < static_cast<long long>(b) * L.length; ++i) {
                const float v = x_[i];
                if (!(v >= 0 && v < L.vocabulary && v == std::floor(v)))
                    throw std::invalid_argument("input " + std::to_string(i % L.length) + " of row " + std::to_string(i / L.length) + " is " +
                                                std::to_string(v) + ", not an embedding index in [0, " + std::to_string(L.vocabulary) + ")");
            }
        }
    }
    void require_cache() const {
        if (!cached) throw std::logic_error("no cached point: call gradient() or hvp() first");
    }
    void remember(const float* w_, const float* x_, int b) {
        cached = true;
        w = w_;
        x = x_;
        batch = b;
    }
    // The pool provides the parallelism: every sgemm of a sweep runs single-threaded.
    void single_threaded_blas() const {
        if (openblas_get_num_threads() != 1) openblas_set_num_threads(1);
    }
};

namespace {

// The CPU engine of network_sweep.h over one block of rows [row0, row0 + rows) of a batch of b.
struct CpuSweep {
    an_net& net;
    const Topology& topo;
    Block& k;
    const float* x;  // the block's rows of the batch input
    int t, used, rows, row0, b;
    const int* labels = nullptr;
    const float* targets = nullptr;

    CpuSweep(an_net& net_, Block& block, int t_, const float* batch_x, int rows_, int row0_, int batch)
        : net(net_), topo(net_.topo), k(block), x(batch_x + static_cast<size_t>(row0_) * net_.topo.input), t(t_),
          used(net_.used_threads(batch)), rows(rows_), row0(row0_), b(batch) {}

    const Topology& topology() const { return topo; }
    const Layer& layer(size_t l) const { return topo.layers[l]; }
    float* A(size_t l) { return k.A[l].p; }
    float* G(size_t l) { return k.G[l].p; }
    float* RZ(size_t l) { return k.RZ[l].p; }
    float* RA(size_t l) { return layer(l).act == AN_ACT_IDENTITY ? k.RZ[l].p : k.RA[l].p; }
    float* RG(size_t l) { return k.RG[l].p; }
    const float* input(size_t l, int j) {
        const int i = layer(l).in[j];
        return i < 0 ? x : k.A[i].p;
    }
    // the R-value of input 0 (null: the network's input, whose R-value is 0)
    const float* r_input(size_t l) {
        const int i = layer(l).in[0];
        return i < 0 ? nullptr : RA(static_cast<size_t>(i));
    }
    const float* source(size_t l, Source s) { return s == Source::input ? input(l, 0) : r_input(l); }
    size_t values(size_t l) const { return static_cast<size_t>(rows) * layer(l).out_size; }

    // the CPU lowers one sample at a time inside linear and outer (the columns stay in cache)
    void lower(size_t, Source) {}

    // The marking of a product's GEMMs (network_sweep.h: ProductGemms): kept, but every GEMM here
    // is OpenBLAS sgemm (fp32); the Java side refuses other curvature precisions on this backend.
    bool in_product = false;
    bool product_gemms() const { return in_product; }
    void product_gemms(bool on) { in_product = on; }

    void linear(size_t l, const float* W, Source s, float beta, float* z) {
        const Layer& L = layer(l);
        const float* in = source(l, s);
        if (!L.conv()) {
            gemm_nt(rows, L.out_size, L.in_size, in, W, beta, z);
            return;
        }
        for (int r = 0; r < rows; ++r) {
            im2col(L.g, in + static_cast<size_t>(r) * L.in_size, k.cols.p);
            gemm_nn(L.g.cout, L.g.P(), L.g.K(), W, k.cols.p, beta, z + static_cast<size_t>(r) * L.out_size);
        }
    }

    void linear_t(size_t l, const float* W, const float* gz, float beta, float* gx) {
        const Layer& L = layer(l);
        if (!L.conv()) {
            gemm_nn(rows, L.in_size, L.out_size, gz, W, beta, gx);
            return;
        }
        for (int r = 0; r < rows; ++r) {
            float* gxs = gx + static_cast<size_t>(r) * L.in_size;
            if (beta == 0.0f) std::fill(gxs, gxs + L.in_size, 0.0f);
            gemm_tn(L.g.K(), L.g.P(), L.g.cout, W, gz + static_cast<size_t>(r) * L.out_size, 0.0f, k.dcols.p);
            col2im_add(L.g, k.dcols.p, gxs);
        }
    }

    // for a conv, both products into one column buffer and one col2im
    void linear_t_pair(size_t l, const float* W, const float* g1, const float* V, const float* g2, float beta, float* gx) {
        const Layer& L = layer(l);
        if (!L.conv()) {
            gemm_nn(rows, L.in_size, L.out_size, g1, W, beta, gx);
            gemm_nn(rows, L.in_size, L.out_size, g2, V, 1.0f, gx);
            return;
        }
        for (int r = 0; r < rows; ++r) {
            float* gxs = gx + static_cast<size_t>(r) * L.in_size;
            if (beta == 0.0f) std::fill(gxs, gxs + L.in_size, 0.0f);
            gemm_tn(L.g.K(), L.g.P(), L.g.cout, W, g1 + static_cast<size_t>(r) * L.out_size, 0.0f, k.dcols.p);
            gemm_tn(L.g.K(), L.g.P(), L.g.cout, V, g2 + static_cast<size_t>(r) * L.out_size, 1.0f, k.dcols.p);
            col2im_add(L.g, k.dcols.p, gxs);
        }
    }

    void outer(size_t l, const float* gz, Source s, float beta, float* dW) {
        const Layer& L = layer(l);
        const float* in = source(l, s);
        if (!L.conv()) {
            gemm_tn(L.out_size, L.in_size, rows, gz, in, beta, dW);
            return;
        }
        for (int r = 0; r < rows; ++r) {
            im2col(L.g, in + static_cast<size_t>(r) * L.in_size, k.cols.p);
            gemm_nt(L.g.cout, L.g.K(), L.g.P(), gz + static_cast<size_t>(r) * L.out_size, k.cols.p, r == 0 ? beta : 1.0f, dW);
        }
    }

    // ---- activations (the column sums of the backward passes feed bias_grad) ----
    void bias_act(size_t l, const float* bias) {
        const Layer& L = layer(l);
        if (an::act_needs_z(L.act)) gelu_bias_act(A(l), k.Z[l].p, per_output(L, bias), rows, L.out_size);
        else ::bias_act(L.act, A(l), per_output(L, bias), rows, L.out_size);
    }
    void back_act(size_t l, float* D, bool point) {
        const Layer& L = layer(l);
        reset_colsum(L);
        if (an::act_needs_z(L.act)) gelu_back_act(D, point ? k.GA[l].p : nullptr, k.Z[l].p, rows, L.out_size, k.colsum.data());
        else ::back_act(L.act, D, A(l), rows, L.out_size, k.colsum.data());
    }
    void rfwd_act(size_t l, const float* vb) {
        const Layer& L = layer(l);
        if (an::act_needs_z(L.act)) gelu_rfwd_act(RZ(l), RA(l), k.Z[l].p, per_output(L, vb), rows, L.out_size);
        else ::rfwd_act(L.act, RZ(l), RA(l), A(l), per_output(L, vb), rows, L.out_size);
    }
    void rbwd_act(size_t l) {
        const Layer& L = layer(l);
        reset_colsum(L);
        if (an::act_needs_z(L.act)) gelu_rbwd_act(RG(l), RZ(l), k.GA[l].p, k.Z[l].p, rows, L.out_size, k.colsum.data());
        else ::rbwd_act(L.act, RG(l), RZ(l), G(l), A(l), rows, L.out_size, k.colsum.data());
    }
    // the bias gradient from the column sums the activation pass just accumulated
    void bias_grad(size_t l, const float*, float* db) {
        const Layer& L = layer(l);
        if (L.period == 1 && L.count == L.out_size) {
            for (int j = 0; j < L.out_size; ++j) db[j] = static_cast<float>(k.colsum[j]);
            return;
        }
        std::fill(k.dgamma.begin(), k.dgamma.begin() + L.count, 0.0);
        for (int o = 0; o < L.out_size; ++o) k.dgamma[(o / L.period) % L.count] += k.colsum[o];
        for (int c = 0; c < L.count; ++c) db[c] = static_cast<float>(k.dgamma[c]);
    }
    void reset_colsum(const Layer& L) { std::fill(k.colsum.begin(), k.colsum.begin() + L.out_size, 0.0); }
    // a bias as a per-output vector (a conv's repeated over the positions, a layer norm's over
    // the groups; none: zeros)
    const float* per_output(const Layer& L, const float* bias) {
        if (bias == nullptr) return k.zeros.p;
        if (L.period == 1 && L.count == L.out_size) return bias;
        for (int o = 0; o < L.out_size; ++o) k.bexp.p[o] = bias[(o / L.period) % L.count];
        return k.bexp.p;
    }

    // ---- pooling (k x k windows, stride, no padding) ----
    // forward; max records its argmax: the first maximum in scan order wins ties
    void pool_forward(size_t l) {
        const Layer& L = layer(l);
        const an::Geometry& g = L.g;
        const float inv = 1.0f / static_cast<float>(g.k * g.k);
        const float* x_ = input(l, 0);
        float* y = A(l);
        for (int r = 0; r < rows; ++r) {
            const float* xs = x_ + static_cast<size_t>(r) * L.in_size;
            float* ys = y + static_cast<size_t>(r) * L.out_size;
            int* as = L.kind == AN_LAYER_MAXPOOL2D ? k.arg[l].data() + static_cast<size_t>(r) * L.out_size : nullptr;
            for (int c = 0; c < g.cin; ++c)
                for (int oh = 0; oh < g.hout; ++oh)
                    for (int ow = 0; ow < g.wout; ++ow) {
                        const int o = (c * g.hout + oh) * g.wout + ow;
                        float best = -INFINITY, sum = 0;
                        int where = (c * g.hin + oh * g.stride) * g.win + ow * g.stride;
                        for (int i = 0; i < g.k; ++i)
                            for (int j = 0; j < g.k; ++j) {
                                const int idx = (c * g.hin + oh * g.stride + i) * g.win + ow * g.stride + j;
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

    // ry = P rx (the max follows the cached argmax)
    void pool_apply(size_t l, const float* rx, float* ry) {
        const Layer& L = layer(l);
        const an::Geometry& g = L.g;
        if (L.kind == AN_LAYER_AVGPOOL2D) {
            const float inv = 1.0f / static_cast<float>(g.k * g.k);
            for (int r = 0; r < rows; ++r) {
                const float* xs = rx + static_cast<size_t>(r) * L.in_size;
                float* ys = ry + static_cast<size_t>(r) * L.out_size;
                for (int c = 0; c < g.cin; ++c)
                    for (int oh = 0; oh < g.hout; ++oh)
                        for (int ow = 0; ow < g.wout; ++ow) {
                            float sum = 0;
                            for (int i = 0; i < g.k; ++i)
                                for (int j = 0; j < g.k; ++j) sum += xs[(c * g.hin + oh * g.stride + i) * g.win + ow * g.stride + j];
                            ys[(c * g.hout + oh) * g.wout + ow] = sum * inv;
                        }
            }
            return;
        }
        const size_t n = values(l);
        const int* arg = k.arg[l].data();
        for (size_t o = 0; o < n; ++o) ry[o] = rx[(o / L.out_size) * L.in_size + arg[o]];
    }

    // gx = beta gx + P' gy
    void pool_transpose(size_t l, const float* gy, float beta, float* gx) {
        const Layer& L = layer(l);
        const an::Geometry& g = L.g;
        if (beta == 0.0f) std::fill(gx, gx + static_cast<size_t>(rows) * L.in_size, 0.0f);
        if (L.kind == AN_LAYER_AVGPOOL2D) {
            const float inv = 1.0f / static_cast<float>(g.k * g.k);
            for (int r = 0; r < rows; ++r) {
                float* xs = gx + static_cast<size_t>(r) * L.in_size;
                const float* ys = gy + static_cast<size_t>(r) * L.out_size;
                for (int c = 0; c < g.cin; ++c)
                    for (int oh = 0; oh < g.hout; ++oh)
                        for (int ow = 0; ow < g.wout; ++ow) {
                            const float v = ys[(c * g.hout + oh) * g.wout + ow] * inv;
                            for (int i = 0; i < g.k; ++i)
                                for (int j = 0; j < g.k; ++j) xs[(c * g.hin + oh * g.stride + i) * g.win + ow * g.stride + j] += v;
                        }
            }
            return;
        }
        const size_t n = values(l);
        const int* arg = k.arg[l].data();
        for (size_t o = 0; o < n; ++o) gx[(o / L.out_size) * L.in_size + arg[o]] += gy[o];
    }

    // ---- global average pooling, dropout, embedding, copies ----
    void gap(size_t l, const float* x_, float* y) {
        const Layer& L = layer(l);
        const int P = L.positions;
        for (int r = 0; r < rows; ++r)
            for (int c = 0; c < L.channels; ++c) {
                const float* xs = x_ + (static_cast<size_t>(r) * L.channels + c) * P;
                double sum = 0;
                for (int p = 0; p < P; ++p) sum += xs[p];
                y[static_cast<size_t>(r) * L.channels + c] = static_cast<float>(sum / P);
            }
    }
    void gap_t(size_t l, const float* gy, float beta, float* gx) {
        const Layer& L = layer(l);
        const int P = L.positions;
        const float inv = 1.0f / static_cast<float>(P);
        for (int r = 0; r < rows; ++r)
            for (int c = 0; c < L.channels; ++c) {
                float* xs = gx + (static_cast<size_t>(r) * L.channels + c) * P;
                const float v = gy[static_cast<size_t>(r) * L.channels + c] * inv;
                for (int p = 0; p < P; ++p) xs[p] = beta == 0.0f ? v : beta * xs[p] + v;
            }
    }
    // y = beta y + (mask / (1 - p)) x in training mode (the mask of the whole batch's row index),
    // beta y + x in evaluation mode
    void dropout(size_t l, const float* x_, float beta, float* y) {
        const Layer& L = layer(l);
        if (!net.training) {
            copy_rows(L.out_size, x_, L.out_size, beta, y, L.out_size);
            return;
        }
        const float scale = static_cast<float>(1.0 / (1.0 - static_cast<double>(L.p)));
        for (int r = 0; r < rows; ++r) {
            const uint64_t h = an::dropout_row(net.seed, L.net_layer, row0 + r);
            const float* xs = x_ + static_cast<size_t>(r) * L.out_size;
            float* ys = y + static_cast<size_t>(r) * L.out_size;
            for (int u = 0; u < L.out_size; ++u) {
                const float v = an::dropout_keeps(h, u, L.threshold) ? xs[u] * scale : 0.0f;
                ys[u] = beta == 0.0f ? v : beta * ys[u] + v;
            }
        }
    }
    // y = the rows of W (vocabulary x dim) that the block's indices pick (checked before the sweep)
    void embed(size_t l, const float* W, float* y) {
        const Layer& L = layer(l);
        for (int r = 0; r < rows; ++r)
            for (int i = 0; i < L.length; ++i) {
                const int index = static_cast<int>(x[static_cast<size_t>(r) * L.length + i]);
                std::memcpy(y + (static_cast<size_t>(r) * L.length + i) * L.dim, W + static_cast<size_t>(index) * L.dim, sizeof(float) * L.dim);
            }
    }
    // dW = the scatter-sum of g into the picked rows (this block's share)
    void embed_t(size_t l, const float* g, float* dW) {
        const Layer& L = layer(l);
        std::fill(dW, dW + L.w_len, 0.0f);
        for (int r = 0; r < rows; ++r)
            for (int i = 0; i < L.length; ++i) {
                const int index = static_cast<int>(x[static_cast<size_t>(r) * L.length + i]);
                const float* gs = g + (static_cast<size_t>(r) * L.length + i) * L.dim;
                float* d = dW + static_cast<size_t>(index) * L.dim;
                for (int j = 0; j < L.dim; ++j) d[j] += gs[j];
            }
    }
    void copy_rows(int len, const float* x_, int x_stride, float beta, float* y, int y_stride) {
        for (int r = 0; r < rows; ++r) {
            float* ys = y + static_cast<size_t>(r) * y_stride;
            if (x_ == nullptr) {
                if (beta == 0.0f) std::fill(ys, ys + len, 0.0f);
                else if (beta != 1.0f) for (int i = 0; i < len; ++i) ys[i] *= beta;
                continue;
            }
            const float* xs = x_ + static_cast<size_t>(r) * x_stride;
            if (beta == 0.0f) std::memcpy(ys, xs, sizeof(float) * len);
            else for (int i = 0; i < len; ++i) ys[i] = beta * ys[i] + xs[i];
        }
    }

    void zero(size_t l, float* x_) { std::fill(x_, x_ + values(l), 0.0f); }

    // ---- batch and layer norm (the formulas in the header comment) ----

    // whether the statistics are the values' own (batch norm in training mode, layer norm)
    bool coupled(const Layer& L) const { return L.kind == AN_LAYER_LAYERNORM || net.training; }
    bool batch_norm(const Layer& L) const { return L.kind == AN_LAYER_BATCHNORM; }
    int sets(const Layer& L) const { return batch_norm(L) ? L.channels : rows * L.groups; }
    // values per set: a batch norm channel's over the whole batch
    double set_size(const Layer& L) const { return batch_norm(L) ? static_cast<double>(b) * L.positions : L.group; }
    // Calls f(set, first, len, gamma_first, gamma_stride) for every run of `len` consecutive values
    // of one set in the block's rows (from value `first`): a batch norm channel's positions of one
    // row (one gamma), a layer norm group (gamma per value).
    template <class F>
    void for_runs(const Layer& L, F&& f) const {
        const bool bn = batch_norm(L);
        const int len = bn ? L.positions : L.group, per_row = L.out_size / len;
        for (int r = 0; r < rows; ++r)
            for (int q = 0; q < per_row; ++q)
                f(bn ? q : r * per_row + q, static_cast<size_t>(r) * L.out_size + static_cast<size_t>(q) * len, len, bn ? q : 0, bn ? 0 : 1);
    }
    // the totals of a batch norm's per-channel sums over every block (in place; in block order)
    void reduce(const Layer& L, double* v, int n) {
        if (!batch_norm(L) || used == 1) return;
        std::copy(v, v + n, k.slot[k.parity].begin());
        net.barrier.wait();
        for (int i = 0; i < n; ++i) {
            double total = 0;
            for (int s = 0; s < used; ++s) total += net.blocks[s].slot[k.parity][i];
            v[i] = total;
        }
        k.parity ^= 1;
    }

    // The per-set sums of K terms, f(set, value index, gamma index, acc) adding a value's terms
    // to acc[0..K), into k.sums (K per set); for a batch norm with across, totals over every block.
    template <int K, class F>
    const double* set_sums(const Layer& L, bool across, F&& f) {
        double* S = k.sums.data();
        std::fill(S, S + K * sets(L), 0.0);
        for_runs(L, [&](int set, size_t o, int len, int g0, int gs) {
            double acc[K] = {};
            for (int i = 0; i < len; ++i) f(set, o + i, g0 + gs * i, acc);
            for (int j = 0; j < K; ++j) S[K * set + j] += acc[j];
        });
        if (across) reduce(L, S, K * sets(L));
        return S;
    }
    // xhat (in double: x - mu cancels when a set's spread is small against its mean)
    static float xhat(const NormState& N, int set, float x_) { return static_cast<float>((x_ - N.mu[set]) * N.s[set]); }
    // R(xhat) from the R-input (null: 0) and the R-forward's means
    static float rxhat(const NormState& N, int set, const float* rx, size_t e, float xh) {
        return rx == nullptr ? 0.0f : static_cast<float>(N.s[set] * (rx[e] - N.mrx[set] - xh * N.mxrx[set]));
    }

    // the statistics (the values' own, or the running ones), then A(l) = gamma xhat
    void norm_forward(size_t l, const float* gamma) {
        const Layer& L = layer(l);
        NormState& N = k.norm[l];
        const float* x_ = input(l, 0);
        const int n = sets(L);
        if (coupled(L)) {
            const double* S = set_sums<2>(L, true, [&](int, size_t e, int, double* acc) {
                acc[0] += x_[e];
                acc[1] += static_cast<double>(x_[e]) * x_[e];
            });
            const double m = set_size(L);
            for (int c = 0; c < n; ++c) {
                N.mu[c] = S[2 * c] / m;
                N.var[c] = std::max(S[2 * c + 1] / m - N.mu[c] * N.mu[c], 0.0);
            }
        } else {
            std::copy_n(net.running.begin() + L.stat_off, n, N.mu.begin());
            std::copy_n(net.running.begin() + L.stat_off + L.channels, n, N.var.begin());
        }
        for (int c = 0; c < n; ++c) N.s[c] = 1.0 / std::sqrt(N.var[c] + L.eps);
        float* z = A(l);
        for_runs(L, [&](int set, size_t o, int len, int g0, int gs) {
            for (int i = 0; i < len; ++i) z[o + i] = gamma[g0 + gs * i] * xhat(N, set, x_[o + i]);
        });
    }

    // dgamma (this block's share, if non-null) = sum gz xhat; gx = beta gx + s (y - my - xhat myx)
    // (if non-null); point: keeps my and myx for the R-backward
    void norm_backward(size_t l, const float* gamma, const float* gz, bool point, float* dgamma, float* gx, float beta) {
        const Layer& L = layer(l);
        NormState& N = k.norm[l];
        const float* x_ = input(l, 0);
        const int n = sets(L);
        const bool c_ = coupled(L);
        std::fill(k.dgamma.begin(), k.dgamma.begin() + L.count, 0.0);
        const double* S = set_sums<2>(L, c_, [&](int set, size_t e, int gi, double* acc) {
            const double gzx = static_cast<double>(gz[e]) * xhat(N, set, x_[e]);
            acc[0] += static_cast<double>(gamma[gi]) * gz[e];
            acc[1] += gamma[gi] * gzx;
            k.dgamma[gi] += gzx;
        });
        if (dgamma != nullptr)
            for (int c = 0; c < L.count; ++c) dgamma[c] = static_cast<float>(k.dgamma[c]);
        const double m = set_size(L);
        if (point)
            for (int c = 0; c < n; ++c) {
                N.my[c] = c_ ? S[2 * c] / m : 0.0;
                N.myx[c] = c_ ? S[2 * c + 1] / m : 0.0;
            }
        if (gx == nullptr) return;
        for_runs(L, [&](int set, size_t o, int len, int g0, int gs) {
            const float s = static_cast<float>(N.s[set]);
            const float my = c_ ? static_cast<float>(S[2 * set] / m) : 0.0f, myx = c_ ? static_cast<float>(S[2 * set + 1] / m) : 0.0f;
            for (int i = 0; i < len; ++i) {
                const float v = s * (gamma[g0 + gs * i] * gz[o + i] - my - xhat(N, set, x_[o + i]) * myx);
                gx[o + i] = beta == 0.0f ? v : gx[o + i] + v;
            }
        });
    }

    // RZ(l) = vgamma xhat + gamma R(xhat) (rx null: R(xhat) = 0); keeps mean(Rx), mean(xhat Rx)
    void norm_rforward(size_t l, const float* gamma, const float* vgamma, const float* rx) {
        const Layer& L = layer(l);
        NormState& N = k.norm[l];
        const float* x_ = input(l, 0);
        const int n = sets(L);
        std::fill(N.mrx.begin(), N.mrx.begin() + n, 0.0);
        std::fill(N.mxrx.begin(), N.mxrx.begin() + n, 0.0);
        if (rx != nullptr && coupled(L)) {
            const double* S = set_sums<2>(L, true, [&](int set, size_t e, int, double* acc) {
                acc[0] += rx[e];
                acc[1] += static_cast<double>(xhat(N, set, x_[e])) * rx[e];
            });
            const double m = set_size(L);
            for (int c = 0; c < n; ++c) {
                N.mrx[c] = S[2 * c] / m;
                N.mxrx[c] = S[2 * c + 1] / m;
            }
        }
        float* rz = RZ(l);
        for_runs(L, [&](int set, size_t o, int len, int g0, int gs) {
            for (int i = 0; i < len; ++i) {
                const float xh = xhat(N, set, x_[o + i]);
                rz[o + i] = vgamma[g0 + gs * i] * xh + gamma[g0 + gs * i] * rxhat(N, set, rx, o + i, xh);
            }
        });
    }

    // rdgamma (this block's share) = sum R(gz) xhat + gz R(xhat); rgx = beta rgx + R(gx) (if non-null)
    void norm_rbackward(size_t l, const float* gamma, const float* vgamma, float* rdgamma, float* rgx, float beta) {
        const Layer& L = layer(l);
        NormState& N = k.norm[l];
        const float* x_ = input(l, 0);
        const float* rx = r_input(l);
        const float* gz = G(l);
        const float* rgz = RG(l);
        const bool c_ = coupled(L);
        std::fill(k.dgamma.begin(), k.dgamma.begin() + L.count, 0.0);
        const double* S = set_sums<3>(L, c_ && rgx != nullptr, [&](int set, size_t e, int gi, double* acc) {
            const float xh = xhat(N, set, x_[e]), rxh = rxhat(N, set, rx, e, xh);
            const float ry = vgamma[gi] * gz[e] + gamma[gi] * rgz[e];
            acc[0] += ry;
            acc[1] += static_cast<double>(ry) * xh;
            acc[2] += static_cast<double>(gamma[gi] * gz[e]) * rxh;
            k.dgamma[gi] += static_cast<double>(rgz[e]) * xh + static_cast<double>(gz[e]) * rxh;
        });
        for (int c = 0; c < L.count; ++c) rdgamma[c] = static_cast<float>(k.dgamma[c]);
        if (rgx == nullptr) return;
        const double m = set_size(L);
        for_runs(L, [&](int set, size_t o, int len, int g0, int gs) {
            const float s = static_cast<float>(N.s[set]), mxrx = static_cast<float>(N.mxrx[set]);
            const float my = static_cast<float>(N.my[set]), myx = static_cast<float>(N.myx[set]);
            const float mry = c_ ? static_cast<float>(S[3 * set] / m) : 0.0f, mryx = c_ ? static_cast<float>(S[3 * set + 1] / m) : 0.0f,
                        myrx = c_ ? static_cast<float>(S[3 * set + 2] / m) : 0.0f;
            for (int i = 0; i < len; ++i) {
                const float xh = xhat(N, set, x_[o + i]), rxh = rxhat(N, set, rx, o + i, xh);
                const float g = gamma[g0 + gs * i];
                const float y = g * gz[o + i], ry = vgamma[g0 + gs * i] * gz[o + i] + g * rgz[o + i];
                const float v = s * (-s * mxrx * (y - my - xh * myx) + ry - mry - rxh * myx - xh * (mryx + myrx));
                rgx[o + i] = beta == 0.0f ? v : rgx[o + i] + v;
            }
        });
    }

    // ---- the loss on the output ----
    // k.loss = the rows' loss (already divided by the batch); dL/da of the output into ga if non-null
    void top(float* ga) {
        const int d = topo.out_dim();
        const float* Z = k.A.back().p;
        double total = 0;
        if (topo.loss == AN_LOSS_SOFTMAX_CE) {
            const float inv = 1.0f / static_cast<float>(b);
            for (int i = 0; i < rows; ++i) {
                const float* z = Z + static_cast<size_t>(i) * d;
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
            k.loss = total / b;
            return;
        }
        if (topo.loss == AN_LOSS_BCE) {
            // L = (1/b) sum softplus(z) - t z; dL/dz = (sigma(z) - t)/b; sigma kept in P for the R-op
            const float inv = 1.0f / static_cast<float>(b);
            for (int i = 0; i < rows; ++i) {
                const float* z = Z + static_cast<size_t>(i) * d;
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
            k.loss = total / b;
            return;
        }
        // squared error: L = c/2 * sum (a - t)^2 with c = 2/(b d) (mean) or 2/b (per-sample sum)
        const double c = squared_error_scale();
        const float cf = static_cast<float>(c);
        for (int i = 0; i < rows; ++i) {
            const float* a = Z + static_cast<size_t>(i) * d;
            const float* t = targets + static_cast<size_t>(row0 + i) * d;
            double s = 0;
            for (int j = 0; j < d; ++j) {
                const double e = static_cast<double>(a[j]) - t[j];
                s += e * e;
                if (ga != nullptr) ga[static_cast<size_t>(i) * d + j] = cf * static_cast<float>(e);
            }
            total += s;
        }
        k.loss = 0.5 * c * total;
    }
    double squared_error_scale() const {
        return topo.loss == AN_LOSS_SQUARED_MEAN ? 2.0 / (static_cast<double>(b) * topo.out_dim()) : 2.0 / b;
    }

    // RG(last) = H_loss RA(last) (the loss' Hessian on the network output)
    void top_r() {
        const size_t last = topo.last();
        const int d = topo.out_dim();
        const float* ra = RA(last);
        float* rga = RG(last);
        if (topo.loss == AN_LOSS_SOFTMAX_CE) {
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
        const size_t n = static_cast<size_t>(rows) * d;
        if (topo.loss == AN_LOSS_BCE) {
            const float inv = 1.0f / static_cast<float>(b);
            for (size_t i = 0; i < n; ++i) rga[i] = inv * k.P.p[i] * (1.0f - k.P.p[i]) * ra[i];
            return;
        }
        const float c = static_cast<float>(squared_error_scale());
        for (size_t i = 0; i < n; ++i) rga[i] = c * ra[i];
    }
};

}  // namespace

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
        auto net = std::make_unique<an_net>();
        net->topo = an::parse_topology(spec, spec_len, loss, reg, lambda, max_batch);
        if (threads < 1) throw std::invalid_argument("threads must be >= 1");
        const Topology& topo = net->topo;
        net->cap = (max_batch + threads - 1) / threads;
        size_t max_cols = 1, max_sums = 1, max_reduce = 1;
        for (const Layer& L : topo.layers) {
            if (L.conv()) max_cols = std::max(max_cols, static_cast<size_t>(L.g.K()) * L.g.P());
            if (L.kind == AN_LAYER_BATCHNORM) {
                max_sums = std::max(max_sums, 3 * static_cast<size_t>(L.channels));
                max_reduce = std::max(max_reduce, 3 * static_cast<size_t>(L.channels));
            }
            if (L.kind == AN_LAYER_LAYERNORM) max_sums = std::max(max_sums, 3 * static_cast<size_t>(net->cap) * L.groups);
        }
        net->squares.assign(topo.tensors.size(), 0.0);
        net->norms.assign(topo.tensors.size(), 0.0);
        net->running.assign(static_cast<size_t>(topo.statistics), 0.0);
        for (const Layer& L : topo.layers)
            if (L.kind == AN_LAYER_BATCHNORM) std::fill(net->running.begin() + L.stat_off + L.channels, net->running.begin() + L.stat_off + 2 * L.channels, 1.0);
        net->pool = std::make_unique<Pool>(threads);
        net->blocks.resize(threads);
        for (int t = 0; t < threads; ++t) {
            Block& k = net->blocks[t];
            for (const Layer& L : topo.layers) {
                const size_t sz = static_cast<size_t>(net->cap) * L.out_size;
                k.A.emplace_back(sz);
                k.G.emplace_back(sz);
                k.RZ.emplace_back(sz);
                k.RA.emplace_back(L.act == AN_ACT_IDENTITY ? 0 : sz);
                k.RG.emplace_back(sz);
                k.Z.emplace_back(an::act_needs_z(L.act) ? sz : 0);
                k.GA.emplace_back(an::act_needs_z(L.act) ? sz : 0);
                k.arg.emplace_back(L.kind == AN_LAYER_MAXPOOL2D ? sz : 0);
                k.norm.emplace_back();
                if (L.norm()) k.norm.back().resize(L.kind == AN_LAYER_BATCHNORM ? L.channels : static_cast<size_t>(net->cap) * L.groups);
            }
            k.cols = Buf(max_cols);
            k.dcols = Buf(max_cols);
            k.bexp = Buf(static_cast<size_t>(topo.max_width));
            k.zeros = Buf(static_cast<size_t>(topo.max_width));
            std::fill(k.zeros.p, k.zeros.p + topo.max_width, 0.0f);
            k.P = Buf(static_cast<size_t>(net->cap) * topo.out_dim());
            if (t > 0) k.partial = Buf(static_cast<size_t>(topo.params));
            k.colsum.assign(topo.max_width, 0.0);
            k.dgamma.assign(topo.max_width, 0.0);
            k.sums.assign(max_sums, 0.0);
            k.slot[0].assign(max_reduce, 0.0);
            k.slot[1].assign(max_reduce, 0.0);
        }
        result = net.release();
        return AN_OK;
    });
    return result;
}

void an_net_destroy(an_net* net) { delete net; }

long long an_net_param_count(const an_net* net) { return net == nullptr ? -1 : net->topo.params; }

int an_net_set_mode(an_net* net, int training, long long dropout_seed, const double* running, long long count) {
    return an::guarded([&] {
        if (!net) throw std::invalid_argument("null network");
        if (an::set_mode(net->topo, net->training, net->seed, training, dropout_seed, running, count)) net->cached = false;
        if (running != nullptr) std::copy(running, running + count, net->running.begin());
        return AN_OK;
    });
}

int an_net_batch_statistics(an_net* net, double* out, long long count) {
    return an::guarded([&] {
        if (!net || (!out && count > 0)) throw std::invalid_argument("null pointer");
        if (count != net->topo.statistics)
            throw std::invalid_argument("count = " + std::to_string(count) + "; the network's batch norm layers keep " + std::to_string(net->topo.statistics) +
                                        " statistics");
        net->require_cache();
        if (!net->training) throw std::logic_error("the cached point is in evaluation mode: no batch statistics");
        for (size_t l = 0; l < net->topo.layers.size(); ++l) {
            const Layer& L = net->topo.layers[l];
            if (L.kind != AN_LAYER_BATCHNORM) continue;
            const NormState& N = net->blocks[0].norm[l];
            std::copy(N.mu.begin(), N.mu.begin() + L.channels, out + L.stat_off);
            std::copy(N.var.begin(), N.var.begin() + L.channels, out + L.stat_off + L.channels);
        }
        return AN_OK;
    });
}

int an_net_forward(an_net* net, const float* w, const float* x, int batch, float* out) {
    return an::guarded([&] {
        if (!net || !w || !x || !out) throw std::invalid_argument("null pointer");
        net->require_batch(batch);
        net->require_indices(x, batch);
        net->single_threaded_blas();
        net->cached = false;
        const int d = net->topo.out_dim();
        net->parallel(batch, nullptr, [&](Block& k, int t, int rows, int r0, float*) {
            CpuSweep e(*net, k, t, x, rows, r0, batch);
            an::forward(e, w);
            std::memcpy(out + static_cast<size_t>(r0) * d, k.A.back().p, sizeof(float) * rows * d);
        });
        return AN_OK;
    });
}

namespace {
void require_data(const an_net* net, const int* labels, const float* targets) {
    if (net->topo.loss == AN_LOSS_SOFTMAX_CE ? labels == nullptr : targets == nullptr) throw std::invalid_argument("labels/targets missing");
}
// The checks every call at a new point makes; the cached point is dropped.
void enter_point(an_net* net, const float* x, const int* labels, const float* targets, int batch) {
    require_data(net, labels, targets);
    net->require_batch(batch);
    net->require_indices(x, batch);
    net->single_threaded_blas();
    net->cached = false;
}
}  // namespace

int an_net_loss(an_net* net, const float* w, const float* x, const int* labels, const float* targets, int batch, double* loss) {
    return an::guarded([&] {
        if (!net || !w || !x || !loss) throw std::invalid_argument("null pointer");
        enter_point(net, x, labels, targets, batch);
        net->parallel(batch, nullptr, [&](Block& k, int t, int rows, int r0, float*) {
            CpuSweep e(*net, k, t, x, rows, r0, batch);
            e.labels = labels;
            e.targets = targets;
            an::sweep_loss(e, w);
        });
        *loss = net->loss_sum(batch) + net->regularizer(w, nullptr);
        return AN_OK;
    });
}

int an_net_gradient(an_net* net, const float* w, const float* x, const int* labels, const float* targets, int batch, float* grad, double* loss) {
    return an::guarded([&] {
        if (!net || !w || !x || !grad || !loss) throw std::invalid_argument("null pointer");
        enter_point(net, x, labels, targets, batch);
        net->parallel(batch, grad, [&](Block& k, int t, int rows, int r0, float* dst) {
            CpuSweep e(*net, k, t, x, rows, r0, batch);
            e.labels = labels;
            e.targets = targets;
            an::sweep_gradient(e, w, dst);
        });
        *loss = net->loss_sum(batch) + net->regularizer(w, grad);
        net->remember(w, x, batch);
        return AN_OK;
    });
}

int an_net_hvp(an_net* net, const float* w, const float* x, const int* labels, const float* targets, int batch, const float* v, float* out, double* loss) {
    return an::guarded([&] {
        if (!net || !w || !x || !v || !out || !loss) throw std::invalid_argument("null pointer");
        enter_point(net, x, labels, targets, batch);
        net->parallel(batch, out, [&](Block& k, int t, int rows, int r0, float* dst) {
            CpuSweep e(*net, k, t, x, rows, r0, batch);
            e.labels = labels;
            e.targets = targets;
            an::sweep_hvp(e, w, v, dst);
        });
        *loss = net->loss_sum(batch) + net->regularizer(w, nullptr);
        net->regularizer_hvp(w, v, out);
        net->remember(w, x, batch);
        return AN_OK;
    });
}

namespace {
// The Hessian or Gauss-Newton product at the cached point.
int cached_product(an_net* net, int curvature, const float* v, float* out) {
    return an::guarded([&] {
        if (!net || !v || !out) throw std::invalid_argument("null pointer");
        net->require_cache();
        net->single_threaded_blas();
        const int batch = net->batch;
        net->parallel(batch, out, [&](Block& k, int t, int rows, int r0, float* dst) {
            CpuSweep e(*net, k, t, net->x, rows, r0, batch);
            an::sweep_product(e, curvature, net->w, v, dst);
        });
        net->regularizer_hvp(net->w, v, out);
        return AN_OK;
    });
}
}  // namespace

int an_net_hvp_cached(an_net* net, const float* v, float* out) { return cached_product(net, an::CURVATURE_HESSIAN, v, out); }

int an_net_gn_cached(an_net* net, const float* v, float* out) { return cached_product(net, an::CURVATURE_GAUSS_NEWTON, v, out); }

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
            return L.kind == AN_LAYER_DENSE ? Shape{batch, L.out_size, L.in_size, 0, 1} : Shape{L.g.cout, L.g.P(), L.g.K(), 3, batch};
        };
        auto outer_shape = [&](const Layer& L) {
            return L.kind == AN_LAYER_DENSE ? Shape{L.out_size, L.in_size, batch, 1, 1} : Shape{L.g.cout, L.g.K(), L.g.P(), 0, batch};
        };
        auto t_shape = [&](const Layer& L) {
            return L.kind == AN_LAYER_DENSE ? Shape{batch, L.in_size, L.out_size, 2, 1} : Shape{L.g.K(), L.g.P(), L.g.cout, 1, batch};
        };
        for (size_t l = 0; l < net->topo.layers.size(); ++l) {
            const Layer& L = net->topo.layers[l];
            if (L.kind != AN_LAYER_DENSE && !L.conv()) continue;
            if (fwd) shapes.push_back(fwd_shape(L));
            if (rfwd) {
                shapes.push_back(fwd_shape(L));
                if (L.in[0] >= 0) shapes.push_back(fwd_shape(L));
            }
        }
        for (size_t l = net->topo.layers.size(); l-- > 0;) {
            const Layer& L = net->topo.layers[l];
            if (L.kind != AN_LAYER_DENSE && !L.conv()) continue;
            const bool first = L.in[0] < 0;
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
