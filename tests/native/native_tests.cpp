// Native tests of the C API without the JVM (run under ASan/UBSan with -DADANEWTON_SANITIZE=ON):
// gradient and HVP against finite differences in float (loose tolerances), HVP symmetry, the
// thread split (1 vs 3 threads), error statuses, and the vector operations; for graph networks and
// every layer kind (residual add, concat, shared inputs, batch norm in both modes, layer norm,
// dropout, embedding, bias-free layers) the loss' directional derivative and the HVP against
// finite differences, the symmetry of the Hessian and Gauss-Newton products, the thread split
// (batch norm's cross-block reductions included) and the parser's refusals.
#include "adanewton.h"
#include "../../native/common/krylov_driver.h"
#include "../../native/common/network_spec.h"
#include "check.h"
#include "graph_spec.h"
#include "loop_engine.h"

#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>


// A dense network's spec: input size, then (out, activation) per layer.
static std::vector<int> dense_spec(int input, std::initializer_list<std::pair<int, int>> layers) {
    std::vector<int> spec{input, static_cast<int>(layers.size())};
    int l = 0;
    for (auto [out, act] : layers) {
        // kind, activation, one input (the layer before), 3 unused inputs, has-bias, then the parameters
        std::vector<int> row(AN_SPEC_INTS_PER_LAYER, 0);
        row[0] = AN_LAYER_DENSE;
        row[1] = act;
        row[2] = 1;
        row[3] = l++ - 1;
        row[4] = row[5] = row[6] = -1;
        row[7] = 1;
        row[8] = out;
        spec.insert(spec.end(), row.begin(), row.end());
    }
    return spec;
}

static std::vector<float> randn(size_t n, unsigned seed, float scale) {
    std::mt19937 gen(seed);
    std::normal_distribution<float> d(0.0f, scale);
    std::vector<float> v(n);
    for (auto& x : v) x = d(gen);
    return v;
}

static double rel_err(const std::vector<float>& a, const std::vector<float>& b) {
    double num = 0, den = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        num += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
        den += double(b[i]) * b[i];
    }
    return std::sqrt(num / (den + 1e-30));
}

static void test_network(int act, int loss, int reg, int threads) {
    const std::vector<int> spec = dense_spec(7, {{9, act}, {4, AN_ACT_IDENTITY}});
    const int batch = 13;
    an_net* net = an_net_create(spec.data(), static_cast<int>(spec.size()), loss, reg, 0.01, batch, threads);
    CHECK(net != nullptr, "create: %s", an_last_error());
    const long long n = an_net_param_count(net);
    CHECK(n == 7 * 9 + 9 + 9 * 4 + 4, "param count %lld", n);
    auto w = randn(n, 1, 0.5f), x = randn(batch * 7, 2, 1.0f), v = randn(n, 3, 1.0f), u = randn(n, 4, 1.0f);
    auto t = randn(batch * 4, 5, 1.0f);
    if (loss == AN_LOSS_BCE)
        for (auto& v : t) v = 1.0f / (1.0f + std::exp(-v));  // probabilities
    std::vector<int> y(batch);
    for (int i = 0; i < batch; ++i) y[i] = i % 4;
    const int* labels = loss == AN_LOSS_SOFTMAX_CE ? y.data() : nullptr;
    const float* targets = loss == AN_LOSS_SOFTMAX_CE ? nullptr : t.data();
    std::vector<float> g(n), hv(n), hu(n), gp(n), gm(n), fd(n);
    double f = 0;
    CHECK(an_net_gradient(net, w.data(), x.data(), labels, targets, batch, g.data(), &f) == AN_OK, "%s", an_last_error());
    CHECK(an_net_hvp_cached(net, v.data(), hv.data()) == AN_OK, "%s", an_last_error());
    CHECK(an_net_hvp_cached(net, u.data(), hu.data()) == AN_OK, "%s", an_last_error());
    double uhv = 0, vhu = 0, scale = 0;
    for (long long i = 0; i < n; ++i) {
        uhv += double(u[i]) * hv[i];
        vhu += double(v[i]) * hu[i];
        scale += std::fabs(double(u[i]) * hv[i]);
    }
    CHECK(std::fabs(uhv - vhu) <= 1e-4 * scale, "symmetry act %d loss %d: %g vs %g", act, loss, uhv, vhu);
    // finite differences of the gradient along v (float: h = 1e-2, loose tolerance). Not for relu:
    // a step of 1e-2 crosses its kinks; relu's HVP is checked against the Java reference instead.
    if (act != AN_ACT_RELU) {
        const float h = 1e-2f;
        std::vector<float> wp(w), wm(w);
        for (long long i = 0; i < n; ++i) {
            wp[i] += h * v[i];
            wm[i] -= h * v[i];
        }
        an_net_gradient(net, wp.data(), x.data(), labels, targets, batch, gp.data(), &f);
        an_net_gradient(net, wm.data(), x.data(), labels, targets, batch, gm.data(), &f);
        for (long long i = 0; i < n; ++i) fd[i] = (gp[i] - gm[i]) / (2 * h);
        const double e = rel_err(hv, fd);
        CHECK(e < 2e-2, "HVP vs finite differences act %d loss %d reg %d threads %d: rel err %g", act, loss, reg, threads, e);
    }
    // HVP from scratch equals the cached one
    std::vector<float> hs(n);
    CHECK(an_net_hvp(net, w.data(), x.data(), labels, targets, batch, v.data(), hs.data(), &f) == AN_OK, "%s", an_last_error());
    CHECK(rel_err(hs, hv) < 1e-5, "scratch vs cached HVP: %g", rel_err(hs, hv));
    an_net_destroy(net);
}

