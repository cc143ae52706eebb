// The CUDA engine of the network sweeps (native/common/network_sweep.h): the device buffers of a
// network, sized when it is created (by its max_batch), and the sweeps' primitives over the whole
// batch: cuBLAS GEMMs (a conv by batched im2col, kept per point for the backward passes; bias
// gradients as GEMMs with a ones vector) and the layer kernels of layer_kernels.cu, for every layer
// kind of network_spec.h (batch and layer norm: per-set sums by one block per set, then
// elementwise kernels; a batch norm's statistics over the whole batch). The
// regularizer's norms come back with the loss in one host synchronization; the cached products
// wait for nothing. The Krylov solves (Steihaug, GLTR, ARC) run the shared driver of
// native/common/krylov_driver.h over a device engine: vectors and reductions stay on the device,
// and the host waits only where a branch needs a scalar (counted in an_cuda_sync_count).
//
// Status: compiled in every build where nvcc exists; not yet run on a GPU by this project (the
// gpu-tagged parity tests and bench/gpu/run.sh are ready for a machine that has one). Every CI
// build runs it translated to C++ on the CPU (tests/cuda-emulation).
#include "cuda_internal.cuh"
#include "../common/krylov_driver.h"
#include "../common/network_sweep.h"

#include <cmath>
#include <memory>
#include <vector>

using an::Layer;
using an::Source;
using an::Topology;

struct an_cuda_net {
    an_cuda* ctx = nullptr;
    Topology topo;
    std::vector<float*> A_, G_, RZ_, RA_, RG_;
    std::vector<float*> Z_, GA_;  // per GELU layer (act_needs_z): z and the point's dL/da; null elsewhere
    std::vector<int*> arg;
    float *P = nullptr, *cols = nullptr, *cm = nullptr;
    // per conv layer: im2col of its input at the cached point (forward), and of its R-input
    // (r_forward, layers after the first), each read again by the backward passes; null elsewhere
    std::vector<float*> xcols, rcols;
    float* ones = nullptr;          // max(max_batch, positions, groups) ones: bias gradients as GEMMs
    float* channel_rows = nullptr;  // max_batch x channels: per-(sample, channel) sums of a conv's or batch norm's G (a layer norm's: per value)
    // device slots for the tensors' |T|^2 (0..T-1), w'v (T..2T-1) and the data loss (2T), their
    // pinned host copies, and the tensors' norms at the cached point
    double* reg_dev = nullptr;
    double* reg_host = nullptr;
    std::vector<double> norms;
    // the point: set by the entry points (the batch's input and labels or targets), kept by
    // gradient and hvp for the cached products
    const float *w = nullptr, *x = nullptr;
    const int* labels = nullptr;
    const float* targets = nullptr;
    int rows = 0;
    bool cached = false;
    // the mode (an_cuda_net_set_mode): training, dropout's seed, the batch norms' running statistics
    // (on the device: evaluation mode reads them)
    bool training = true;
    uint64_t seed = 0;
    double* running = nullptr;
    // per norm layer: its per-set state (an::cuda::NormLayer: 7 x its sets doubles); null elsewhere
    std::vector<double*> norm_state;
    double *set_sums = nullptr, *scale_sums = nullptr;  // a norm pass' per-set and per-scale sums
    // the curvature precision (an_cuda_net_set_precision): the GEMMs of linear, linear_t and outer
    // run in it while the sweep marks them as a product's (network_sweep.h: ProductGemms)
    int precision = an::cuda::PRECISION_FP32;
    bool in_product = false;

    // frees whatever was allocated, also when an_cuda_net_create fails half-way
    ~an_cuda_net() {
        if (ctx != nullptr) cudaSetDevice(ctx->device);
        for (auto* vec : {&A_, &G_, &RZ_, &RA_, &RG_, &Z_, &GA_, &xcols, &rcols})
            for (float* p : *vec) cudaFree(p);
        for (int* a : arg) cudaFree(a);
        for (double* d : norm_state) cudaFree(d);
        for (double* d : {running, set_sums, scale_sums}) cudaFree(d);
        for (float* p : {P, cols, cm, ones, channel_rows}) cudaFree(p);
        cudaFree(reg_dev);
        cudaFreeHost(reg_host);
    }

    cudaStream_t s() const { return ctx->stream; }
    int T() const { return static_cast<int>(topo.tensors.size()); }
    double* loss_slot() const { return reg_dev + 2 * topo.tensors.size(); }

