// The network description shared by the CPU and CUDA backends: the int spec that Java's
// Network.nativeSpec() writes (adanewton.h: AN_SPEC_INTS_PER_LAYER ints a layer) parsed and
// validated once into a graph of layers (each with its inputs, sizes, geometry and parameter
// offsets), and the small formulas both engines evaluate the same way (GELU, dropout's mask). The
// sweeps over these layers are in network_sweep.h.
#ifndef ADANEWTON_NETWORK_SPEC_H
#define ADANEWTON_NETWORK_SPEC_H

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "adanewton.h"

// Functions that CUDA kernels call as well.
#ifdef __CUDACC__
#define AN_HOST_DEVICE __host__ __device__
#else
#define AN_HOST_DEVICE
#endif

namespace an {

// The activation contract of the sweeps: every phi but GELU has phi' and phi'' expressible through
// a = phi(z) (phi'' = kappa(a) phi'), so an engine keeps only a; for a layer whose activation
// act_needs_z, the engine keeps z as well (its Z buffer) and the point's dL/da (its GA buffer, saved
// by back_act at the point before it becomes dL/dz), and takes phi'(z), phi''(z) from z.
AN_HOST_DEVICE inline bool act_needs_z(int act) { return act == AN_ACT_GELU; }

// GELU in its exact (erf) form: phi(z) = z Phi(z), phi'(z) = Phi(z) + z pdf(z), phi''(z) = (2 - z^2) pdf(z).
AN_HOST_DEVICE inline float gelu_cdf(float z) { return 0.5f * (1.0f + erff(z * 0.7071067811865476f)); }
AN_HOST_DEVICE inline float gelu_pdf(float z) { return 0.3989422804014327f * expf(-0.5f * z * z); }
AN_HOST_DEVICE inline float gelu(float z) { return z * gelu_cdf(z); }
AN_HOST_DEVICE inline float gelu_d1(float z) { return gelu_cdf(z) + z * gelu_pdf(z); }
AN_HOST_DEVICE inline float gelu_d2(float z) { return (2.0f - z * z) * gelu_pdf(z); }

// Dropout's mask, bit for bit Java's Network.dropoutKeeps: the SplitMix64 finalizer over (seed,
// layer, row, unit), layer the Network's layer index and row the index in the whole batch; the top
// 24 bits against the threshold floor(p 2^24). dropout_row is the part that depends on the row only.
AN_HOST_DEVICE inline uint64_t splitmix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}
AN_HOST_DEVICE inline uint64_t dropout_row(uint64_t seed, int layer, int row) {
    return splitmix(splitmix(seed + 0x9E3779B97F4A7C15ULL * static_cast<uint64_t>(static_cast<int64_t>(layer) + 1)) +
                    static_cast<uint64_t>(static_cast<int64_t>(row)));
}
AN_HOST_DEVICE inline bool dropout_keeps(uint64_t row_hash, int unit, int threshold) {
    return static_cast<int64_t>(splitmix(row_hash + static_cast<uint64_t>(static_cast<int64_t>(unit))) >> 40) >= threshold;
}

// Convolution and pooling geometry per sample, NCHW: cin x hin x win in, cout x hout x wout out,
// k x k windows with a stride and zero padding (pooling: no padding, cout = cin).
struct Geometry {
    int cin = 0, hin = 0, win = 0, cout = 0, k = 0, stride = 1, pad = 0, hout = 0, wout = 0;
    AN_HOST_DEVICE int K() const { return cin * k * k; }  // im2col rows
    AN_HOST_DEVICE int P() const { return hout * wout; }  // output positions
    // a pooling output's window: the input index (within a sample) of its top-left element, from
    // the output's index within the sample
    AN_HOST_DEVICE int window(int out) const {
        const int c = out / P(), oh = (out % P()) / wout, ow = out % wout;
        return (c * hin + oh * stride) * win + ow * stride;
    }
};

// The name of a layer kind (messages).
inline const char* kind_name(int kind) {
    static const char* const names[] = {"?", "dense", "conv2d", "maxpool2d", "avgpool2d", "batchnorm", "layernorm",
                                        "globalavgpool", "dropout", "embedding", "add", "concat", "activate"};
    return kind >= AN_LAYER_DENSE && kind <= AN_LAYER_ACTIVATE ? names[kind] : names[0];
}

