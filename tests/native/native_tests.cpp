// Native tests of the C API without the JVM (run under ASan/UBSan with -DADANEWTON_SANITIZE=ON):
// gradient and HVP against finite differences in float (loose tolerances), HVP symmetry, the
// thread split (1 vs 3 threads), error statuses, and the vector operations.
#include "adanewton.h"
#include "../../native/common/krylov_driver.h"
#include "check.h"
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
    double result[6];
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

int main() {
    for (int act = AN_ACT_IDENTITY; act <= AN_ACT_GELU; ++act)
        for (int loss = AN_LOSS_SOFTMAX_CE; loss <= AN_LOSS_BCE; ++loss)
            for (int reg = AN_REG_NONE; reg <= AN_REG_NORM; ++reg) test_network(act, loss, reg, act % 2 == 0 ? 1 : 3);
    test_thread_split();
    test_errors();
    test_vector_ops();
    test_krylov_driver();
    if (failures == 0) std::printf("native tests: all passed\n");
    return failures == 0 ? 0 : 1;
}