    // ---- the engine of network_sweep.h (rows = the whole batch) ----
    const Topology& topology() const { return topo; }
    const Layer& layer(size_t l) const { return topo.layers[l]; }
    float* A(size_t l) { return A_[l]; }
    float* G(size_t l) { return G_[l]; }
    float* RZ(size_t l) { return RZ_[l]; }
    float* RA(size_t l) { return layer(l).act == AN_ACT_IDENTITY ? RZ_[l] : RA_[l]; }
    float* RG(size_t l) { return RG_[l]; }
    const float* input(size_t l, int j) {
        const int i = layer(l).in[j];
        return i < 0 ? x : A_[i];
    }
    const float* source(size_t l, Source src) { return src == Source::input ? input(l, 0) : RA(layer(l).in[0]); }
    // a conv layer's lowered source: im2col of its input (per point) or of its R-input (per product)
    float* lowered(size_t l, Source src) { return src == Source::input ? xcols[l] : rcols[l]; }
    long long values(size_t l) const { return (long long)rows * layer(l).out_size; }

    bool product_gemms() const { return in_product; }
    void product_gemms(bool on) { in_product = on; }
    // the precision of the GEMM about to run in linear, linear_t or outer
    int p() const { return in_product ? precision : an::cuda::PRECISION_FP32; }