// One layer of the graph. Its output (rows x out_size, NCHW per sample) is z = the layer's map of
// its inputs (dense, conv2d: L_W(x); norms: gamma xhat; the others: parameter-free), then
// a = phi(z + b) where the layer has a bias (a norm's beta) or an activation.
struct Layer {
    int kind = AN_LAYER_DENSE, act = AN_ACT_IDENTITY;
    int n_in = 1;
    int in[AN_MAX_INPUTS] = {-1, -1, -1, -1};  // earlier layers (-1: the network's input)
    // whether the backward passes' write into input j's gradient is the first one (reverse order
    // reaches the reader with the largest index first): it overwrites; the later ones add
    bool first[AN_MAX_INPUTS] = {false, false, false, false};
    int in_size = 0, out_size = 0;     // values per sample (in_size: of input 0)
    long long w_off = -1, b_off = -1;  // parameters (-1: none); norms: gamma, beta
    long long w_len = 0, b_len = 0;
    // a bias (and a norm's scale) per output o of a sample: index (o / period) % count
    int period = 1, count = 1;
    Geometry g;             // conv and pooling layers
    int channels = 0, positions = 1;  // batchnorm, globalavgpool, concat (positions)
    int groups = 0, group = 0;        // layernorm: groups of `group` values each
    float eps = 0, p = 0;             // norms; dropout's probability
    int net_layer = 0, threshold = 0;  // dropout: the Network's layer index, floor(p 2^24)
    int vocabulary = 0, dim = 0, length = 0;  // embedding
    int parts[AN_MAX_INPUTS] = {0, 0, 0, 0};  // concat: each input's channels
    int norm_index = -1;              // batchnorm: its index among the batch norm layers
    long long stat_off = 0;           // batchnorm: its running statistics' offset (means, then variances)

    bool has_params() const { return w_off >= 0; }
    bool has_bias() const { return b_off >= 0; }
    bool conv() const { return kind == AN_LAYER_CONV2D; }
    bool norm() const { return kind == AN_LAYER_BATCHNORM || kind == AN_LAYER_LAYERNORM; }
    // whether the activation pass runs (a bias to add or a phi to apply)
    bool activated() const { return b_off >= 0 || act != AN_ACT_IDENTITY; }
    // consecutive outputs that share a bias: 1 for dense layers, the positions for a conv
    int bias_period() const { return period; }
    // concat: where input j starts in a sample of the output
    int part_offset(int j) const {
        int c = 0;
        for (int i = 0; i < j; ++i) c += parts[i];
        return c * positions;
    }
};

// A parameter tensor (a weight matrix, a bias vector, a norm's scale or shift, an embedding table):
// its offset and length in the parameters.
struct Tensor {
    long long off, len;
};

// The parsed network with its loss and regularizer.
struct Topology {
    int input = 0;
    std::vector<Layer> layers;
    std::vector<Tensor> tensors;  // in parameter order; they tile [0, params)
    long long params = 0;
    int max_width = 0;  // the widest layer input or output (values per sample)
    int loss = AN_LOSS_SOFTMAX_CE, reg = AN_REG_NONE;
    double lambda = 0;
    int max_batch = 0;
    int batch_norms = 0;          // batch norm layers
    long long statistics = 0;     // their running statistics (2 per channel)

    Topology() = default;
    Topology(int loss_, int reg_, double lambda_, int max_batch_) : loss(loss_), reg(reg_), lambda(lambda_), max_batch(max_batch_) {}
    int out_dim() const { return layers.back().out_size; }
    size_t last() const { return layers.size() - 1; }
    bool regularized() const { return reg != AN_REG_NONE && lambda != 0; }
    bool has(int kind) const {
        for (const Layer& L : layers)
            if (L.kind == kind) return true;
        return false;
    }
};