static void test_thread_split() {
    const std::vector<int> spec = dense_spec(5, {{6, AN_ACT_TANH}, {3, AN_ACT_IDENTITY}});
    auto w = randn(5 * 6 + 6 + 6 * 3 + 3, 7, 0.5f), x = randn(50 * 5, 8, 1.0f);
    std::vector<int> y(50);
    for (int i = 0; i < 50; ++i) y[i] = i % 3;
    std::vector<float> g1(w.size()), g3(w.size());
    double f1 = 0, f3 = 0;
    an_net* a = an_net_create(spec.data(), static_cast<int>(spec.size()), AN_LOSS_SOFTMAX_CE, AN_REG_NONE, 0, 50, 1);
    an_net* b = an_net_create(spec.data(), static_cast<int>(spec.size()), AN_LOSS_SOFTMAX_CE, AN_REG_NONE, 0, 50, 3);
    an_net_gradient(a, w.data(), x.data(), y.data(), nullptr, 50, g1.data(), &f1);
    an_net_gradient(b, w.data(), x.data(), y.data(), nullptr, 50, g3.data(), &f3);
    CHECK(std::fabs(f1 - f3) < 1e-6 * std::fabs(f1), "loss 1 vs 3 threads: %g vs %g", f1, f3);
    CHECK(rel_err(g3, g1) < 1e-5, "gradient 1 vs 3 threads: %g", rel_err(g3, g1));
    an_net_destroy(a);
    an_net_destroy(b);
}

static void test_errors() {
    const int bad[] = {5, 2, AN_LAYER_DENSE, 0};
    CHECK(an_net_create(bad, 4, AN_LOSS_SOFTMAX_CE, AN_REG_NONE, 0, 4, 1) == nullptr, "malformed spec accepted");
    CHECK(std::string(an_last_error()).find("malformed") != std::string::npos, "message: %s", an_last_error());
    // 3x2x2 = 12 inputs: kind, activation, one input (-1), 3 unused, has-bias, then cin, hin, win, cout, k, stride, pad
    std::vector<int> conv = {12, 1, AN_LAYER_CONV2D, AN_ACT_RELU, 1, -1, -1, -1, -1, 1, 3, 2, 2, 4, 2, 1, 0, 0};
    conv[10] = 5;  // in_channels: now claims 5x2x2 = 20 inputs
    CHECK(an_net_create(conv.data(), static_cast<int>(conv.size()), AN_LOSS_SQUARED_SUM, AN_REG_NONE, 0, 4, 1) == nullptr, "conv shape mismatch accepted");
    CHECK(std::string(an_last_error()).find("does not match") != std::string::npos, "message: %s", an_last_error());
    const std::vector<int> spec = dense_spec(2, {{2, AN_ACT_IDENTITY}});
    an_net* net = an_net_create(spec.data(), static_cast<int>(spec.size()), AN_LOSS_SOFTMAX_CE, AN_REG_NONE, 0, 4, 2);
    float w[6] = {0}, x[10] = {0}, g[6];
    int y[5] = {0};
    double f;
    CHECK(an_net_gradient(net, w, x, y, nullptr, 5, g, &f) == AN_E_ARGUMENT, "batch above max accepted");
    CHECK(an_net_hvp_cached(net, w, g) == AN_E_STATE, "cached HVP without a point accepted");
    CHECK(an_net_gradient(net, w, x, nullptr, nullptr, 2, g, &f) == AN_E_ARGUMENT, "missing labels accepted");
    an_net_destroy(net);
}


// ---- graph networks ----

struct GraphCase {
    const char* name;
    GraphSpec spec;
    int loss = AN_LOSS_SOFTMAX_CE;
    int batch = 11;
    int training = 1;
    long long seed = 0;
    std::vector<double> running;  // the running statistics (evaluation mode)
    int vocabulary = 0;           // > 0: the inputs are embedding indices in [0, vocabulary)
    float scale = 0.5f;           // of the weights
    int reg = AN_REG_NONE;
};

struct GraphRun {
    double loss = 0;
    std::vector<float> g, hs, hv, hu, gv, gu;
};

