// The network description shared by the CPU and CUDA backends: the int spec that Java's
// Network.spec() writes (adanewton.h: AN_SPEC_INTS_PER_LAYER ints a layer) parsed and validated
// once into layers with their sizes, geometry and parameter offsets. The sweeps over these layers
// are in network_sweep.h.
#ifndef ADANEWTON_NETWORK_SPEC_H
#define ADANEWTON_NETWORK_SPEC_H

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "adanewton.h"

// Functions that CUDA kernels call as well (geometry arithmetic).
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

// One layer: dense or conv2d (z = L_W(x) + b, a = phi(z)), or max/avg pooling (linear in x).
struct Layer {
    int kind = AN_LAYER_DENSE, act = AN_ACT_IDENTITY;
    int in_size = 0, out_size = 0;     // values per sample
    long long w_off = -1, b_off = -1;  // parameters (-1: none)
    Geometry g;                        // conv and pooling layers
    bool has_params() const { return kind == AN_LAYER_DENSE || kind == AN_LAYER_CONV2D; }
    bool conv() const { return kind == AN_LAYER_CONV2D; }
    long long weights() const { return kind == AN_LAYER_DENSE ? static_cast<long long>(in_size) * out_size : static_cast<long long>(g.cout) * g.K(); }
    long long biases() const { return kind == AN_LAYER_DENSE ? out_size : g.cout; }
    // consecutive outputs that share a bias: 1 for dense layers, the positions for a conv
    int bias_period() const { return conv() ? g.P() : 1; }
};

// A parameter tensor (a weight matrix or a bias vector): its offset and length in the parameters.
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

    Topology() = default;
    Topology(int loss_, int reg_, double lambda_, int max_batch_) : loss(loss_), reg(reg_), lambda(lambda_), max_batch(max_batch_) {}
    int out_dim() const { return layers.back().out_size; }
    size_t last() const { return layers.size() - 1; }
    bool regularized() const { return reg != AN_REG_NONE && lambda != 0; }
};

// Parses and validates a network spec; throws std::invalid_argument naming the layer and the rule.
inline Topology parse_topology(const int* spec, int spec_len, int loss, int reg, double lambda, int max_batch) {
    if (spec == nullptr || spec_len < 2) throw std::invalid_argument("network spec is empty");
    if (max_batch < 1) throw std::invalid_argument("max_batch must be >= 1");
    if (loss < AN_LOSS_SOFTMAX_CE || loss > AN_LOSS_BCE) throw std::invalid_argument("unknown loss");
    if (reg < AN_REG_NONE || reg > AN_REG_NORM || !(lambda >= 0)) throw std::invalid_argument("invalid regularization");
    Topology t(loss, reg, lambda, max_batch);
    t.input = spec[0];
    const int n = spec[1];
    if (t.input < 1 || n < 1 || spec_len != 2 + AN_SPEC_INTS_PER_LAYER * n) throw std::invalid_argument("malformed network spec");
    int in = t.input;
    long long off = 0;
    t.max_width = in;
    static const char* const kind_names[] = {"?", "dense", "conv2d", "maxpool2d", "avgpool2d", "batchnorm", "layernorm",
                                             "globalavgpool", "dropout", "embedding", "add", "concat", "activate"};
    for (int l = 0; l < n; ++l) {
        const int* s = spec + 2 + AN_SPEC_INTS_PER_LAYER * l;
        const std::string where = "layer " + std::to_string(l) + " in network spec: ";
        Layer L;
        L.kind = s[0];
        L.act = s[1];
        L.in_size = in;
        // this engine runs chains of dense, conv2d and pooling layers with biases; the rest is refused by name
        if (L.kind > AN_LAYER_AVGPOOL2D && L.kind <= AN_LAYER_ACTIVATE)
            throw std::invalid_argument(where + kind_names[L.kind] + " layers are not supported by the native engines yet");
        if (s[2] != 1 || s[3] != l - 1) throw std::invalid_argument(where + "graph networks (a layer that does not read the one before it) are not supported by the native engines yet");
        if ((L.kind == AN_LAYER_DENSE || L.kind == AN_LAYER_CONV2D) && s[7] != 1)
            throw std::invalid_argument(where + "layers without a bias are not supported by the native engines yet");
        if (L.act < AN_ACT_IDENTITY || L.act > AN_ACT_GELU) throw std::invalid_argument(where + "unknown activation " + std::to_string(L.act));
        s += 6;  // the 8 parameters start at s[2], as in the chain layout
        if (L.kind == AN_LAYER_DENSE) {
            if (s[2] < 1) throw std::invalid_argument(where + "dense output size < 1");
            L.out_size = s[2];
        } else if (L.kind == AN_LAYER_CONV2D || L.kind == AN_LAYER_MAXPOOL2D || L.kind == AN_LAYER_AVGPOOL2D) {
            const bool conv = L.kind == AN_LAYER_CONV2D;
            Geometry& g = L.g;
            g.cin = s[2];
            g.hin = s[3];
            g.win = s[4];
            g.cout = conv ? s[5] : g.cin;
            g.k = conv ? s[6] : s[5];
            g.stride = conv ? s[7] : s[6];
            g.pad = conv ? s[8] : 0;
            if (g.cin < 1 || g.hin < 1 || g.win < 1 || g.cout < 1 || g.k < 1 || g.stride < 1 || g.pad < 0)
                throw std::invalid_argument(where + "invalid geometry");
            if (static_cast<long long>(g.cin) * g.hin * g.win != in)
                throw std::invalid_argument(where + "input " + std::to_string(g.cin) + "x" + std::to_string(g.hin) + "x" + std::to_string(g.win) +
                                            " does not match the previous output size " + std::to_string(in));
            if (g.hin + 2 * g.pad < g.k || g.win + 2 * g.pad < g.k) throw std::invalid_argument(where + "kernel larger than the input");
            if (!conv && L.act != AN_ACT_IDENTITY) throw std::invalid_argument(where + "pooling takes no activation");
            g.hout = (g.hin + 2 * g.pad - g.k) / g.stride + 1;
            g.wout = (g.win + 2 * g.pad - g.k) / g.stride + 1;
            L.out_size = g.cout * g.P();
        } else {
            throw std::invalid_argument(where + "unknown layer kind " + std::to_string(L.kind));
        }
        if (L.has_params()) {
            L.w_off = off;
            L.b_off = off + L.weights();
            off = L.b_off + L.biases();
            t.tensors.push_back({L.w_off, L.weights()});
            t.tensors.push_back({L.b_off, L.biases()});
        }
        t.layers.push_back(L);
        t.max_width = std::max(t.max_width, L.out_size);
        in = L.out_size;
    }
    t.params = off;
    return t;
}

}  // namespace an

#endif