namespace detail {

inline float float_bits(int bits) {
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
}

inline std::string shape(int c, int h, int w) { return std::to_string(c) + "x" + std::to_string(h) + "x" + std::to_string(w); }

// The kind-specific part of a layer: its geometry and output size from the 8 parameters q, checked
// against its input sizes (sizes[j] of input j).
inline void parse_kind(Layer& L, const int* q, const int* sizes, const std::string& where) {
    auto need = [&](bool ok, const std::string& rule) {
        if (!ok) throw std::invalid_argument(where + rule);
    };
    const int in = sizes[0];
    auto input_is = [&](long long n, const std::string& what) {
        need(n == in, what + " = " + std::to_string(n) + " values, but its input has " + std::to_string(in));
    };
    switch (L.kind) {
        case AN_LAYER_DENSE:
            need(q[0] >= 1, "dense output size " + std::to_string(q[0]) + " < 1");
            L.out_size = q[0];
            L.count = q[0];
            L.w_len = static_cast<long long>(in) * q[0];
            L.b_len = q[0];
            break;
        case AN_LAYER_CONV2D:
        case AN_LAYER_MAXPOOL2D:
        case AN_LAYER_AVGPOOL2D: {
            const bool conv = L.kind == AN_LAYER_CONV2D;
            Geometry& g = L.g;
            g.cin = q[0];
            g.hin = q[1];
            g.win = q[2];
            g.cout = conv ? q[3] : g.cin;
            g.k = conv ? q[4] : q[3];
            g.stride = conv ? q[5] : q[4];
            g.pad = conv ? q[6] : 0;
            need(g.cin >= 1 && g.hin >= 1 && g.win >= 1 && g.cout >= 1 && g.k >= 1 && g.stride >= 1 && g.pad >= 0, "invalid geometry");
            need(static_cast<long long>(g.cin) * g.hin * g.win == in,
                 "input " + shape(g.cin, g.hin, g.win) + " does not match the size of its input, " + std::to_string(in));
            need(g.hin + 2 * g.pad >= g.k && g.win + 2 * g.pad >= g.k, "kernel larger than the input");
            need(conv || L.act == AN_ACT_IDENTITY, "pooling takes no activation");
            g.hout = (g.hin + 2 * g.pad - g.k) / g.stride + 1;
            g.wout = (g.win + 2 * g.pad - g.k) / g.stride + 1;
            L.out_size = g.cout * g.P();
            L.period = g.P();
            L.count = g.cout;
            if (conv) {
                L.w_len = static_cast<long long>(g.cout) * g.K();
                L.b_len = g.cout;
            }
            break;
        }
        case AN_LAYER_BATCHNORM:
        case AN_LAYER_GLOBALAVGPOOL:
            L.channels = q[0];
            L.positions = q[1];
            need(L.channels >= 1 && L.positions >= 1, "channels = " + std::to_string(q[0]) + ", positions = " + std::to_string(q[1]) + "; both must be >= 1");
            input_is(static_cast<long long>(L.channels) * L.positions, std::to_string(L.channels) + " channels x " + std::to_string(L.positions) + " positions");
            if (L.kind == AN_LAYER_GLOBALAVGPOOL) {
                L.out_size = L.channels;
                break;
            }
            L.eps = float_bits(q[2]);
            need(L.eps > 0 && std::isfinite(L.eps), "eps must be > 0 and finite");
            L.out_size = in;
            L.period = L.positions;
            L.count = L.channels;
            L.w_len = L.b_len = L.channels;
            break;
        case AN_LAYER_LAYERNORM:
            L.groups = q[0];
            L.group = q[1];
            need(L.groups >= 1 && L.group >= 1, "groups = " + std::to_string(q[0]) + ", size = " + std::to_string(q[1]) + "; both must be >= 1");
            input_is(static_cast<long long>(L.groups) * L.group, std::to_string(L.groups) + " groups x " + std::to_string(L.group));
            L.eps = float_bits(q[2]);
            need(L.eps > 0 && std::isfinite(L.eps), "eps must be > 0 and finite");
            L.out_size = in;
            L.count = L.group;
            L.w_len = L.b_len = L.group;
            break;
        case AN_LAYER_DROPOUT:
            input_is(q[0], "size");
            L.p = float_bits(q[1]);
            L.net_layer = q[2];
            L.threshold = q[3];
            need(L.p >= 0 && L.p < 1, "p must be in [0, 1)");
            need(L.threshold >= 0 && L.threshold < (1 << 24), "the keep threshold must be in [0, 2^24)");
            need(L.net_layer >= 0, "the Network's layer index must be >= 0");
            L.out_size = in;
            break;
        case AN_LAYER_EMBEDDING:
            L.vocabulary = q[0];
            L.dim = q[1];
            L.length = q[2];
            need(L.vocabulary >= 1 && L.dim >= 1 && L.length >= 1, "vocabulary, dim and length must be >= 1");
            input_is(L.length, "length");
            L.out_size = L.length * L.dim;
            L.w_len = static_cast<long long>(L.vocabulary) * L.dim;
            break;
        case AN_LAYER_ADD:
        case AN_LAYER_ACTIVATE:
            input_is(q[0], "size");
            for (int j = 1; j < L.n_in; ++j)
                need(sizes[j] == in, "input " + std::to_string(j) + " has " + std::to_string(sizes[j]) + " values, input 0 " + std::to_string(in) +
                                         "; an add takes inputs of one size");
            L.out_size = in;
            break;
        case AN_LAYER_CONCAT: {
            L.positions = q[0];
            need(L.positions >= 1, "positions must be >= 1");
            long long total = 0;
            for (int j = 0; j < L.n_in; ++j) {
                L.parts[j] = q[1 + j];
                need(L.parts[j] >= 1, "input " + std::to_string(j) + "'s channels must be >= 1");
                need(static_cast<long long>(L.parts[j]) * L.positions == sizes[j],
                     "input " + std::to_string(j) + " has " + std::to_string(sizes[j]) + " values, not " + std::to_string(L.parts[j]) + " channels x " +
                         std::to_string(L.positions) + " positions");
                total += L.parts[j];
            }
            for (int j = L.n_in; j < AN_MAX_INPUTS; ++j) need(q[1 + j] == 0, "unused channel counts must be 0");
            need(total * L.positions <= 0x7fffffff, "the output is too large");
            L.out_size = static_cast<int>(total * L.positions);
            break;
        }
        default:
            throw std::invalid_argument(where + "unknown layer kind " + std::to_string(L.kind));
    }
}

}  // namespace detail