    void lower(size_t l, Source src) {
        if (layer(l).conv()) an::cuda::im2col(s(), layer(l).g, source(l, src), rows, lowered(l, src));
    }
    void linear(size_t l, const float* W, Source src, float beta, float* z) {
        const Layer& L = layer(l);
        if (!L.conv()) {
            ctx->gemm_nt(rows, L.out_size, L.in_size, source(l, src), W, beta, z, p());
            return;
        }
        ctx->gemm_nn(L.g.cout, rows * L.g.P(), L.g.K(), W, lowered(l, src), 0.0f, cm, p());
        an::cuda::cm_to_nchw(s(), cm, rows, L.g.cout, L.g.P(), beta, z);
    }
    void linear_t(size_t l, const float* W, const float* g, float beta, float* gx) {
        const Layer& L = layer(l);
        if (!L.conv()) {
            ctx->gemm_nn(rows, L.in_size, L.out_size, g, W, beta, gx, p());
            return;
        }
        an::cuda::nchw_to_cm(s(), g, rows, L.g.cout, L.g.P(), cm);
        ctx->gemm_tn(L.g.K(), rows * L.g.P(), L.g.cout, W, cm, 0.0f, cols, p());
        an::cuda::col2im(s(), L.g, cols, rows, beta, gx);
    }
    void linear_t_pair(size_t l, const float* W, const float* g1, const float* V, const float* g2, float beta, float* gx) {
        linear_t(l, W, g1, beta, gx);
        linear_t(l, V, g2, 1.0f, gx);
    }
    void outer(size_t l, const float* g, Source src, float beta, float* dW) {
        const Layer& L = layer(l);
        if (!L.conv()) {
            ctx->gemm_tn(L.out_size, L.in_size, rows, g, source(l, src), beta, dW, p());
            return;
        }
        an::cuda::nchw_to_cm(s(), g, rows, L.g.cout, L.g.P(), cm);
        ctx->gemm_nt(L.g.cout, L.g.K(), rows * L.g.P(), cm, lowered(l, src), beta, dW, p());
    }
    void bias_act(size_t l, const float* b) {
        const Layer& L = layer(l);
        an::cuda::bias_act(s(), L.act, A(l), Z_[l], b, rows, L.out_size, L.period, L.count);
    }
    void back_act(size_t l, float* D, bool point) { an::cuda::back_act(s(), layer(l).act, D, point ? GA_[l] : nullptr, A(l), Z_[l], values(l)); }
    void rfwd_act(size_t l, const float* vb) {
        an::cuda::rfwd_act(s(), layer(l).act, RZ(l), RA(l), A(l), Z_[l], vb, rows, layer(l).out_size, layer(l).period, layer(l).count);
    }
    void rbwd_act(size_t l) { an::cuda::rbwd_act(s(), layer(l).act, RG(l), RZ(l), G(l), GA_[l], A(l), Z_[l], values(l)); }
    // db = column sums of D (dense: ones' D; conv: sums over the positions, then over the rows),
    // as cuBLAS GEMMs with a ones vector: the bandwidth-bound reduction at full device width
    void bias_grad(size_t l, const float* D, float* db) {
        const Layer& L = layer(l);
        if (L.period == 1 && L.count == L.out_size) {
            ctx->gemm_nn(1, L.out_size, rows, ones, D, 0.0f, db);
            return;
        }
        if (L.period == 1) {  // a layer norm's shift: sums over the rows, then over the groups
            ctx->gemm_nn(1, L.out_size, rows, ones, D, 0.0f, channel_rows);
            ctx->gemm_nn(1, L.count, L.out_size / L.count, ones, channel_rows, 0.0f, db);
            return;
        }
        ctx->gemm_nn(rows * L.count, 1, L.period, D, ones, 0.0f, channel_rows);
        ctx->gemm_nn(1, L.count, rows, ones, channel_rows, 0.0f, db);
    }
    bool max_pool(size_t l) const { return layer(l).kind == AN_LAYER_MAXPOOL2D; }
    void pool_forward(size_t l) { an::cuda::pool_forward(s(), layer(l).g, max_pool(l), input(l, 0), rows, A(l), arg[l]); }
    void pool_apply(size_t l, const float* rx, float* ry) { an::cuda::pool_apply(s(), layer(l).g, max_pool(l), rx, rows, arg[l], ry); }
    void pool_transpose(size_t l, const float* gy, float beta, float* gx) {
        an::cuda::pool_transpose(s(), layer(l).g, max_pool(l), gy, rows, arg[l], beta, gx);
    }
    void gap(size_t l, const float* x_, float* y) { an::cuda::gap(s(), x_, rows, layer(l).channels, layer(l).positions, y); }
    void gap_t(size_t l, const float* gy, float beta, float* gx) { an::cuda::gap_t(s(), gy, rows, layer(l).channels, layer(l).positions, beta, gx); }
    // training mode: the mask of the batch's rows; evaluation mode: the identity
    void dropout(size_t l, const float* x_, float beta, float* y) {
        const Layer& L = layer(l);
        if (!training) copy_rows(L.out_size, x_, L.out_size, beta, y, L.out_size);
        else an::cuda::dropout(s(), x_, rows, L.out_size, seed, L.net_layer, L.threshold, static_cast<float>(1.0 / (1.0 - static_cast<double>(L.p))), beta, y);
    }
    void embed(size_t l, const float* W, float* y) { an::cuda::embed(s(), x, rows, layer(l).length, layer(l).vocabulary, layer(l).dim, W, y); }
    void embed_t(size_t l, const float* g, float* dW) { an::cuda::embed_t(s(), x, rows, layer(l).length, layer(l).vocabulary, layer(l).dim, g, dW); }
    void copy_rows(int len, const float* x_, int x_stride, float beta, float* y, int y_stride) { an::cuda::copy_rows(s(), rows, len, x_, x_stride, beta, y, y_stride); }
    // ---- batch and layer norm (an::cuda::NormLayer; the formulas of native/cpu/network.cpp) ----
    // the statistics are the values' own (batch norm in training mode, layer norm) or the running ones
    bool coupled(const Layer& L) const { return L.kind == AN_LAYER_LAYERNORM || training; }
    an::cuda::NormLayer norm(size_t l) const {
        const Layer& L = layer(l);
        const bool bn = L.kind == AN_LAYER_BATCHNORM;
        return {bn ? 1 : 0, rows, L.out_size, bn ? L.positions : L.group, bn ? L.channels : topo.max_batch * L.groups, norm_state[l]};
    }
    // the sets' values (a batch norm channel's over rows and positions, a layer norm group's)
    an::cuda::NormReduce set_pattern(size_t l) const {
        const Layer& L = layer(l);
        if (L.kind == AN_LAYER_BATCHNORM) return {L.channels, rows * L.positions, L.positions, L.out_size, L.positions};
        return {rows * L.groups, L.group, L.group, 0, L.group};
    }
    // a layer norm scale's values (position j of every group of every row)
    an::cuda::NormReduce scale_pattern(size_t l) const { return {layer(l).group, rows * layer(l).groups, 1, layer(l).group, 1}; }
    const float* r_input(size_t l) { return layer(l).in[0] < 0 ? nullptr : RA(layer(l).in[0]); }

