// A builder of native network specs (adanewton.h: AN_SPEC_INTS_PER_LAYER ints a layer) for graph
// networks, shared by the native tests and the CUDA emulation tests: each call appends a layer and
// returns its index; -1 is the network's input.
#ifndef ADANEWTON_GRAPH_SPEC_H
#define ADANEWTON_GRAPH_SPEC_H

#include <cstring>
#include <initializer_list>
#include <vector>

#include "adanewton.h"

struct GraphSpec {
    std::vector<int> ints;
    explicit GraphSpec(int input) : ints{input, 0} {}

    int layer(int kind, int act, std::initializer_list<int> inputs, bool bias, std::initializer_list<int> params) {
        std::vector<int> row(AN_SPEC_INTS_PER_LAYER, 0);
        row[0] = kind;
        row[1] = act;
        row[2] = static_cast<int>(inputs.size());
        for (int j = 0; j < AN_MAX_INPUTS; ++j) row[3 + j] = -1;
        int j = 0;
        for (int i : inputs) row[3 + j++] = i;
        row[7] = bias ? 1 : 0;
        j = 0;
        for (int p : params) row[8 + j++] = p;
        ints.insert(ints.end(), row.begin(), row.end());
        return ints[1]++;
    }
    static int bits(float f) {
        int b;
        std::memcpy(&b, &f, sizeof b);
        return b;
    }
    int dense(int in, int out, int act = AN_ACT_IDENTITY, bool bias = true) { return layer(AN_LAYER_DENSE, act, {in}, bias, {out}); }
    int conv(int in, int cin, int h, int w, int cout, int k, int stride, int pad, int act = AN_ACT_IDENTITY, bool bias = true) {
        return layer(AN_LAYER_CONV2D, act, {in}, bias, {cin, h, w, cout, k, stride, pad});
    }
    int batch_norm(int in, int channels, int positions, int act = AN_ACT_IDENTITY, float eps = 1e-5f) {
        return layer(AN_LAYER_BATCHNORM, act, {in}, true, {channels, positions, bits(eps)});
    }
    int layer_norm(int in, int groups, int size, int act = AN_ACT_IDENTITY, float eps = 1e-5f) {
        return layer(AN_LAYER_LAYERNORM, act, {in}, true, {groups, size, bits(eps)});
    }
    int gap(int in, int channels, int positions) { return layer(AN_LAYER_GLOBALAVGPOOL, AN_ACT_IDENTITY, {in}, false, {channels, positions}); }
    // the keep threshold as Java's Network.nativeSpec writes it: floor(p 2^24) in double
    int dropout(int in, int size, double p, int net_layer) {
        return layer(AN_LAYER_DROPOUT, AN_ACT_IDENTITY, {in}, false, {size, bits(static_cast<float>(p)), net_layer, static_cast<int>(p * (1 << 24))});
    }
    int embedding(int vocabulary, int dim, int length) { return layer(AN_LAYER_EMBEDDING, AN_ACT_IDENTITY, {-1}, false, {vocabulary, dim, length}); }
    int add(std::initializer_list<int> inputs, int size, int act = AN_ACT_IDENTITY) { return layer(AN_LAYER_ADD, act, inputs, false, {size}); }
    int activate(int in, int size, int act) { return layer(AN_LAYER_ACTIVATE, act, {in}, false, {size}); }
    int concat2(int a, int b, int positions, int ca, int cb) { return layer(AN_LAYER_CONCAT, AN_ACT_IDENTITY, {a, b}, false, {positions, ca, cb}); }
    int maxpool(int in, int c, int h, int w, int k, int stride) { return layer(AN_LAYER_MAXPOOL2D, AN_ACT_IDENTITY, {in}, false, {c, h, w, k, stride}); }
    int size() const { return static_cast<int>(ints.size()); }
};

#endif