// Parses and validates a network spec; throws std::invalid_argument naming the layer, its kind and
// the rule.
inline Topology parse_topology(const int* spec, int spec_len, int loss, int reg, double lambda, int max_batch) {
    if (spec == nullptr || spec_len < 2) throw std::invalid_argument("network spec is empty");
    if (max_batch < 1) throw std::invalid_argument("max_batch must be >= 1");
    if (loss < AN_LOSS_SOFTMAX_CE || loss > AN_LOSS_BCE) throw std::invalid_argument("unknown loss");
    if (reg < AN_REG_NONE || reg > AN_REG_NORM || !(lambda >= 0)) throw std::invalid_argument("invalid regularization");
    Topology t(loss, reg, lambda, max_batch);
    t.input = spec[0];
    const int n = spec[1];
    if (t.input < 1 || n < 1 || spec_len != 2 + AN_SPEC_INTS_PER_LAYER * n) throw std::invalid_argument("malformed network spec");
    long long off = 0;
    t.max_width = t.input;
    std::vector<int> readers(n, 0);
    for (int l = 0; l < n; ++l) {
        const int* s = spec + 2 + AN_SPEC_INTS_PER_LAYER * l;
        Layer L;
        L.kind = s[0];
        L.act = s[1];
        const std::string where = "layer " + std::to_string(l) + " (" + kind_name(L.kind) + ") in network spec: ";
        auto need = [&](bool ok, const std::string& rule) {
            if (!ok) throw std::invalid_argument(where + rule);
        };
        need(L.kind >= AN_LAYER_DENSE && L.kind <= AN_LAYER_ACTIVATE, "unknown layer kind " + std::to_string(L.kind));
        need(L.act >= AN_ACT_IDENTITY && L.act <= AN_ACT_GELU, "unknown activation " + std::to_string(L.act));
        L.n_in = s[2];
        const bool joins = L.kind == AN_LAYER_ADD || L.kind == AN_LAYER_CONCAT;
        need(joins ? L.n_in >= 2 && L.n_in <= AN_MAX_INPUTS : L.n_in == 1,
             std::to_string(L.n_in) + " inputs; " + (joins ? "an add or concat takes 2 to " + std::to_string(AN_MAX_INPUTS) : std::string("it takes 1")));
        int sizes[AN_MAX_INPUTS] = {0, 0, 0, 0};
        for (int j = 0; j < AN_MAX_INPUTS; ++j) {
            const int i = s[3 + j];
            if (j >= L.n_in) {
                need(i == -1, "unused input " + std::to_string(j) + " is " + std::to_string(i) + "; must be -1");
                continue;
            }
            need(i >= -1 && i < l, "input " + std::to_string(j) + " is " + std::to_string(i) + "; must be an earlier layer (0 to " + std::to_string(l - 1) +
                                       ") or -1 (the network's input)");
            L.in[j] = i;
            sizes[j] = i < 0 ? t.input : t.layers[i].out_size;
            if (i >= 0) ++readers[i];
        }
        L.in_size = sizes[0];
        need(L.kind != AN_LAYER_EMBEDDING || L.in[0] == -1, "an embedding reads the network's input (its indices)");
        const bool may_bias = L.kind == AN_LAYER_DENSE || L.kind == AN_LAYER_CONV2D, has_shift = L.norm();
        need(s[7] == 0 || s[7] == 1, "has-bias is " + std::to_string(s[7]) + "; must be 0 or 1");
        need(may_bias || s[7] == (has_shift ? 1 : 0), has_shift ? "a norm layer has a shift (has-bias 1)" : "this kind has no bias (has-bias 0)");
        const bool takes_act = may_bias || has_shift || L.kind == AN_LAYER_ADD || L.kind == AN_LAYER_ACTIVATE;
        need(takes_act || L.act == AN_ACT_IDENTITY, std::string("a ") + kind_name(L.kind) + " layer takes no activation");
        detail::parse_kind(L, s + 8, sizes, where);
        if (L.w_len > 0) {
            L.w_off = off;
            off += L.w_len;
            t.tensors.push_back({L.w_off, L.w_len});
        }
        if (s[7] == 1) {
            L.b_off = off;
            off += L.b_len;
            t.tensors.push_back({L.b_off, L.b_len});
        }
        if (L.kind == AN_LAYER_BATCHNORM) {
            L.norm_index = t.batch_norms++;
            L.stat_off = t.statistics;
            t.statistics += 2LL * L.channels;
        }
        t.layers.push_back(L);
        t.max_width = std::max({t.max_width, L.in_size, L.out_size});
    }
    for (int l = 0; l + 1 < n; ++l)
        if (readers[l] == 0)
            throw std::invalid_argument("layer " + std::to_string(l) + " (" + kind_name(t.layers[l].kind) +
                                        ") in network spec: its output is never read (only the last layer's may be unread)");
    // the first write into each input's gradient, in the backward passes' (reverse) order
    std::vector<bool> written(n, false);
    for (int l = n; l-- > 0;) {
        Layer& L = t.layers[l];
        for (int j = 0; j < L.n_in; ++j) {
            const int i = L.in[j];
            if (i < 0) continue;
            L.first[j] = !written[i];
            written[i] = true;
        }
    }
    t.params = off;
    return t;
}

