// The CUDA backend (native/cuda/*.cu, translated by translate.cpp: kernels run as
// sequential loops over host memory, cuBLAS a shim with plain loops) against the CPU backend
// (native/cpu), which the Java tests check against the double reference. Runs in every CI build,
// also where no GPU exists; races, real cuBLAS and the driver are left to the gpu-tagged tests.
//
// Checked: every network entry point (forward, loss, gradient, HVP from scratch and cached,
// Gauss-Newton) for every layer kind, activation, loss and regularizer, in several call orders,
// against the CPU backend; the vector operations and fused first-order updates; the whole
// Steihaug, GLTR and ARC solves (the device engine against the reference engine of
// tests/native/loop_engine.h with the same products: exit, iterations, step) and the host
// synchronizations they make; input errors.
#include "adanewton.h"
#include "../native/check.h"
#include "../native/graph_spec.h"
#include "../native/loop_engine.h"
#include "../../native/common/krylov_driver.h"

#include <dlfcn.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "cuda_runtime.h"


namespace {


// float32 kernels against float32 kernels with a different summation order
constexpr double KERNEL_RTOL = 2e-4;
// whole Krylov solves with the same products: only the reductions' summation order differs
constexpr double SOLVE_RTOL = 1e-4;
// a curvature product in TF32 / BF16 against fp32 (operands rounded to 10 / 7 mantissa bits,
// relative error up to 2^-11 / 2^-8 each; measured on the cases below: see precision_cases)
constexpr double TF32_PRODUCT_RTOL = 4e-3, BF16_PRODUCT_RTOL = 3e-2;

std::mt19937 rng(42);

std::vector<float> randv(long long n, float scale) {
    std::normal_distribution<float> d(0.0f, scale);
    std::vector<float> v(static_cast<size_t>(n));
    for (auto& x : v) x = d(rng);
    return v;
}

double rel(const float* a, const float* b, long long n) {
    double num = 0, den = 0;
    for (long long i = 0; i < n; ++i) {
        if (!std::isfinite(a[i])) return INFINITY;
        const double d = static_cast<double>(a[i]) - b[i];
        num += d * d;
        den += static_cast<double>(b[i]) * b[i];
    }
    return std::sqrt(num / (den + 1e-30));
}
double rel(double a, double b) { return std::fabs(a - b) / std::max(std::fabs(b), 1e-30); }

// device buffers of the emulated backend (host memory here, but only reached through the API)
struct Dev {
    an_cuda* ctx;
    std::vector<float*> owned;
    float* up(const std::vector<float>& h) {
        float* d = an_cuda_alloc(ctx, static_cast<long long>(h.size()));
        an_cuda_copy(ctx, h.data(), d, static_cast<long long>(h.size()), 0);
        owned.push_back(d);
        return d;
    }
    float* zeros(long long n) { return up(std::vector<float>(static_cast<size_t>(n), 0.0f)); }
    std::vector<float> down(const float* d, long long n) {
        std::vector<float> h(static_cast<size_t>(n));
        an_cuda_copy(ctx, d, h.data(), n, 1);
        return h;
    }
    ~Dev() {
        for (float* p : owned) an_cuda_free(ctx, p);
    }
};

// A chain layer's spec row: kind, activation, one input (set by spec()), 3 unused inputs, has-bias
// (dense and conv layers), parameters.
std::vector<int> layer(int kind, int act, std::vector<int> p) {
    std::vector<int> r = {kind, act, 1, 0, -1, -1, -1, kind == AN_LAYER_DENSE || kind == AN_LAYER_CONV2D ? 1 : 0};
    r.insert(r.end(), p.begin(), p.end());
    r.resize(AN_SPEC_INTS_PER_LAYER, 0);
    return r;
}
std::vector<int> spec(int in, std::vector<std::vector<int>> layers) {
    std::vector<int> s = {in, static_cast<int>(layers.size())};
    int index = 0;
    for (auto& l : layers) {
        l[3] = index++ - 1;  // reads the layer before it
        s.insert(s.end(), l.begin(), l.end());
    }
    return s;
}

struct Case {
    std::string name;
    std::vector<int> spec;
    int loss, reg;
    double lambda;
    int max_batch, batch;
    float scale;         // of the weights
    bool solves = true;  // also the whole Krylov solves (slow to emulate for big networks)
    int training = 1;    // the mode (dropout)
    long long seed = 0;
    int vocabulary = 0;  // > 0: the inputs are embedding indices in [0, vocabulary)
    std::vector<double> running = {};  // the batch norms' running statistics (evaluation mode; empty: the initial ones)
};

void network_case(an_cuda* ctx, const Case& c) {
    an_net* cpu = an_net_create(c.spec.data(), static_cast<int>(c.spec.size()), c.loss, c.reg, c.lambda, c.max_batch, 1);
    an_cuda_net* gpu = an_cuda_net_create(ctx, c.spec.data(), static_cast<int>(c.spec.size()), c.loss, c.reg, c.lambda, c.max_batch);
    CHECK(cpu != nullptr && gpu != nullptr, "%s: create: %s", c.name.c_str(), an_last_error());
    if (!cpu || !gpu) return;
    const long long n = an_net_param_count(cpu);
    CHECK(n == an_cuda_net_param_count(gpu), "%s: parameter counts %lld vs %lld", c.name.c_str(), n, an_cuda_net_param_count(gpu));
    const int in = c.spec[0];
    const int* last = c.spec.data() + 2 + AN_SPEC_INTS_PER_LAYER * (c.spec[1] - 1);
    const int d = last[8];  // the last layer is dense: its output count
    Dev dev{ctx, {}};
    auto w = randv(n, c.scale), v = randv(n, 1.0f), x = randv(static_cast<long long>(c.batch) * in, 1.0f);
    if (c.vocabulary > 0)
        for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(rng() % c.vocabulary);
    const double* running = c.running.empty() ? nullptr : c.running.data();
    const long long stats = static_cast<long long>(c.running.size());
    CHECK(an_net_set_mode(cpu, c.training, c.seed, running, stats) == AN_OK, "%s: %s", c.name.c_str(), an_last_error());
    CHECK(an_cuda_net_set_mode(gpu, c.training, c.seed, running, stats) == AN_OK, "%s: %s", c.name.c_str(), an_last_error());
    std::vector<int> labels(static_cast<size_t>(c.batch));
    for (auto& l : labels) l = static_cast<int>(rng() % d);
    std::vector<float> targets(static_cast<size_t>(c.batch) * d);
    std::uniform_real_distribution<float> u(0.0f, 1.0f);
    for (auto& t : targets) t = u(rng);
    const bool ce = c.loss == AN_LOSS_SOFTMAX_CE;
    float *dw = dev.up(w), *dv = dev.up(v), *dx = dev.up(x), *dt = dev.up(targets), *dout = dev.zeros(static_cast<long long>(c.batch) * d);
    float *dg = dev.zeros(n), *dh = dev.zeros(n);
    int* dl = reinterpret_cast<int*>(an_cuda_alloc(ctx, c.batch));
    an_cuda_copy(ctx, reinterpret_cast<const float*>(labels.data()), reinterpret_cast<float*>(dl), c.batch, 0);
    const int* lab = ce ? labels.data() : nullptr;
    const float* tgt = ce ? nullptr : targets.data();
    const int* dlab = ce ? dl : nullptr;
    const float* dtgt = ce ? nullptr : dt;
    const char* nm = c.name.c_str();

    std::vector<float> outc(static_cast<size_t>(c.batch) * d), gc(static_cast<size_t>(n)), hc(static_cast<size_t>(n));
    CHECK(an_net_forward(cpu, w.data(), x.data(), c.batch, outc.data()) == AN_OK, "%s: %s", nm, an_last_error());
    CHECK(an_cuda_net_forward(gpu, dw, dx, c.batch, dout) == AN_OK, "%s: %s", nm, an_last_error());
    CHECK(rel(dev.down(dout, static_cast<long long>(c.batch) * d).data(), outc.data(), static_cast<long long>(c.batch) * d) <= KERNEL_RTOL, "%s: forward", nm);

    double lc = 0, lg = 0;
    an_net_loss(cpu, w.data(), x.data(), lab, tgt, c.batch, &lc);
    CHECK(an_cuda_net_loss(gpu, dw, dx, dlab, dtgt, c.batch, &lg) == AN_OK, "%s: %s", nm, an_last_error());
    CHECK(rel(lg, lc) <= KERNEL_RTOL, "%s: loss %g vs %g", nm, lg, lc);
    CHECK(an_cuda_net_hvp_cached(gpu, dv, dh) == AN_E_STATE, "%s: a cached product after loss() was accepted", nm);

    an_net_gradient(cpu, w.data(), x.data(), lab, tgt, c.batch, gc.data(), &lc);
    CHECK(an_cuda_net_gradient(gpu, dw, dx, dlab, dtgt, c.batch, dg, &lg) == AN_OK, "%s: %s", nm, an_last_error());
    CHECK(rel(lg, lc) <= KERNEL_RTOL, "%s: gradient's loss %g vs %g", nm, lg, lc);
    CHECK(rel(dev.down(dg, n).data(), gc.data(), n) <= KERNEL_RTOL, "%s: gradient rel err %g", nm, rel(dev.down(dg, n).data(), gc.data(), n));
    if (c.training == 1) {  // the batch statistics of the point (empty without batch norm)
        long long count = 0;  // 2 per batch norm channel
        for (int l = 0; l < c.spec[1]; ++l)
            if (c.spec[2 + AN_SPEC_INTS_PER_LAYER * l] == AN_LAYER_BATCHNORM) count += 2 * c.spec[2 + AN_SPEC_INTS_PER_LAYER * l + 8];
        std::vector<double> sc(static_cast<size_t>(count)), sg(static_cast<size_t>(count));
        CHECK(an_net_batch_statistics(cpu, sc.data(), count) == AN_OK, "%s: %s", nm, an_last_error());
        CHECK(an_cuda_net_batch_statistics(gpu, sg.data(), count) == AN_OK, "%s: %s", nm, an_last_error());
        for (long long i = 0; i < count; ++i)
            CHECK(std::fabs(sg[i] - sc[i]) <= KERNEL_RTOL * (std::fabs(sc[i]) + 1e-3), "%s: batch statistic %lld: %g vs %g", nm, i, sg[i], sc[i]);
    }
    for (int curvature = 0; curvature < 2; ++curvature) {
        curvature == 0 ? an_net_hvp_cached(cpu, v.data(), hc.data()) : an_net_gn_cached(cpu, v.data(), hc.data());
        const int st = curvature == 0 ? an_cuda_net_hvp_cached(gpu, dv, dh) : an_cuda_net_gn_cached(gpu, dv, dh);
        CHECK(st == AN_OK, "%s: %s", nm, an_last_error());
        const double e = rel(dev.down(dh, n).data(), hc.data(), n);
        CHECK(e <= KERNEL_RTOL, "%s: %s at the gradient's point: rel err %g", nm, curvature == 0 ? "cached HVP" : "Gauss-Newton", e);
    }
    an_net_hvp(cpu, w.data(), x.data(), lab, tgt, c.batch, v.data(), hc.data(), &lc);
    CHECK(an_cuda_net_hvp(gpu, dw, dx, dlab, dtgt, c.batch, dv, dh, &lg) == AN_OK, "%s: %s", nm, an_last_error());
    CHECK(rel(lg, lc) <= KERNEL_RTOL, "%s: hvp's loss %g vs %g", nm, lg, lc);
    CHECK(rel(dev.down(dh, n).data(), hc.data(), n) <= KERNEL_RTOL, "%s: HVP from scratch", nm);
    an_net_gn_cached(cpu, v.data(), hc.data());
    an_cuda_net_gn_cached(gpu, dv, dh);
    CHECK(rel(dev.down(dh, n).data(), hc.data(), n) <= KERNEL_RTOL, "%s: Gauss-Newton at the HVP's point", nm);

    // The whole solves at the gradient's point against the same driver over the reference engine
    // (tests/native/loop_engine.h) with the same products: in the emulation device memory is host
    // memory, so the reference can call the emulated device network on host vectors. The two runs
    // then differ only in the summation order of the reductions, and must agree on the exit and
    // the iteration count exactly.
    if (!c.solves) {
        an_cuda_free(ctx, reinterpret_cast<float*>(dl));
        an_cuda_net_destroy(gpu);
        an_net_destroy(cpu);
        return;
    }
    std::vector<float> a(static_cast<size_t>(n));
    for (long long i = 0; i < n; ++i) a[static_cast<size_t>(i)] = 0.2f + 0.6f * (i % 9);  // a wide spread: r'y and r'r differ
    an_cuda_net_gradient(gpu, dw, dx, dlab, dtgt, c.batch, dg, &lg);
    const std::vector<float> g = dev.down(dg, n);
    const int max_iter = 30;
    float* da = dev.up(a);
    float *ds = dev.zeros(n), *dwork = dev.zeros((5 + max_iter) * n);
    std::vector<float> sr(static_cast<size_t>(n)), work(static_cast<size_t>((5 + max_iter) * n));
    for (int solver = 0; solver < 3; ++solver)
        for (int curvature = 0; curvature < 2; ++curvature)
            for (double reg : {0.05, 0.5, 50.0}) {
                double rr[AN_SOLVE_RESULT], rg[AN_SOLVE_RESULT];
                LoopEngine ref{n, [gpu, curvature](const float* v, float* out) {
                                   return curvature == 1 ? an_cuda_net_gn_cached(gpu, v, out) : an_cuda_net_hvp_cached(gpu, v, out);
                               }};
                const long long syncs0 = an_cuda_sync_count(ctx);
                int sg_st;
                if (solver == 0) {
                    an::steihaug_solve(ref, g.data(), a.data(), reg, max_iter, 0.01, 0, sr.data(), work.data(), rr);
                    sg_st = an_cuda_net_steihaug(gpu, curvature, dg, da, reg, max_iter, 0.01, 0, ds, dwork, rg);
                } else {
                    an::lanczos_solve(ref, solver == 2, g.data(), a.data(), reg, max_iter, 0.01, 0, sr.data(), work.data(), rr);
                    sg_st = an_cuda_net_lanczos(gpu, curvature, solver == 2, dg, da, reg, max_iter, 0.01, 0, ds, dwork, rg);
                }
                const long long syncs = an_cuda_sync_count(ctx) - syncs0;
                const char* sn = solver == 0 ? "Steihaug" : solver == 1 ? "GLTR" : "ARC";
                CHECK(sg_st == AN_OK, "%s %s: status %d: %s", nm, sn, sg_st, an_last_error());
                CHECK(rr[4] == rg[4], "%s %s curvature %d reg %g: exit %g (reference %g)", nm, sn, curvature, reg, rg[4], rr[4]);
                CHECK(rr[2] == rg[2], "%s %s curvature %d reg %g: %g iterations (reference %g)", nm, sn, curvature, reg, rg[2], rr[2]);
                CHECK(rel(rg[0], rr[0]) <= SOLVE_RTOL, "%s %s: model decrease %g vs %g", nm, sn, rg[0], rr[0]);
                const double e = rel(dev.down(ds, n).data(), sr.data(), n);
                CHECK(e <= SOLVE_RTOL, "%s %s curvature %d reg %g: step rel err %g", nm, sn, curvature, reg, e);
                // the device waits exactly where the reference engine fetches
                CHECK(syncs == ref.fetches, "%s %s: %lld host synchronizations, the driver fetched %d times", nm, sn, syncs, ref.fetches);
                const long long k = static_cast<long long>(rg[2]);
                CHECK(ref.fetches <= (solver == 0 ? 1 + 2 * k : 1 + k), "%s %s: %d fetches in %lld iterations", nm, sn, ref.fetches, k);
            }
    an_cuda_free(ctx, reinterpret_cast<float*>(dl));
    an_cuda_net_destroy(gpu);
    an_net_destroy(cpu);
}

void vector_ops(an_cuda* ctx) {
    Dev dev{ctx, {}};
    for (long long n : {1LL, 255LL, 257LL, 70001LL}) {
        auto x = randv(n, 1.0f), y = randv(n, 1.0f), a = randv(n, 1.0f);
        for (auto& v : a) v = std::fabs(v) + 0.5f;
        float *dx = dev.up(x), *dy = dev.up(y), *da = dev.up(a);
        double got = 0;
        an_cuda_dot(ctx, dx, dy, n, &got);
        CHECK(rel(got, an_dot(x.data(), y.data(), n)) <= 1e-9, "dot n=%lld", n);
        an_cuda_weighted_dot(ctx, da, dx, n, &got);
        CHECK(rel(std::sqrt(got), an_weighted_nrm2(a.data(), x.data(), n)) <= 1e-9, "weighted dot n=%lld", n);
        an_cuda_axpby(ctx, 0.5f, dx, -2.0f, dy, n);
        an_axpby(0.5f, x.data(), -2.0f, y.data(), n);
        CHECK(rel(dev.down(dy, n).data(), y.data(), n) <= 1e-7, "axpby n=%lld", n);
        an_cuda_mul(ctx, dy, da, dy, n, 1);
        an_div(y.data(), a.data(), y.data(), n);
        CHECK(rel(dev.down(dy, n).data(), y.data(), n) <= 1e-7, "divide n=%lld", n);
        an_cuda_accumulate_squares(ctx, 0.8f, 0.2f, dx, da, n);
        an_accumulate_squares(0.8f, 0.2f, x.data(), a.data(), n);
        an_cuda_root_metric(ctx, da, 1.0f, 1e-8f, 1e-12f, 1e15f, dy, n);
        an_root_metric(a.data(), 1.0f, 1e-8f, 1e-12f, 1e15f, y.data(), n);
        CHECK(rel(dev.down(dy, n).data(), y.data(), n) <= 1e-7, "root metric n=%lld", n);
        std::vector<float> m(static_cast<size_t>(n), 0.0f), s(static_cast<size_t>(n), 0.1f), w(x);
        float *dm = dev.up(m), *ds = dev.up(s), *dw = dev.up(w);
        an_cuda_adaptive_step(ctx, dw, dy, dm, ds, 0.01f, 0.9f, 0.999f, 0.001f, 0.1f, 0.001f, 1e-8f, 1e-4f, 0.01f, n);
        an_adaptive_step(w.data(), y.data(), m.data(), s.data(), 0.01f, 0.9f, 0.999f, 0.001f, 0.1f, 0.001f, 1e-8f, 1e-4f, 0.01f, n);
        CHECK(rel(dev.down(dw, n).data(), w.data(), n) <= 1e-6, "adaptive step n=%lld", n);
        an_cuda_sgd_step(ctx, dw, dy, dm, 0.01f, 0.9f, 1e-4f, 1, n);
        an_sgd_step(w.data(), y.data(), m.data(), 0.01f, 0.9f, 1e-4f, 1, n);
        CHECK(rel(dev.down(dw, n).data(), w.data(), n) <= 1e-6, "sgd step n=%lld", n);
        x[static_cast<size_t>(n / 2)] = NAN;
        float* dn = dev.up(x);
        an_cuda_count_nonfinite(ctx, dn, n, &got);
        CHECK(got == 1, "count_nonfinite n=%lld: %g", n, got);
    }
}

void errors(an_cuda* ctx) {
    const std::vector<int> empty = {10, 0};
    CHECK(an_cuda_net_create(ctx, empty.data(), 2, AN_LOSS_SOFTMAX_CE, AN_REG_NONE, 0, 4) == nullptr, "a network without layers was accepted");
    CHECK(std::string(an_last_error()).find("malformed") != std::string::npos, "message: %s", an_last_error());
    const auto pool_act = spec(16, {layer(AN_LAYER_MAXPOOL2D, AN_ACT_RELU, {1, 4, 4, 2, 2}), layer(AN_LAYER_DENSE, 0, {3})});
    CHECK(an_cuda_net_create(ctx, pool_act.data(), static_cast<int>(pool_act.size()), AN_LOSS_SOFTMAX_CE, AN_REG_NONE, 0, 4) == nullptr,
          "pooling with an activation was accepted");
    const auto big_kernel = spec(16, {layer(AN_LAYER_CONV2D, 0, {1, 4, 4, 2, 5, 1, 0}), layer(AN_LAYER_DENSE, 0, {3})});
    CHECK(an_cuda_net_create(ctx, big_kernel.data(), static_cast<int>(big_kernel.size()), AN_LOSS_SOFTMAX_CE, AN_REG_NONE, 0, 4) == nullptr,
          "a kernel larger than its input was accepted");
    CHECK(std::string(an_last_error()).find("kernel larger") != std::string::npos, "message: %s", an_last_error());
    const auto ok = spec(6, {layer(AN_LAYER_DENSE, AN_ACT_TANH, {5}), layer(AN_LAYER_DENSE, 0, {3})});
    CHECK(an_cuda_net_create(ctx, ok.data(), static_cast<int>(ok.size()), 99, AN_REG_NONE, 0, 4) == nullptr, "an unknown loss was accepted");
    an_cuda_net* net = an_cuda_net_create(ctx, ok.data(), static_cast<int>(ok.size()), AN_LOSS_SOFTMAX_CE, AN_REG_NONE, 0, 4);
    Dev dev{ctx, {}};
    float *w = dev.zeros(53), *x = dev.zeros(30), *g = dev.zeros(53), *work = dev.zeros(4 * 53);
    int* labels = reinterpret_cast<int*>(dev.zeros(5));
    double loss = 0, result[AN_SOLVE_RESULT];
    CHECK(an_cuda_net_gradient(net, w, x, labels, nullptr, 5, g, &loss) == AN_E_ARGUMENT, "batch above max_batch accepted");
    CHECK(an_cuda_net_steihaug(net, 0, g, w, 1.0, 5, 1e-6, 0, g, work, result) == AN_E_STATE, "a solve without a cached point was accepted");
    an_cuda_net_destroy(net);
}

// Graph networks and the new layers the CUDA engine runs, against the CPU engine; batch and layer
// norm are refused by name.
void graph_cases(an_cuda* ctx) {
    {
        GraphSpec g(6);
        const int a = g.dense(-1, 8, AN_ACT_TANH), b = g.dense(a, 8, AN_ACT_GELU, false), s = g.add({a, b, a}, 8, AN_ACT_SIGMOID);
        const int d = g.dropout(s, 8, 0.3, 3), t = g.activate(d, 8, AN_ACT_SOFTPLUS);
        g.dense(t, 4);
        network_case(ctx, {"residual add, dropout (training), a lone activation", g.ints, AN_LOSS_SOFTMAX_CE, AN_REG_NORM, 0.02, 7, 7, 0.5f, true, 1, -99});
        network_case(ctx, {"the same in evaluation mode", g.ints, AN_LOSS_SQUARED_MEAN, AN_REG_NONE, 0, 7, 6, 0.5f, false, 0, 5});
    }
    {
        GraphSpec g(2 * 3 * 3);
        const int a = g.conv(-1, 2, 3, 3, 3, 3, 1, 1, AN_ACT_TANH), b = g.conv(-1, 2, 3, 3, 2, 1, 1, 0, AN_ACT_IDENTITY, false);
        const int k = g.concat2(a, b, 9, 3, 2), m = g.maxpool(k, 5, 3, 3, 2, 1), p = g.gap(m, 5, 4);
        g.dense(p, 3);
        network_case(ctx, {"concat of two convs, max pool, global average pool", g.ints, AN_LOSS_BCE, AN_REG_SQUARED, 0.01, 5, 5, 0.5f});
    }
    {
        GraphSpec g(4);
        const int e = g.embedding(6, 3, 4), a = g.dense(e, 5, AN_ACT_TANH);
        g.dense(a, 3);
        Case c{"embedding", g.ints, AN_LOSS_SOFTMAX_CE, AN_REG_NONE, 0, 6, 6, 0.8f};
        c.vocabulary = 6;
        network_case(ctx, c);
    }
    {
        GraphSpec g(2 * 4 * 4);
        const int a = g.conv(-1, 2, 4, 4, 3, 3, 1, 1, AN_ACT_IDENTITY, false), b = g.batch_norm(a, 3, 16, AN_ACT_TANH);
        const int c = g.conv(b, 3, 4, 4, 3, 3, 1, 1, AN_ACT_IDENTITY, false), d = g.batch_norm(c, 3, 16), s = g.add({d, b}, 48, AN_ACT_GELU);
        const int p = g.gap(s, 3, 16), n = g.batch_norm(p, 3, 1, AN_ACT_SIGMOID);
        g.dense(n, 4);
        network_case(ctx, {"residual batch norm 2d and 1d (training)", g.ints, AN_LOSS_SOFTMAX_CE, AN_REG_SQUARED, 0.01, 7, 7, 0.6f});
        Case e{"the same in evaluation mode", g.ints, AN_LOSS_SQUARED_SUM, AN_REG_NONE, 0, 7, 5, 0.6f, false, 0};
        for (int layer = 0; layer < 3; ++layer) {
            for (int c = 0; c < 3; ++c) e.running.push_back(0.2 * c - 0.1 * layer);  // means
            for (int c = 0; c < 3; ++c) e.running.push_back(0.5 + 0.3 * c + 0.2 * layer);  // variances
        }
        network_case(ctx, e);
    }
    {
        GraphSpec g(8);
        const int a = g.dense(-1, 8), b = g.layer_norm(a, 2, 4, AN_ACT_GELU), s = g.add({b, -1}, 8), n = g.layer_norm(s, 1, 8);
        g.dense(n, 3);
        network_case(ctx, {"layer norm over groups and a residual", g.ints, AN_LOSS_BCE, AN_REG_NORM, 0.02, 6, 6, 0.6f});
    }
}


// ---- curvature precisions (an_cuda_net_set_precision; cublasGemmEx in the shim) ----

// The shim's rounding and cublasGemmEx: ties to even at TF32's 10 and BF16's 7 mantissa bits, and a
// product whose operands lose exactly those bits.
void gemm_ex_rounding() {
    void* lib = dlopen("libcublas.so.13", RTLD_NOW | RTLD_LOCAL);
    CHECK(lib != nullptr, "dlopen libcublas.so.13 (the shim): %s", dlerror());
    if (!lib) return;
    typedef float (*Round)(float, int);
    typedef int (*GemmEx)(void*, int, int, int, int, int, const void*, const void*, int, int, const void*, int, int, const void*, void*, int, int, int,
                          int);
    auto round = reinterpret_cast<Round>(dlsym(lib, "fake_cublas_round_mantissa"));
    auto gemm_ex = reinterpret_cast<GemmEx>(dlsym(lib, "cublasGemmEx"));
    CHECK(round && gemm_ex, "the shim lacks cublasGemmEx or its rounding hook");
    if (!round || !gemm_ex) return;
    const float u10 = std::ldexp(1.0f, -10), u7 = std::ldexp(1.0f, -7);
    struct R {
        float x;
        int bits;
        float want;
    };
    const R cases[] = {
        {1.0f + u10 / 2, 10, 1.0f},                  // a tie: to the even neighbour 1
        {1.0f + 3 * u10 / 2, 10, 1.0f + 2 * u10},    // a tie: to the even neighbour 1 + 2 ulp
        {1.0f + u10 / 2 + u10 / 8, 10, 1.0f + u10},  // above the tie: up
        {-(1.0f + 3 * u10 / 2), 10, -(1.0f + 2 * u10)},
        {1.0f + u7 / 2, 7, 1.0f},
        {1.0f + 3 * u7 / 2, 7, 1.0f + 2 * u7},
        {1.0f + u7 / 2 + u7 / 16, 7, 1.0f + u7},
        {3.4e38f, 7, INFINITY},                      // past bf16's largest finite value (3.39e38): infinity
        {1.0f + u10, 10, 1.0f + u10},                // representable: unchanged
    };
    for (const R& c : cases) CHECK(round(c.x, c.bits) == c.want, "round(%.9g, %d) = %.9g; want %.9g", c.x, c.bits, round(c.x, c.bits), c.want);
    CHECK(std::isnan(round(NAN, 7)), "NaN did not stay NaN");
    // C (1 x 1) = a' b over k = 2: fp32 keeps the low bits, TF32 and BF16 drop them
    const float a[2] = {1.0f + u10 / 4, 2.0f}, b[2] = {1.0f, 1.0f + u7 / 4}, one = 1.0f, zero = 0.0f;
    const int R32F = 0, C32F = 68, TF32 = 77, BF16 = 75, DEFAULT = -1;
    float c = -1;
    CHECK(gemm_ex(nullptr, 1, 0, 1, 1, 2, &one, a, R32F, 2, b, R32F, 2, &zero, &c, R32F, 1, C32F, DEFAULT) == 0, "gemmEx 32F failed");
    CHECK(c == a[0] * b[0] + a[1] * b[1], "gemmEx 32F: %.9g", c);
    CHECK(gemm_ex(nullptr, 1, 0, 1, 1, 2, &one, a, R32F, 2, b, R32F, 2, &zero, &c, R32F, 1, TF32, DEFAULT) == 0, "gemmEx TF32 failed");
    CHECK(c == 1.0f + 2.0f * (1.0f + u7 / 4), "gemmEx TF32: %.9g (b[1]'s 2^-9 kept, a[0]'s 2^-12 dropped)", c);
    CHECK(gemm_ex(nullptr, 1, 0, 1, 1, 2, &one, a, R32F, 2, b, R32F, 2, &zero, &c, R32F, 1, BF16, DEFAULT) == 0, "gemmEx BF16 failed");
    CHECK(c == 3.0f, "gemmEx BF16: %.9g", c);
    CHECK(gemm_ex(nullptr, 1, 0, 1, 1, 2, &one, a, 14, 2, b, R32F, 2, &zero, &c, R32F, 1, BF16, DEFAULT) == 15, "gemmEx with bf16 A accepted");
    CHECK(gemm_ex(nullptr, 1, 0, 1, 1, 2, &one, a, R32F, 1, b, R32F, 2, &zero, &c, R32F, 1, BF16, DEFAULT) == 7, "gemmEx with lda < k accepted");
    dlclose(lib);
}

// A network's products in TF32 and BF16 against its fp32 products: they differ (the precision took
// effect), by less than the tolerance; the loss and gradient at the point are bitwise those of
// fp32; back in fp32 the product is bitwise the first one (the emulation is deterministic).
void precision_case(an_cuda* ctx, const char* nm, const std::vector<int>& sp, int in, int d, int batch, float scale) {
    an_cuda_net* gpu = an_cuda_net_create(ctx, sp.data(), static_cast<int>(sp.size()), AN_LOSS_SOFTMAX_CE, AN_REG_SQUARED, 0.01, batch);
    CHECK(gpu != nullptr, "%s: create: %s", nm, an_last_error());
    if (!gpu) return;
    const long long n = an_cuda_net_param_count(gpu);
    Dev dev{ctx, {}};
    std::vector<int> labels(static_cast<size_t>(batch));
    for (auto& l : labels) l = static_cast<int>(rng() % d);
    float *dw = dev.up(randv(n, scale)), *dv = dev.up(randv(n, 1.0f)), *dx = dev.up(randv(static_cast<long long>(batch) * in, 1.0f));
    float *dg = dev.zeros(n), *dh = dev.zeros(n), *ds = dev.zeros(n), *dwork = dev.zeros(4 * n);
    std::vector<float> a(static_cast<size_t>(n), 1.0f);
    float* da = dev.up(a);
    int* dl = reinterpret_cast<int*>(dev.zeros(batch));
    an_cuda_copy(ctx, reinterpret_cast<const float*>(labels.data()), reinterpret_cast<float*>(dl), batch, 0);
    // per precision: gradient, its loss, the cached HVP and GN products, an HVP from scratch and its loss, a Steihaug step
    struct Run {
        std::vector<float> g, hv, gn, hs, s;
        double loss = 0, hloss = 0;
    };
    auto run = [&](int precision) {
        Run r;
        CHECK(an_cuda_net_set_precision(gpu, precision) == AN_OK, "%s: set_precision(%d): %s", nm, precision, an_last_error());
        CHECK(an_cuda_net_gradient(gpu, dw, dx, dl, nullptr, batch, dg, &r.loss) == AN_OK, "%s: %s", nm, an_last_error());
        r.g = dev.down(dg, n);
        CHECK(an_cuda_net_hvp_cached(gpu, dv, dh) == AN_OK, "%s: %s", nm, an_last_error());
        r.hv = dev.down(dh, n);
        CHECK(an_cuda_net_gn_cached(gpu, dv, dh) == AN_OK, "%s: %s", nm, an_last_error());
        r.gn = dev.down(dh, n);
        double result[AN_SOLVE_RESULT];
        CHECK(an_cuda_net_steihaug(gpu, 0, dg, da, 1e3, 8, 1e-6, 0, ds, dwork, result) == AN_OK, "%s: %s", nm, an_last_error());
        r.s = dev.down(ds, n);
        CHECK(an_cuda_net_hvp(gpu, dw, dx, dl, nullptr, batch, dv, dh, &r.hloss) == AN_OK, "%s: %s", nm, an_last_error());
        r.hs = dev.down(dh, n);
        return r;
    };
    const Run fp32 = run(0);
    for (int precision : {1, 2}) {
        const Run low = run(precision);
        const char* pn = precision == 1 ? "TF32" : "BF16";
        const double tol = precision == 1 ? TF32_PRODUCT_RTOL : BF16_PRODUCT_RTOL;
        CHECK(low.loss == fp32.loss && low.hloss == fp32.hloss, "%s %s: loss %.17g / %.17g vs fp32 %.17g / %.17g", nm, pn, low.loss, low.hloss, fp32.loss,
              fp32.hloss);
        CHECK(std::memcmp(low.g.data(), fp32.g.data(), sizeof(float) * n) == 0, "%s %s: the gradient changed", nm, pn);
        const struct {
            const char* what;
            const std::vector<float>&x, &y;
        } products[] = {{"cached HVP", low.hv, fp32.hv}, {"Gauss-Newton", low.gn, fp32.gn}, {"HVP from scratch", low.hs, fp32.hs}, {"Steihaug step", low.s, fp32.s}};
        for (const auto& p : products) {
            const double e = rel(p.x.data(), p.y.data(), n);
            std::printf("precision: %s %s %s rel err vs fp32 %.3g (tolerance %.g)\n", nm, pn, p.what, e, tol);
            CHECK(e > 0 && e <= tol, "%s %s %s: rel err vs fp32 %g; must be in (0, %g]", nm, pn, p.what, e, tol);
        }
    }
    const Run again = run(0);
    CHECK(std::memcmp(again.hv.data(), fp32.hv.data(), sizeof(float) * n) == 0 && std::memcmp(again.gn.data(), fp32.gn.data(), sizeof(float) * n) == 0 &&
              std::memcmp(again.s.data(), fp32.s.data(), sizeof(float) * n) == 0,
          "%s: back in fp32 the products differ from the first fp32 run", nm);
    // the cached point survives a change of precision
    CHECK(an_cuda_net_set_precision(gpu, 2) == AN_OK && an_cuda_net_hvp_cached(gpu, dv, dh) == AN_OK, "%s: the cached point was dropped: %s", nm,
          an_last_error());
    CHECK(an_cuda_net_set_precision(gpu, 3) == AN_E_ARGUMENT && std::strstr(an_last_error(), "precision = 3") != nullptr, "%s: precision 3: %s", nm,
          an_last_error());
    CHECK(an_cuda_net_set_precision(gpu, -1) == AN_E_ARGUMENT, "%s: precision -1 accepted", nm);
    CHECK(an_cuda_net_set_precision(nullptr, 1) == AN_E_ARGUMENT, "a null network accepted");
    an_cuda_net_destroy(gpu);
}

void precision_cases(an_cuda* ctx) {
    gemm_ex_rounding();
    CHECK(an_cuda_compute_capability(ctx) == 90, "the emulated device reports compute %d; want 90", an_cuda_compute_capability(ctx));
    const auto mlp = spec(30, {layer(AN_LAYER_DENSE, AN_ACT_TANH, {24}), layer(AN_LAYER_DENSE, AN_ACT_RELU, {16}), layer(AN_LAYER_DENSE, 0, {5})});
    precision_case(ctx, "mlp 30-24-16-5", mlp, 30, 5, 16, 0.3f);
    const auto conv = spec(100, {layer(AN_LAYER_CONV2D, AN_ACT_RELU, {1, 10, 10, 4, 3, 1, 0}), layer(AN_LAYER_MAXPOOL2D, 0, {4, 8, 8, 2, 2}),
                                 layer(AN_LAYER_CONV2D, AN_ACT_TANH, {4, 4, 4, 6, 3, 1, 1}), layer(AN_LAYER_DENSE, 0, {5})});
    precision_case(ctx, "conv-pool-conv-dense", conv, 100, 5, 8, 0.4f);
    // a device below compute capability 8.0 refuses TF32 and BF16 and keeps fp32
    setenv("ADANEWTON_EMULATION_COMPUTE", "7.5", 1);
    an_cuda* old = an_cuda_create(0);
    unsetenv("ADANEWTON_EMULATION_COMPUTE");
    CHECK(old != nullptr, "an_cuda_create (7.5): %s", an_last_error());
    if (!old) return;
    CHECK(an_cuda_compute_capability(old) == 75, "compute %d; want 75", an_cuda_compute_capability(old));
    an_cuda_net* net = an_cuda_net_create(old, mlp.data(), static_cast<int>(mlp.size()), AN_LOSS_SOFTMAX_CE, AN_REG_NONE, 0, 4);
    CHECK(an_cuda_net_set_precision(net, 1) == AN_E_STATE && std::strstr(an_last_error(), "TF32 needs compute capability >= 8.0; this device is 7.5"),
          "tf32 on 7.5: %s", an_last_error());
    CHECK(an_cuda_net_set_precision(net, 2) == AN_E_STATE && std::strstr(an_last_error(), "BF16 needs compute capability >= 8.0"), "bf16 on 7.5: %s",
          an_last_error());
    CHECK(an_cuda_net_set_precision(net, 0) == AN_OK, "fp32 on 7.5: %s", an_last_error());
    an_cuda_net_destroy(net);
    an_cuda_destroy(old);
}

}  // namespace