static GraphRun run_graph(const GraphCase& c, int threads, const std::vector<float>& w, const std::vector<float>& x, const std::vector<int>& y,
                          const std::vector<float>& t, const std::vector<float>& v, const std::vector<float>& u) {
    GraphRun r;
    an_net* net = an_net_create(c.spec.ints.data(), c.spec.size(), c.loss, c.reg, 0.01, c.batch, threads);
    CHECK(net != nullptr, "%s: create: %s", c.name, an_last_error());
    if (net == nullptr) return r;
    CHECK(an_net_set_mode(net, c.training, c.seed, c.running.empty() ? nullptr : c.running.data(), static_cast<long long>(c.running.size())) == AN_OK, "%s: mode: %s", c.name,
          an_last_error());
    const long long n = an_net_param_count(net);
    const int* labels = c.loss == AN_LOSS_SOFTMAX_CE ? y.data() : nullptr;
    const float* targets = c.loss == AN_LOSS_SOFTMAX_CE ? nullptr : t.data();
    for (auto* vec : {&r.g, &r.hs, &r.hv, &r.hu, &r.gv, &r.gu}) vec->assign(n, 0.0f);
    double f = 0;
    CHECK(an_net_hvp(net, w.data(), x.data(), labels, targets, c.batch, v.data(), r.hs.data(), &f) == AN_OK, "%s: hvp: %s", c.name, an_last_error());
    CHECK(an_net_gradient(net, w.data(), x.data(), labels, targets, c.batch, r.g.data(), &r.loss) == AN_OK, "%s: gradient: %s", c.name, an_last_error());
    CHECK(std::fabs(f - r.loss) <= 1e-6 * std::fabs(r.loss), "%s: loss from hvp %g vs gradient %g", c.name, f, r.loss);
    CHECK(an_net_hvp_cached(net, v.data(), r.hv.data()) == AN_OK, "%s: %s", c.name, an_last_error());
    CHECK(an_net_hvp_cached(net, u.data(), r.hu.data()) == AN_OK, "%s: %s", c.name, an_last_error());
    CHECK(an_net_gn_cached(net, v.data(), r.gv.data()) == AN_OK, "%s: %s", c.name, an_last_error());
    CHECK(an_net_gn_cached(net, u.data(), r.gu.data()) == AN_OK, "%s: %s", c.name, an_last_error());
    an_net_destroy(net);
    return r;
}

static double dot(const std::vector<float>& a, const std::vector<float>& b) {
    double s = 0;
    for (size_t i = 0; i < a.size(); ++i) s += double(a[i]) * b[i];
    return s;
}

// Loss, gradient and products of a graph against finite differences (float: h = 1e-2, loose
// tolerances), their symmetry, and the same results on 1, 2 and 3 threads.
static void test_graph(const GraphCase& c) {
    an_net* probe = an_net_create(c.spec.ints.data(), c.spec.size(), c.loss, c.reg, 0.01, c.batch, 1);
    CHECK(probe != nullptr, "%s: create: %s", c.name, an_last_error());
    if (probe == nullptr) return;
    const long long n = an_net_param_count(probe);
    const int in = c.spec.ints[0];
    const int* last = c.spec.ints.data() + 2 + AN_SPEC_INTS_PER_LAYER * (c.spec.ints[1] - 1);
    const int d = last[8];  // a dense output layer
    auto w = randn(n, 21, c.scale), v = randn(n, 22, 1.0f), u = randn(n, 23, 1.0f), x = randn(static_cast<size_t>(c.batch) * in, 24, 1.0f);
    auto t = randn(static_cast<size_t>(c.batch) * d, 25, 1.0f);
    if (c.vocabulary > 0)
        for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>((i * 7 + i / 3) % c.vocabulary);
    std::vector<int> y(c.batch);
    for (int i = 0; i < c.batch; ++i) y[i] = (i * 5) % d;
    const GraphRun r1 = run_graph(c, 1, w, x, y, t, v, u);
    for (int threads : {2, 3}) {
        const GraphRun r = run_graph(c, threads, w, x, y, t, v, u);
        CHECK(std::fabs(r.loss - r1.loss) <= 1e-6 * std::fabs(r1.loss), "%s: loss on %d threads %g vs 1 thread %g", c.name, threads, r.loss, r1.loss);
        CHECK(rel_err(r.g, r1.g) < 1e-5, "%s: gradient on %d threads: rel err %g", c.name, threads, rel_err(r.g, r1.g));
        CHECK(rel_err(r.hv, r1.hv) < 1e-5, "%s: HVP on %d threads: rel err %g", c.name, threads, rel_err(r.hv, r1.hv));
        CHECK(rel_err(r.gv, r1.gv) < 1e-5, "%s: Gauss-Newton on %d threads: rel err %g", c.name, threads, rel_err(r.gv, r1.gv));
    }
    CHECK(rel_err(r1.hs, r1.hv) < 1e-5, "%s: scratch vs cached HVP: %g", c.name, rel_err(r1.hs, r1.hv));
    const double uhv = dot(u, r1.hv), vhu = dot(v, r1.hu), ugv = dot(u, r1.gv), vgu = dot(v, r1.gu);
    CHECK(std::fabs(uhv - vhu) <= 1e-4 * (std::fabs(uhv) + std::fabs(vhu) + 1e-3), "%s: Hessian symmetry %g vs %g", c.name, uhv, vhu);
    CHECK(std::fabs(ugv - vgu) <= 1e-4 * (std::fabs(ugv) + std::fabs(vgu) + 1e-3), "%s: Gauss-Newton symmetry %g vs %g", c.name, ugv, vgu);
    CHECK(dot(v, r1.gv) >= -1e-5 * std::sqrt(dot(v, v) * dot(r1.gv, r1.gv)), "%s: v'Gv = %g < 0", c.name, dot(v, r1.gv));
    // finite differences along v: the loss' slope is g'v, the gradient's is Hv
    const int* labels = c.loss == AN_LOSS_SOFTMAX_CE ? y.data() : nullptr;
    const float* targets = c.loss == AN_LOSS_SOFTMAX_CE ? nullptr : t.data();
    CHECK(an_net_set_mode(probe, c.training, c.seed, c.running.empty() ? nullptr : c.running.data(), static_cast<long long>(c.running.size())) == AN_OK, "%s", an_last_error());
    const float h = 1e-2f;
    std::vector<float> wp(w), wm(w), gp(n), gm(n), fd(n);
    for (long long i = 0; i < n; ++i) {
        wp[i] += h * v[i];
        wm[i] -= h * v[i];
    }
    double fp = 0, fm = 0;
    an_net_gradient(probe, wp.data(), x.data(), labels, targets, c.batch, gp.data(), &fp);
    an_net_gradient(probe, wm.data(), x.data(), labels, targets, c.batch, gm.data(), &fm);
    const double slope = (fp - fm) / (2 * h), gv = dot(r1.g, v);
    CHECK(std::fabs(slope - gv) <= 2e-2 * std::fabs(gv) + 1e-4, "%s: loss slope along v %g vs g'v %g", c.name, slope, gv);
    for (long long i = 0; i < n; ++i) fd[i] = (gp[i] - gm[i]) / (2 * h);
    CHECK(rel_err(r1.hv, fd) < 2e-2, "%s: HVP vs finite differences: rel err %g", c.name, rel_err(r1.hv, fd));
    an_net_destroy(probe);
}