    void norm_forward(size_t l, const float* gamma) {
        const Layer& L = layer(l);
        const an::cuda::NormLayer N = norm(l);
        const an::cuda::NormTensors t{input(l, 0), nullptr, nullptr, nullptr, gamma, nullptr};
        if (coupled(L)) {
            an::cuda::norm_reduce(s(), N, an::cuda::NORM_STATS, t, set_pattern(l), set_sums);
            an::cuda::norm_finish(s(), N, an::cuda::NORM_STATS, set_sums, nullptr, L.eps);
        } else {
            an::cuda::norm_finish(s(), N, an::cuda::NORM_STATS, nullptr, running + L.stat_off, L.eps);
        }
        an::cuda::norm_apply(s(), N, an::cuda::NORM_STATS, t, nullptr, 0.0f, A(l));
    }
    void norm_backward(size_t l, const float* gamma, const float* gz, bool point, float* dgamma, float* gx, float beta) {
        const Layer& L = layer(l);
        const an::cuda::NormLayer N = norm(l);
        const an::cuda::NormTensors t{input(l, 0), nullptr, gz, nullptr, gamma, nullptr};
        const bool bn = L.kind == AN_LAYER_BATCHNORM, c = coupled(L);
        an::cuda::norm_reduce(s(), N, an::cuda::NORM_BACK, t, set_pattern(l), set_sums);
        if (dgamma != nullptr) {
            if (bn) {
                an::cuda::take_sums(s(), set_sums, 3, 2, L.count, dgamma);
            } else {
                an::cuda::norm_reduce(s(), N, an::cuda::NORM_DGAMMA, t, scale_pattern(l), scale_sums);
                an::cuda::take_sums(s(), scale_sums, 1, 0, L.count, dgamma);
            }
        }
        if (point) an::cuda::norm_finish(s(), N, an::cuda::NORM_BACK, c ? set_sums : nullptr, nullptr, L.eps);
        if (gx != nullptr) an::cuda::norm_apply(s(), N, an::cuda::NORM_BACK, t, c ? set_sums : nullptr, beta, gx);
    }
    void norm_rforward(size_t l, const float* gamma, const float* vgamma, const float* rx) {
        const Layer& L = layer(l);
        const an::cuda::NormLayer N = norm(l);
        const an::cuda::NormTensors t{input(l, 0), rx, nullptr, nullptr, gamma, vgamma};
        const bool sums = rx != nullptr && coupled(L);
        if (sums) an::cuda::norm_reduce(s(), N, an::cuda::NORM_RFWD, t, set_pattern(l), set_sums);
        an::cuda::norm_finish(s(), N, an::cuda::NORM_RFWD, sums ? set_sums : nullptr, nullptr, L.eps);
        an::cuda::norm_apply(s(), N, an::cuda::NORM_RFWD, t, nullptr, 0.0f, RZ(l));
    }
    void norm_rbackward(size_t l, const float* gamma, const float* vgamma, float* rdgamma, float* rgx, float beta) {
        const Layer& L = layer(l);
        const an::cuda::NormLayer N = norm(l);
        const an::cuda::NormTensors t{input(l, 0), r_input(l), G(l), RG(l), gamma, vgamma};
        an::cuda::norm_reduce(s(), N, an::cuda::NORM_RBACK, t, set_pattern(l), set_sums);
        if (L.kind == AN_LAYER_BATCHNORM) {
            an::cuda::take_sums(s(), set_sums, 4, 3, L.count, rdgamma);
        } else {
            an::cuda::norm_reduce(s(), N, an::cuda::NORM_RDGAMMA, t, scale_pattern(l), scale_sums);
            an::cuda::take_sums(s(), scale_sums, 1, 0, L.count, rdgamma);
        }
        if (rgx != nullptr) an::cuda::norm_apply(s(), N, an::cuda::NORM_RBACK, t, coupled(L) ? set_sums : nullptr, beta, rgx);
    }
    void zero(size_t l, float* z) { CK(cudaMemsetAsync(z, 0, sizeof(float) * (size_t)values(l), s())); }
    // the loss at the output into the data-loss slot, its gradient into ga (if non-null)
    void top(float* ga) {
        CK(cudaMemsetAsync(loss_slot(), 0, sizeof(double), s()));
        an::cuda::loss(s(), topo.loss, A_.back(), labels, targets, rows, topo.out_dim(), P, ga, loss_slot());
    }
    void top_r() { an::cuda::loss_r(s(), topo.loss, P, RA(topo.last()), rows, topo.out_dim(), RG(topo.last())); }