int main() {
    an_cuda* ctx = an_cuda_create(0);
    if (ctx == nullptr) {
        std::printf("FAIL: an_cuda_create: %s\n", an_last_error());
        return 1;
    }
    const auto t1 = spec(100, {layer(AN_LAYER_CONV2D, AN_ACT_RELU, {1, 10, 10, 3, 3, 1, 0}), layer(AN_LAYER_MAXPOOL2D, 0, {3, 8, 8, 2, 2}),
                               layer(AN_LAYER_CONV2D, AN_ACT_TANH, {3, 4, 4, 4, 3, 2, 1}), layer(AN_LAYER_DENSE, AN_ACT_SOFTPLUS, {7}),
                               layer(AN_LAYER_DENSE, AN_ACT_IDENTITY, {5})});
    for (int loss = AN_LOSS_SOFTMAX_CE; loss <= AN_LOSS_BCE; ++loss)
        for (int reg = AN_REG_NONE; reg <= AN_REG_NORM; ++reg)
            network_case(ctx, {"conv-pool-conv-dense loss " + std::to_string(loss) + " reg " + std::to_string(reg), t1, loss, reg, 0.05, 9, 7, 0.4f});
    const auto t2 = spec(162, {layer(AN_LAYER_CONV2D, AN_ACT_SIGMOID, {2, 9, 9, 3, 4, 2, 2}), layer(AN_LAYER_MAXPOOL2D, 0, {3, 5, 5, 3, 2}),
                               layer(AN_LAYER_DENSE, AN_ACT_TANH, {6}), layer(AN_LAYER_DENSE, 0, {4})});
    network_case(ctx, {"overlapping max pool", t2, AN_LOSS_SQUARED_MEAN, AN_REG_NORM, 0.01, 6, 6, 0.5f});
    const auto t3 = spec(72, {layer(AN_LAYER_AVGPOOL2D, 0, {2, 6, 6, 3, 1}), layer(AN_LAYER_CONV2D, AN_ACT_SOFTPLUS, {2, 4, 4, 3, 2, 1, 1}),
                              layer(AN_LAYER_AVGPOOL2D, 0, {3, 5, 5, 2, 2}), layer(AN_LAYER_DENSE, AN_ACT_SIGMOID, {8}), layer(AN_LAYER_DENSE, 0, {6})});
    network_case(ctx, {"average pooling first", t3, AN_LOSS_BCE, AN_REG_SQUARED, 0.1, 5, 5, 0.5f});
    const auto t4 = spec(20, {layer(AN_LAYER_DENSE, AN_ACT_TANH, {16}), layer(AN_LAYER_DENSE, AN_ACT_SIGMOID, {8}), layer(AN_LAYER_DENSE, 0, {3}),
                              layer(AN_LAYER_DENSE, AN_ACT_SOFTPLUS, {8}), layer(AN_LAYER_DENSE, AN_ACT_RELU, {12}), layer(AN_LAYER_DENSE, 0, {20})});
    network_case(ctx, {"dense autoencoder", t4, AN_LOSS_SQUARED_SUM, AN_REG_NONE, 0, 8, 8, 0.5f});
    network_case(ctx, {"dense autoencoder, batch below max", t4, AN_LOSS_BCE, AN_REG_NORM, 0.02, 8, 3, 0.5f});
    const auto gelu = spec(50, {layer(AN_LAYER_CONV2D, AN_ACT_GELU, {2, 5, 5, 3, 3, 1, 1}), layer(AN_LAYER_DENSE, AN_ACT_GELU, {7}),
                                layer(AN_LAYER_DENSE, 0, {4})});
    network_case(ctx, {"gelu (z kept)", gelu, AN_LOSS_SOFTMAX_CE, AN_REG_SQUARED, 0.01, 6, 5, 0.6f});
    graph_cases(ctx);
    const auto t5 = spec(25, {layer(AN_LAYER_CONV2D, AN_ACT_TANH, {1, 5, 5, 2, 3, 3, 2}), layer(AN_LAYER_MAXPOOL2D, 0, {2, 3, 3, 3, 1}),
                              layer(AN_LAYER_DENSE, 0, {3})});
    network_case(ctx, {"stride 3 padding 2", t5, AN_LOSS_SOFTMAX_CE, AN_REG_NONE, 0, 4, 4, 0.7f});
    const auto convnet = spec(784, {layer(AN_LAYER_CONV2D, AN_ACT_RELU, {1, 28, 28, 20, 5, 1, 0}), layer(AN_LAYER_MAXPOOL2D, 0, {20, 24, 24, 2, 2}),
                                    layer(AN_LAYER_CONV2D, AN_ACT_RELU, {20, 12, 12, 50, 5, 1, 0}), layer(AN_LAYER_MAXPOOL2D, 0, {50, 8, 8, 2, 2}),
                                    layer(AN_LAYER_DENSE, AN_ACT_RELU, {500}), layer(AN_LAYER_DENSE, 0, {10})});
    network_case(ctx, {"the paper's ConvNet", convnet, AN_LOSS_SOFTMAX_CE, AN_REG_NORM, 1e-3, 4, 3, 0.05f, false});
    vector_ops(ctx);
    errors(ctx);
    precision_cases(ctx);
    an_cuda_destroy(ctx);
    std::printf("%s: %lld kernel launches emulated\n", failures == 0 ? "cuda emulation tests: all passed" : "cuda emulation tests: FAILED", emu_launches);
    return failures == 0 ? 0 : 1;
}