// Checks running statistics for t's batch norm layers (per layer its channels' means, then their
// variances): the count, finite values, variances >= 0.
inline void check_statistics(const Topology& t, const double* running, long long count) {
    if (count != t.statistics)
        throw std::invalid_argument("count = " + std::to_string(count) + "; the network's batch norm layers keep " + std::to_string(t.statistics) +
                                    " running statistics");
    for (const Layer& L : t.layers) {
        if (L.kind != AN_LAYER_BATCHNORM) continue;
        for (int c = 0; c < 2 * L.channels; ++c) {
            const double v = running[L.stat_off + c];
            if (!std::isfinite(v) || (c >= L.channels && v < 0))
                throw std::invalid_argument("running statistic " + std::to_string(L.stat_off + c) + " = " + std::to_string(v) + "; must be finite" +
                                            (c >= L.channels ? " and >= 0 (a variance)" : ""));
        }
    }
}

// An engine's set_mode call (an_net_set_mode / an_cuda_net_set_mode): validates it and stores the
// mode and dropout's seed into the engine's `training` and `seed`; returns whether the cached point
// must go: the mode or the seed changed, or evaluation mode (whose running statistics may have
// changed). Only the running statistics changing in training mode keep it (the trainer folds the
// batch's statistics in after the gradient, before the solve's products). The caller stores `running`.
inline bool set_mode(const Topology& t, bool& training, uint64_t& seed, int new_training, long long new_seed, const double* running, long long count) {
    if (new_training != 0 && new_training != 1) throw std::invalid_argument("training = " + std::to_string(new_training) + "; must be 0 or 1");
    if (running == nullptr && count != 0) throw std::invalid_argument("null running statistics with count " + std::to_string(count));
    if (running != nullptr) check_statistics(t, running, count);
    const bool drop = (new_training == 1) != training || static_cast<uint64_t>(new_seed) != seed || new_training == 0;
    training = new_training == 1;
    seed = static_cast<uint64_t>(new_seed);
    return drop;
}

}  // namespace an

#endif