    // ---- the regularizer's vector engine (over the whole parameter vector) ----
    void axpy(float alpha, const float* x_, float* y, long long off, long long n) { an::cuda::axpby(s(), alpha, x_ + off, 1.0f, y + off, n); }
    // hv += c1 v - c3 (w'v) w on tensor i, w'v reduced into its device slot (zeroed by regularizer_hvp)
    void norm_hessian(size_t i, double c1, double c3, const float* w_, const float* v, float* hv) {
        const long long off = topo.tensors[i].off, n = topo.tensors[i].len;
        double* wv = reg_dev + T() + i;
        an::cuda::dot(s(), w_ + off, v + off, n, wv);
        an::cuda::norm_hessian(s(), w_ + off, v + off, hv + off, n, c1, c3, wv);
    }
    // hv += the regularizer's Hessian times v at the cached norms, without a host synchronization
    void regularizer_hvp(const float* w_, const float* v, float* hv) {
        if (topo.regularized() && topo.reg == AN_REG_NORM) CK(cudaMemsetAsync(reg_dev + T(), 0, sizeof(double) * T(), s()));
        an::regularizer_hvp(*this, topo, norms.data(), w_, v, hv);
    }

    // The loss at the point (data loss + regularizer) with one host synchronization; keeps the
    // tensors' norms for the regularizer's Hessian and adds the regularizer's gradient (if grad).
    double point_value(const float* w_, float* grad) {
        const int t = T();
        CK(cudaMemsetAsync(reg_dev, 0, sizeof(double) * t, s()));
        if (topo.regularized() && topo.reg == AN_REG_SQUARED)  // only the sum counts: one reduction over the parameters, which the tensors tile
            an::cuda::dot(s(), w_, w_, topo.params, reg_dev);
        else if (topo.regularized())
            for (int i = 0; i < t; ++i) an::cuda::dot(s(), w_ + topo.tensors[i].off, w_ + topo.tensors[i].off, topo.tensors[i].len, reg_dev + i);
        CK(cudaGetLastError());
        CK(cudaMemcpyAsync(reg_host, reg_dev, sizeof(double) * t, cudaMemcpyDeviceToHost, s()));
        CK(cudaMemcpyAsync(reg_host + t, loss_slot(), sizeof(double), cudaMemcpyDeviceToHost, s()));
        ctx->sync();
        const double value = reg_host[t] + an::regularizer_value(*this, topo, reg_host, w_, grad, norms.data());
        CK(cudaGetLastError());
        return value;
    }
    // out = (Hessian or Gauss-Newton) v at the cached point; no host synchronization
    void product(int curvature, const float* v, float* out) {
        if (!cached) throw std::logic_error("no cached point: call gradient() or hvp() first");
        an::sweep_product(*this, curvature, w, v, out);
        regularizer_hvp(w, v, out);
        CK(cudaGetLastError());
    }
    void set_point(const float* w_, const float* x_, const int* labels_, const float* targets_, int batch) {
        cached = false;
        w = w_;
        x = x_;
        labels = labels_;
        targets = targets_;
        rows = batch;
    }
};