static void test_graphs() {
    {
        GraphCase c{"residual add (shared input, bias-free dense)", GraphSpec(6)};
        const int a = c.spec.dense(-1, 8, AN_ACT_TANH);
        const int b = c.spec.dense(a, 8, AN_ACT_SIGMOID, false);
        const int s = c.spec.add({a, b, a}, 8, AN_ACT_TANH);
        c.spec.dense(s, 4);
        test_graph(c);
    }
    {
        GraphCase c{"concat of a conv and the input, global average pool", GraphSpec(2 * 3 * 3)};
        c.loss = AN_LOSS_SQUARED_MEAN;
        const int a = c.spec.conv(-1, 2, 3, 3, 3, 3, 1, 1, AN_ACT_TANH);
        const int b = c.spec.conv(-1, 2, 3, 3, 2, 1, 1, 0, AN_ACT_SOFTPLUS, false);
        const int k = c.spec.concat2(a, b, 9, 3, 2);
        const int g = c.spec.gap(k, 5, 9);
        c.spec.dense(g, 3);
        test_graph(c);
    }
    {
        GraphCase c{"batchnorm2d (training) after a bias-free conv", GraphSpec(2 * 4 * 4)};
        const int a = c.spec.conv(-1, 2, 4, 4, 3, 3, 1, 1, AN_ACT_IDENTITY, false);
        const int b = c.spec.batch_norm(a, 3, 16, AN_ACT_TANH);
        const int g = c.spec.gap(b, 3, 16);
        c.spec.dense(g, 3);
        test_graph(c);
    }
    {
        GraphCase c{"batchnorm1d (training) on the input and after a dense layer", GraphSpec(6)};
        c.loss = AN_LOSS_BCE;
        const int a = c.spec.batch_norm(-1, 6, 1);
        const int b = c.spec.dense(a, 5);
        const int n = c.spec.batch_norm(b, 5, 1, AN_ACT_GELU);
        c.spec.dense(n, 3);
        test_graph(c);
    }
    {
        GraphCase c{"batchnorm2d (evaluation)", GraphSpec(2 * 3 * 3)};
        c.training = 0;
        const int a = c.spec.conv(-1, 2, 3, 3, 4, 3, 1, 1, AN_ACT_IDENTITY, false);
        const int b = c.spec.batch_norm(a, 4, 9, AN_ACT_SIGMOID);
        const int k = c.spec.batch_norm(b, 4, 9);
        c.spec.dense(k, 3);
        c.running = {0.1, -0.2, 0.3, 0.0, 1.5, 0.5, 2.0, 0.8, 0.2, 0.1, -0.1, 0.4, 1.0, 0.6, 0.9, 1.2};
        test_graph(c);
    }
    {
        GraphCase c{"layernorm (two groups) and a residual", GraphSpec(8)};
        const int a = c.spec.dense(-1, 8);
        const int b = c.spec.layer_norm(a, 2, 4, AN_ACT_GELU);
        const int s = c.spec.add({b, -1}, 8);
        const int k = c.spec.layer_norm(s, 1, 8);
        c.spec.dense(k, 3);
        test_graph(c);
    }
    {
        GraphCase c{"dropout (training, seeded) and a lone activation", GraphSpec(6)};
        c.seed = -1234567;
        c.loss = AN_LOSS_SQUARED_SUM;
        const int a = c.spec.dense(-1, 9, AN_ACT_TANH);
        const int b = c.spec.dropout(a, 9, 0.3, 1);
        const int k = c.spec.activate(b, 9, AN_ACT_SOFTPLUS);
        c.spec.dense(k, 3);
        test_graph(c);
    }
    {
        GraphCase c{"dropout (evaluation: the identity)", GraphSpec(6)};
        c.training = 0;
        const int a = c.spec.dense(-1, 9, AN_ACT_TANH);
        const int b = c.spec.dropout(a, 9, 0.5, 1);
        c.spec.dense(b, 3);
        test_graph(c);
    }
    {
        GraphCase c{"embedding", GraphSpec(5)};
        c.vocabulary = 7;
        const int e = c.spec.embedding(7, 3, 5);
        const int a = c.spec.dense(e, 6, AN_ACT_TANH);
        c.spec.dense(a, 4);
        c.scale = 1.0f;
        test_graph(c);
    }
}