extern "C" {

an_cuda_net* an_cuda_net_create(an_cuda* ctx, const int* spec, int spec_len, int loss, int reg, double lambda, int max_batch) {
    an_cuda_net* result = nullptr;
    an::guarded([&]() -> int {
        if (!ctx) throw std::invalid_argument("null context");
        auto net = std::make_unique<an_cuda_net>();
        net->ctx = ctx;
        net->topo = an::parse_topology(spec, spec_len, loss, reg, lambda, max_batch);
        const Topology& topo = net->topo;
        size_t cols_floats = 1, cm_floats = 1, ones_floats = (size_t)max_batch, channels = 1, row_sums = 1, set_sums = 1, scale_sums = 1;
        for (size_t l = 0; l < topo.layers.size(); ++l) {
            const Layer& L = topo.layers[l];
            if (L.has_bias() && L.period > 1) {  // conv, batch norm: per (row, channel) sums
                ones_floats = std::max(ones_floats, (size_t)L.period);
                channels = std::max(channels, (size_t)L.count);
            }
            if (L.kind == AN_LAYER_BATCHNORM) set_sums = std::max(set_sums, 4 * (size_t)L.channels);
            if (L.kind == AN_LAYER_LAYERNORM) {
                set_sums = std::max(set_sums, 4 * (size_t)max_batch * L.groups);
                scale_sums = std::max(scale_sums, (size_t)L.group);
                ones_floats = std::max(ones_floats, (size_t)L.groups);
                row_sums = std::max(row_sums, (size_t)L.out_size);
            }
            if (L.conv()) {
                cols_floats = std::max(cols_floats, (size_t)L.g.K() * L.g.P() * (size_t)max_batch);
                cm_floats = std::max(cm_floats, (size_t)L.out_size * (size_t)max_batch);
                ones_floats = std::max(ones_floats, (size_t)L.g.P());
                channels = std::max(channels, (size_t)L.g.cout);
            }
            const size_t largest = std::max({(size_t)L.in_size, (size_t)L.out_size, L.conv() ? (size_t)L.g.K() * L.g.P() : size_t(0)}) * max_batch;
            if (largest > (size_t)INT32_MAX)
                throw std::invalid_argument("layer " + std::to_string(l) + " in network spec: max_batch " + std::to_string(max_batch) + " makes a buffer of " +
                                            std::to_string(largest) +
                                            " floats; the CUDA layer kernels index in 32 bits (at most 2^31 - 1): use a smaller batch");
        }
        CK(cudaSetDevice(ctx->device));
        auto device_floats = [ctx](std::vector<float*>& vec, size_t floats) {
            float* p = nullptr;
            if (floats > 0) ctx->device_alloc(&p, sizeof(float) * floats);
            vec.push_back(p);
        };
        for (size_t l = 0; l < topo.layers.size(); ++l) {
            const Layer& L = topo.layers[l];
            const size_t act = (size_t)max_batch * L.out_size, im2col = L.conv() ? (size_t)L.g.K() * L.g.P() * max_batch : 0;
            for (auto* vec : {&net->A_, &net->G_, &net->RZ_, &net->RG_}) device_floats(*vec, act);
            device_floats(net->RA_, L.act == AN_ACT_IDENTITY ? 0 : act);  // RA(l) is RZ(l) for identity layers
            for (auto* vec : {&net->Z_, &net->GA_}) device_floats(*vec, an::act_needs_z(L.act) ? act : 0);
            device_floats(net->xcols, im2col);
            device_floats(net->rcols, L.in[0] >= 0 ? im2col : 0);
            int* a = nullptr;
            if (L.kind == AN_LAYER_MAXPOOL2D) ctx->device_alloc(&a, sizeof(int) * act);
            net->arg.push_back(a);
        }
        ctx->device_alloc(&net->cols, sizeof(float) * cols_floats);
        ctx->device_alloc(&net->cm, sizeof(float) * cm_floats);
        ctx->device_alloc(&net->ones, sizeof(float) * ones_floats);
        ctx->device_alloc(&net->channel_rows, sizeof(float) * std::max(channels * (size_t)max_batch, row_sums));
        ctx->device_alloc(&net->set_sums, sizeof(double) * set_sums);
        ctx->device_alloc(&net->scale_sums, sizeof(double) * scale_sums);
        for (const Layer& L : topo.layers) {
            double* st = nullptr;
            if (L.norm()) ctx->device_alloc(&st, sizeof(double) * 7 * (L.kind == AN_LAYER_BATCHNORM ? (size_t)L.channels : (size_t)max_batch * L.groups));
            net->norm_state.push_back(st);
        }
        ctx->device_alloc(&net->running, sizeof(double) * std::max<long long>(1, topo.statistics));
        std::vector<double> initial(static_cast<size_t>(topo.statistics), 0.0);
        for (const Layer& L : topo.layers)
            if (L.kind == AN_LAYER_BATCHNORM) std::fill(initial.begin() + L.stat_off + L.channels, initial.begin() + L.stat_off + 2 * L.channels, 1.0);
        if (!initial.empty()) {
            CK(cudaMemcpyAsync(net->running, initial.data(), sizeof(double) * initial.size(), cudaMemcpyHostToDevice, ctx->stream));
            ctx->sync();
        }
        an::cuda::fill(ctx->stream, 1.0f, net->ones, (long long)ones_floats);
        CK(cudaGetLastError());
        ctx->device_alloc(&net->P, sizeof(float) * (size_t)max_batch * topo.out_dim());
        const size_t T = topo.tensors.size();
        ctx->device_alloc(&net->reg_dev, sizeof(double) * (2 * T + 1));
        ctx->pinned_alloc(&net->reg_host, sizeof(double) * (T + 1));
        net->norms.assign(T, 0.0);
        result = net.release();
        return AN_OK;
    });
    return result;
}

void an_cuda_net_destroy(an_cuda_net* net) { delete net; }

long long an_cuda_net_param_count(const an_cuda_net* net) { return net ? net->topo.params : -1; }

}  // extern "C"

namespace {

// Every network entry point: a second line behind Java's checks, and the context's device made
// current for this thread (JNI threads differ). batch 0: a call without a batch.
an_cuda_net* enter(an_cuda_net* net, int batch) {
    if (net == nullptr) throw std::invalid_argument("null network");
    if (batch != 0 && (batch < 1 || batch > net->topo.max_batch))
        throw std::invalid_argument("batch = " + std::to_string(batch) + "; must be in [1, " + std::to_string(net->topo.max_batch) + "]");
    CK(cudaSetDevice(net->ctx->device));
    return net;
}

}  // namespace

extern "C" {

int an_cuda_net_forward(an_cuda_net* net, const float* w, const float* x, int batch, float* out) {
    return an::guarded([&]() -> int {
        enter(net, batch)->set_point(w, x, nullptr, nullptr, batch);
        an::forward(*net, w);
        CK(cudaMemcpyAsync(out, net->A_.back(), sizeof(float) * (size_t)batch * net->topo.out_dim(), cudaMemcpyDeviceToDevice, net->s()));
        CK(cudaGetLastError());
        return AN_OK;
    });
}

int an_cuda_net_loss(an_cuda_net* net, const float* w, const float* x, const int* labels, const float* targets, int batch, double* loss) {
    return an::guarded([&]() -> int {
        enter(net, batch)->set_point(w, x, labels, targets, batch);
        an::sweep_loss(*net, w);
        *loss = net->point_value(w, nullptr);
        return AN_OK;
    });
}

int an_cuda_net_gradient(an_cuda_net* net, const float* w, const float* x, const int* labels, const float* targets, int batch, float* grad,
                         double* loss) {
    return an::guarded([&]() -> int {
        enter(net, batch)->set_point(w, x, labels, targets, batch);
        an::sweep_gradient(*net, w, grad);
        *loss = net->point_value(w, grad);
        net->cached = true;
        return AN_OK;
    });
}

int an_cuda_net_hvp(an_cuda_net* net, const float* w, const float* x, const int* labels, const float* targets, int batch, const float* v, float* out,
                    double* loss) {
    return an::guarded([&]() -> int {
        enter(net, batch)->set_point(w, x, labels, targets, batch);
        an::sweep_hvp(*net, w, v, out);
        *loss = net->point_value(w, nullptr);
        net->regularizer_hvp(w, v, out);
        CK(cudaGetLastError());
        net->cached = true;
        return AN_OK;
    });
}

int an_cuda_net_hvp_cached(an_cuda_net* net, const float* v, float* out) {
    return an::guarded([&]() -> int {
        enter(net, 0)->product(an::CURVATURE_HESSIAN, v, out);
        return AN_OK;
    });
}

int an_cuda_net_set_mode(an_cuda_net* net, int training, long long dropout_seed, const double* running, long long count) {
    return an::guarded([&]() -> int {
        enter(net, 0);
        if (an::set_mode(net->topo, net->training, net->seed, training, dropout_seed, running, count)) net->cached = false;
        if (running != nullptr && count > 0) {
            CK(cudaMemcpyAsync(net->running, running, sizeof(double) * count, cudaMemcpyHostToDevice, net->s()));
            net->ctx->sync();
        }
        return AN_OK;
    });
}

int an_cuda_net_batch_statistics(an_cuda_net* net, double* out, long long count) {
    return an::guarded([&]() -> int {
        enter(net, 0);
        if (!out && count > 0) throw std::invalid_argument("null pointer");
        if (count != net->topo.statistics)
            throw std::invalid_argument("count = " + std::to_string(count) + "; the network's batch norm layers keep " + std::to_string(net->topo.statistics) +
                                        " statistics");
        if (!net->cached) throw std::logic_error("no cached point: call gradient() or hvp() first");
        if (!net->training) throw std::logic_error("the cached point is in evaluation mode: no batch statistics");
        for (size_t l = 0; l < net->topo.layers.size(); ++l) {
            const Layer& L = net->topo.layers[l];
            if (L.kind != AN_LAYER_BATCHNORM) continue;
            CK(cudaMemcpyAsync(out + L.stat_off, net->norm_state[l], sizeof(double) * L.channels, cudaMemcpyDeviceToHost, net->s()));
            CK(cudaMemcpyAsync(out + L.stat_off + L.channels, net->norm_state[l] + 2 * L.channels, sizeof(double) * L.channels, cudaMemcpyDeviceToHost,
                               net->s()));
        }
        net->ctx->sync();
        return AN_OK;
    });
}

int an_cuda_net_set_precision(an_cuda_net* net, int precision) {
    return an::guarded([&]() -> int {
        enter(net, 0);
        if (precision < an::cuda::PRECISION_FP32 || precision > an::cuda::PRECISION_BF16)
            throw std::invalid_argument("precision = " + std::to_string(precision) + "; must be 0 (fp32), 1 (tf32) or 2 (bf16)");
        if (precision != an::cuda::PRECISION_FP32) {
            const an_cuda* c = net->ctx;
            if (c->major < 8)
                throw std::logic_error(std::string(precision == an::cuda::PRECISION_TF32 ? "TF32" : "BF16") +
                                       " needs compute capability >= 8.0; this device is " + std::to_string(c->major) + "." + std::to_string(c->minor));
            if (an::cuda::cublas().gemm_ex == nullptr) throw std::logic_error("libcublas lacks cublasGemmEx: the curvature products can only run in fp32");
        }
        net->precision = precision;
        return AN_OK;
    });
}

int an_cuda_net_gn_cached(an_cuda_net* net, const float* v, float* out) {
    return an::guarded([&]() -> int {
        enter(net, 0)->product(an::CURVATURE_GAUSS_NEWTON, v, out);
        return AN_OK;
    });
}

}  // extern "C"