// The dropout mask against Java's Network.dropoutKeeps (seed, layer, row, unit, p): per case, how
// many of units 0..999 it keeps and the sum of their indices (computed with the Java method).
static void test_dropout_mask() {
    struct Known {
        long long seed;
        int layer, row;
        double p;
        long long kept, sum;
    };
    const Known known[] = {{0LL, 0, 0, 0.3, 695, 346333},
                           {0LL, 1, 17, 0.6, 378, 190119},
                           {-1234567LL, 2, 34, 0.3, 700, 346187},
                           {-1234567LL, 3, 51, 0.6, 400, 193384},
                           {-9223372036854775807LL - 1, 0, 68, 0.3, 700, 351980},
                           {-9223372036854775807LL - 1, 1, 85, 0.6, 423, 209550},
                           {987654321987LL, 2, 102, 0.3, 690, 343825},
                           {987654321987LL, 3, 119, 0.6, 427, 207951}};
    for (const Known& k : known) {
        const uint64_t h = an::dropout_row(static_cast<uint64_t>(k.seed), k.layer, k.row);
        long long kept = 0, sum = 0;
        for (int u = 0; u < 1000; ++u)
            if (an::dropout_keeps(h, u, static_cast<int>(k.p * (1 << 24)))) {
                ++kept;
                sum += u;
            }
        CHECK(kept == k.kept && sum == k.sum, "dropout mask (seed %lld, layer %d, row %d, p %g): kept %lld (sum %lld), Java %lld (%lld)", k.seed, k.layer,
              k.row, k.p, kept, sum, k.kept, k.sum);
    }
}

// The parser's refusals: each names the layer, its kind and the rule.
static void test_spec_refusals() {
    struct Refusal {
        const char* what;
        GraphSpec spec;
        const char* message;
    };
    std::vector<Refusal> cases;
    auto add_case = [&](const char* what, const char* message, auto&& build) {
        Refusal r{what, GraphSpec(6), message};
        build(r.spec);
        cases.push_back(r);
    };
    add_case("unknown kind", "layer 1 (?) in network spec: unknown layer kind 42", [](GraphSpec& g) {
        const int a = g.dense(-1, 4);
        g.layer(42, 0, {a}, false, {4});
    });
    add_case("unknown activation", "layer 0 (dense) in network spec: unknown activation 9", [](GraphSpec& g) { g.dense(-1, 4, 9); });
    add_case("input not earlier", "layer 0 (dense) in network spec: input 0 is 0; must be an earlier layer", [](GraphSpec& g) {
        g.layer(AN_LAYER_DENSE, 0, {0}, true, {4});
    });
    add_case("add of one input", "layer 1 (add) in network spec: 1 inputs; an add or concat takes 2 to 4", [](GraphSpec& g) {
        const int a = g.dense(-1, 4);
        g.layer(AN_LAYER_ADD, 0, {a}, false, {4});
    });
    add_case("dense of two inputs", "layer 2 (dense) in network spec: 2 inputs; it takes 1", [](GraphSpec& g) {
        const int a = g.dense(-1, 4), b = g.dense(a, 4);
        g.layer(AN_LAYER_DENSE, 0, {a, b}, true, {3});
    });
    add_case("add of two sizes", "layer 2 (add) in network spec: input 1 has 5 values, input 0 4", [](GraphSpec& g) {
        const int a = g.dense(-1, 4), b = g.dense(a, 5);
        g.add({a, b}, 4);
    });
    add_case("concat channels", "layer 2 (concat) in network spec: input 1 has 4 values, not 3 channels x 1 positions", [](GraphSpec& g) {
        const int a = g.dense(-1, 4), b = g.dense(a, 4);
        g.concat2(a, b, 1, 4, 3);
    });
    add_case("batchnorm size", "layer 1 (batchnorm) in network spec: 3 channels x 2 positions = 6 values, but its input has 4", [](GraphSpec& g) {
        const int a = g.dense(-1, 4);
        g.batch_norm(a, 3, 2);
    });
    add_case("layernorm eps", "layer 0 (layernorm) in network spec: eps must be > 0", [](GraphSpec& g) { g.layer_norm(-1, 2, 3, 0, 0.0f); });
    add_case("embedding after a layer", "layer 1 (embedding) in network spec: an embedding reads the network's input", [](GraphSpec& g) {
        const int a = g.dense(-1, 4);
        g.layer(AN_LAYER_EMBEDDING, 0, {a}, false, {5, 2, 4});
    });
    add_case("unread layer", "layer 0 (dense) in network spec: its output is never read", [](GraphSpec& g) {
        g.dense(-1, 4);
        g.dense(-1, 3);
    });
    add_case("activation on pooling", "layer 0 (maxpool2d) in network spec: a maxpool2d layer takes no activation", [](GraphSpec& g) {
        g.layer(AN_LAYER_MAXPOOL2D, AN_ACT_RELU, {-1}, false, {1, 2, 3, 2, 1});
    });
    add_case("bias on pooling", "layer 0 (avgpool2d) in network spec: this kind has no bias", [](GraphSpec& g) {
        g.layer(AN_LAYER_AVGPOOL2D, 0, {-1}, true, {1, 2, 3, 2, 1});
    });
    add_case("norm without a shift", "layer 0 (batchnorm) in network spec: a norm layer has a shift", [](GraphSpec& g) {
        g.layer(AN_LAYER_BATCHNORM, 0, {-1}, false, {6, 1, GraphSpec::bits(1e-5f)});
    });
    add_case("dropout p = 1", "layer 0 (dropout) in network spec: p must be in [0, 1)", [](GraphSpec& g) { g.dropout(-1, 6, 1.0, 0); });
    add_case("conv of another size", "layer 0 (conv2d) in network spec: input 1x2x2 does not match the size of its input, 6", [](GraphSpec& g) {
        g.conv(-1, 1, 2, 2, 1, 1, 1, 0);
    });
    for (Refusal& r : cases) {
        an_net* net = an_net_create(r.spec.ints.data(), r.spec.size(), AN_LOSS_SQUARED_MEAN, AN_REG_NONE, 0, 4, 1);
        CHECK(net == nullptr, "%s: accepted", r.what);
        an_net_destroy(net);
        CHECK(std::string(an_last_error()).find(r.message) != std::string::npos, "%s: message '%s', expected '%s'", r.what, an_last_error(), r.message);
    }
    // the mode: counts and values checked
    GraphSpec g(6);
    const int a = g.batch_norm(-1, 6, 1);
    g.dense(a, 3);
    an_net* net = an_net_create(g.ints.data(), g.size(), AN_LOSS_SQUARED_MEAN, AN_REG_NONE, 0, 4, 1);
    std::vector<double> running(12, 1.0);
    CHECK(an_net_set_mode(net, 0, 0, running.data(), 11) == AN_E_ARGUMENT, "a short statistics vector accepted");
    running[8] = -1;
    CHECK(an_net_set_mode(net, 0, 0, running.data(), 12) == AN_E_ARGUMENT, "a negative variance accepted");
    CHECK(std::string(an_last_error()).find("running statistic 8 = -1") != std::string::npos, "message: %s", an_last_error());
    CHECK(an_net_batch_statistics(net, running.data(), 12) == AN_E_STATE, "batch statistics without a cached point");
    std::vector<float> w(static_cast<size_t>(an_net_param_count(net)), 0.5f), x(24, 0.25f), t(12, 0.0f), grad(w.size());
    for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 7) - 2.0f;
    double f = 0;
    CHECK(an_net_set_mode(net, 1, 0, nullptr, 0) == AN_OK, "%s", an_last_error());
    CHECK(an_net_gradient(net, w.data(), x.data(), nullptr, t.data(), 4, grad.data(), &f) == AN_OK, "%s", an_last_error());
    CHECK(an_net_batch_statistics(net, running.data(), 12) == AN_OK, "%s", an_last_error());
    for (int c = 0; c < 6; ++c) {
        double mean = 0, var = 0;
        for (int r = 0; r < 4; ++r) mean += x[r * 6 + c] / 4;
        for (int r = 0; r < 4; ++r) var += (x[r * 6 + c] - mean) * (x[r * 6 + c] - mean) / 4;
        CHECK(std::fabs(running[c] - mean) < 1e-12 && std::fabs(running[6 + c] - var) < 1e-12, "batch statistics of channel %d: %g %g vs %g %g", c,
              running[c], running[6 + c], mean, var);
    }
    an_net_destroy(net);
}

static void test_vector_ops() {
    const long long n = 1003;
    auto x = randn(n, 9, 1.0f), y = randn(n, 10, 1.0f);
    double dot = 0;
    for (long long i = 0; i < n; ++i) dot += double(x[i]) * y[i];
    CHECK(std::fabs(an_dot(x.data(), y.data(), n) - dot) < 1e-9 * n, "dot");
    std::vector<float> z(y);
    an_axpy(2.0f, x.data(), z.data(), n);
    CHECK(std::fabs(z[17] - (y[17] + 2.0f * x[17])) < 1e-6f, "axpy");
    z[5] = NAN;
    long long first = 0;
    CHECK(an_count_nonfinite(z.data(), n, &first) == 1 && first == 5, "count_nonfinite");
}