namespace {

// The device engine of krylov_driver.h: vectors on the device, reduction slots in the context's
// device doubles, fetch copies them to pinned memory and is the one host synchronization.
struct CudaKrylovEngine {
    an_cuda_net* net;
    int curvature;
    long long n;
    static constexpr bool synchronous_products = false;  // queued on the stream: the driver does not time them

    cudaStream_t s() const { return net->s(); }
    double* slot(int i) const { return net->ctx->reduce + i; }
    void zero(int i) { CK(cudaMemsetAsync(slot(i), 0, sizeof(double), s())); }

    int product(const float* v, float* out) {
        net->product(curvature, v, out);
        return AN_OK;
    }
    void fill(float value, float* x) { an::cuda::fill(s(), value, x, n); }
    void copy(const float* x, float* y) { CK(cudaMemcpyAsync(y, x, sizeof(float) * (size_t)n, cudaMemcpyDeviceToDevice, s())); }
    void scale_into(float alpha, const float* x, float* y) { an::cuda::scale_into(s(), alpha, x, y, n); }
    void axpby(float alpha, const float* x, float beta, float* y) { an::cuda::axpby(s(), alpha, x, beta, y, n); }
    void dot(const float* x, const float* y, int i) {
        zero(i);
        an::cuda::dot(s(), x, y, n, slot(i));
    }
    void start_cg(const float* r, const float* a, float* y, float* p, int i) {
        zero(i);
        an::cuda::start_cg(s(), r, a, y, p, n, slot(i));
    }
    void cg_update(float alpha, const float* p, const float* bp, const float* a, float* sv, float* r, float* y, int i_ry, int i_rr) {
        zero(i_ry);
        zero(i_rr);
        an::cuda::cg_update(s(), alpha, p, bp, a, sv, r, y, n, slot(i_ry), slot(i_rr));
    }
    void precondition(const float* t, const float* a, float* y, int i) {
        zero(i);
        an::cuda::precondition(s(), t, a, y, n, slot(i));
    }
    void lanczos_update(const float* bv, int i_delta, const float* w, float gamma, const float* wprev, const float* a, float* t, float* y, int i) {
        zero(i);
        an::cuda::lanczos_update(s(), bv, slot(i_delta), w, gamma, wprev, a, t, y, n, slot(i));
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
    if (net->topo.params > INT32_MAX) throw std::invalid_argument("more than 2^31 - 1 parameters");
    if (!net->cached) throw std::logic_error("no cached point: call gradient() or hvp() first");
}

}  // namespace

extern "C" {

int an_cuda_net_steihaug(an_cuda_net* net, int curvature, const float* g, const float* a, double delta, int max_iter, double tol, int rule,
                         float* s, float* work, double* result) {
    return an::guarded([&]() -> int {
        check_solve(net, g, a, s, work, result, max_iter);
        if (!(delta > 0) || !(tol > 0)) throw std::invalid_argument("invalid Steihaug options");
        CudaKrylovEngine e{net, curvature, net->topo.params};
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
        CudaKrylovEngine e{net, curvature, net->topo.params};
        const int st = an::lanczos_solve(e, cubic, g, a, reg, max_iter, tol, rule, s, work, result);
        CK(cudaGetLastError());
        return st;
    });
}

}  // extern "C"