// The reference engine of loop_engine.h over an explicit dense matrix (row-major n x n).
static LoopEngine dense_engine(long long n, const std::vector<double>& B) {
    return LoopEngine{n, [n, &B](const float* v, float* out) {
                          for (long long i = 0; i < n; ++i) {
                              double acc = 0;
                              for (long long j = 0; j < n; ++j) acc += B[i * n + j] * v[j];
                              out[i] = static_cast<float>(acc);
                          }
                          return AN_OK;
                      }};
}

// The Krylov driver (shared by the CPU and CUDA engines) on a dense SPD matrix: with a radius out
// of reach and n iterations, Steihaug and GLTR reach the Newton step -B^{-1} g in the metric
// diag(a); ARC with a tiny sigma nearly so; a small radius ends on the boundary ||s||_a = delta.
// The number of fetches (host synchronizations on the device) is 1 + 2 per CG iteration and
// 1 + 1 per Lanczos iteration.
static void test_krylov_driver() {
    const long long n = 12;
    std::vector<double> B(n * n), L(n * n);
    std::mt19937 rng(5);
    std::normal_distribution<double> N(0.0, 1.0);
    for (auto& v : L) v = N(rng);
    for (long long i = 0; i < n; ++i)
        for (long long j = 0; j < n; ++j) {
            double acc = i == j ? 2.0 : 0.0;
            for (long long k = 0; k < n; ++k) acc += L[i * n + k] * L[j * n + k] / n;
            B[i * n + j] = acc;
        }
    std::vector<float> g(n), a(n), s(n), work((5 + n) * n);
    for (long long i = 0; i < n; ++i) {
        g[i] = static_cast<float>(N(rng));
        a[i] = 0.5f + 0.25f * (i % 5);
    }
    // the Newton step by Gaussian elimination (double)
    std::vector<double> M(B), x(n);
    for (long long i = 0; i < n; ++i) x[i] = -g[i];
    for (long long c = 0; c < n; ++c)
        for (long long r = c + 1; r < n; ++r) {
            const double f = M[r * n + c] / M[c * n + c];
            for (long long k = c; k < n; ++k) M[r * n + k] -= f * M[c * n + k];
            x[r] -= f * x[c];
        }
    for (long long r = n - 1; r >= 0; --r) {
        for (long long k = r + 1; k < n; ++k) x[r] -= M[r * n + k] * x[k];
        x[r] /= M[r * n + r];
    }
    auto err = [&]() {
        double num = 0, den = 0;
        for (long long i = 0; i < n; ++i) {
            num += (s[i] - x[i]) * (s[i] - x[i]);
            den += x[i] * x[i];
        }
        return std::sqrt(num / den);
    };
    double result[AN_SOLVE_RESULT];
    for (int solver = 0; solver < 3; ++solver) {
        LoopEngine e = dense_engine(n, B);
        const int st = solver == 0 ? an::steihaug_solve(e, g.data(), a.data(), 1e6, static_cast<int>(n), 1e-7, 0, s.data(), work.data(), result)
                                   : an::lanczos_solve(e, solver == 2, g.data(), a.data(), solver == 2 ? 1e-8 : 1e6, static_cast<int>(n), 1e-7, 0,
                                                       s.data(), work.data(), result);
        CHECK(st == AN_OK, "solver %d status %d", solver, st);
        const int k = static_cast<int>(result[2]);
        CHECK(k >= 2 && k <= n, "solver %d: %d iterations", solver, k);
        CHECK(result[4] == an::EXIT_CONVERGED, "solver %d exit %g", solver, result[4]);
        CHECK(err() < 1e-3, "solver %d: relative error vs the Newton step %g", solver, err());
        const int expected = solver == 0 ? 1 + 2 * k : 1 + k;
        CHECK(e.fetches == expected, "solver %d: %d fetches in %d iterations, expected %d", solver, e.fetches, k, expected);
        CHECK(e.products == k, "solver %d: %d products in %d iterations", solver, e.products, k);
    }
    // a radius inside the Newton step: the step ends on the boundary in the metric diag(a)
    double newton = 0;
    for (long long i = 0; i < n; ++i) newton += a[i] * x[i] * x[i];
    const double delta = 0.3 * std::sqrt(newton);
    for (int solver = 0; solver < 2; ++solver) {
        LoopEngine e = dense_engine(n, B);
        if (solver == 0) an::steihaug_solve(e, g.data(), a.data(), delta, static_cast<int>(n), 1e-7, 0, s.data(), work.data(), result);
        else an::lanczos_solve(e, 0, g.data(), a.data(), delta, static_cast<int>(n), 1e-7, 0, s.data(), work.data(), result);
        double norm = 0;
        for (long long i = 0; i < n; ++i) norm += a[i] * double(s[i]) * s[i];
        CHECK(result[4] == an::EXIT_BOUNDARY, "solver %d exit %g, expected the boundary", solver, result[4]);
        CHECK(std::fabs(std::sqrt(norm) - delta) < 1e-4 * delta, "solver %d: ||s||_a = %g, radius %g", solver, std::sqrt(norm), delta);
        CHECK(result[0] > 0, "solver %d: model decrease %g", solver, result[0]);
    }
    // a NaN in the gradient is non-finite, not a zero gradient, for every solver
    g[3] = NAN;
    for (int solver = 0; solver < 3; ++solver) {
        LoopEngine e = dense_engine(n, B);
        if (solver == 0) an::steihaug_solve(e, g.data(), a.data(), 1.0, static_cast<int>(n), 1e-7, 0, s.data(), work.data(), result);
        else an::lanczos_solve(e, solver == 2, g.data(), a.data(), 1.0, static_cast<int>(n), 1e-7, 0, s.data(), work.data(), result);
        CHECK(result[4] == an::EXIT_NON_FINITE, "solver %d with a NaN gradient: exit %g, expected non-finite", solver, result[4]);
    }
}

// The solves over a caller's product (an_pool_*): a diagonal SPD matrix through a C callback; the
// converged step is -g / d inside a large radius; a failing product ends the solve with its status.
static std::vector<float> pool_diag;
static int pool_calls = 0, pool_fail_at = -1;
static int diag_product(long long v, long long out) {
    if (++pool_calls == pool_fail_at) return AN_E_STATE;
    const float* x = reinterpret_cast<const float*>(v);
    float* y = reinterpret_cast<float*>(out);
    for (size_t i = 0; i < pool_diag.size(); ++i) y[i] = pool_diag[i] * x[i];
    return AN_OK;
}

static void test_pool_solves() {
    const long long n = 70000;  // above the pool's per-thread minimum, so both threads work
    pool_diag.resize(n);
    std::vector<float> g(n), a(n, 1.0f), s(n), work(static_cast<size_t>((5 + 60) * n));
    for (long long i = 0; i < n; ++i) {
        pool_diag[i] = 1.0f + static_cast<float>(i % 7);
        g[i] = std::sin(0.01f * static_cast<float>(i));
    }
    an_pool* pool = an_pool_create(2);
    CHECK(pool != nullptr, "an_pool_create: %s", an_last_error());
    double result[AN_SOLVE_RESULT];
    for (int lanczos = 0; lanczos <= 1; ++lanczos) {
        pool_calls = 0;
        pool_fail_at = -1;
        const int st = lanczos ? an_pool_lanczos(pool, n, diag_product, 0, g.data(), a.data(), 1e6, 60, 1e-6, 0, s.data(), work.data(), result)
                               : an_pool_steihaug(pool, n, diag_product, g.data(), a.data(), 1e6, 60, 1e-6, 0, s.data(), work.data(), result);
        CHECK(st == AN_OK, "pool solve %d: %s", lanczos, an_last_error());
        CHECK(static_cast<int>(result[4]) == 0 && pool_calls == static_cast<int>(result[3]), "pool solve %d: exit %g, %d calls, %g products", lanczos,
              result[4], pool_calls, result[3]);
        double err = 0;
        for (long long i = 0; i < n; ++i) err = std::max(err, std::abs(static_cast<double>(s[i]) + g[i] / pool_diag[i]));
        CHECK(err < 1e-4, "pool solve %d: |s + g/d| = %g", lanczos, err);
        pool_calls = 0;
        pool_fail_at = 2;
        const int failed = lanczos ? an_pool_lanczos(pool, n, diag_product, 0, g.data(), a.data(), 1e6, 60, 1e-6, 0, s.data(), work.data(), result)
                                   : an_pool_steihaug(pool, n, diag_product, g.data(), a.data(), 1e6, 60, 1e-6, 0, s.data(), work.data(), result);
        CHECK(failed == AN_E_STATE && pool_calls == 2, "pool solve %d with a failing product: status %d after %d calls", lanczos, failed, pool_calls);
    }
    CHECK(an_pool_steihaug(pool, n, nullptr, g.data(), a.data(), 1, 5, 1e-6, 0, s.data(), work.data(), result) == AN_E_ARGUMENT, "null product accepted");
    CHECK(an_pool_create(0) == nullptr, "a pool of 0 threads accepted");
    an_pool_destroy(pool);
}

int main() {
    for (int act = AN_ACT_IDENTITY; act <= AN_ACT_GELU; ++act)
        for (int loss = AN_LOSS_SOFTMAX_CE; loss <= AN_LOSS_BCE; ++loss)
            for (int reg = AN_REG_NONE; reg <= AN_REG_NORM; ++reg) test_network(act, loss, reg, act % 2 == 0 ? 1 : 3);
    test_thread_split();
    test_graphs();
    test_dropout_mask();
    test_spec_refusals();
    test_errors();
    test_vector_ops();
    test_krylov_driver();
    test_pool_solves();
    if (failures == 0) std::printf("native tests: all passed\n");
    return failures == 0 ? 0 : 1;
}
