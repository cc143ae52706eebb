// The network sweeps of adanewton, written once over a layer "engine" (as krylov_driver.h is for
// the Krylov solves): forward, backpropagation, Pearlmutter's R-forward and R-backward over a graph
// of layers (network_spec.h), their compositions (loss, gradient, HVP from scratch, Hessian or
// Gauss-Newton product at the cached point) and the regularizer's terms. The CPU engine
// (native/cpu/network.cpp) runs a sweep per block of rows on each pool thread with OpenBLAS; the
// CUDA engine (native/cuda/network.cu) runs it over the whole batch with cuBLAS and kernels.
//
// A layer is z = M(inputs) (dense, conv: L_W(x), linear in W and in x; batch and layer norm:
// gamma xhat; pooling, global average pooling, dropout, embedding, add, concat, activate: fixed
// maps), then a = phi(z + b) where the layer has a bias or an activation (the "activation pass").
// The forward runs the layers in order; the backward passes run them in reverse, so every reader of
// an output has added its share of that output's gradient before the output's own layer is
// reached: the first reader reached overwrites the gradient, the later ones add to it
// (Layer::first). Per layer l: ga = dL/da, gz = dL/dz = phi'(z) ga and
// R(gz) = phi''(z) Rz ga + phi' R(ga); for every phi but GELU, phi''(z) = kappa(a) phi'(z), so
// R(gz) = kappa Rz gz + phi' R(ga) from a alone; for GELU (act_needs_z) the engine keeps z and the
// point's ga as well. Buffers per layer (rows x out_size): A (a), G (ga, then gz), RZ (Rz), RA (Ra;
// RZ itself for identity layers) and RG (R(ga), then R(gz)); for a GELU layer also Z and GA. The
// network's input has no gradient and no R-input (0).
//
// An engine E provides, for the rows it covers:
//   const Topology& topology() const;
//   float* A(size_t l); float* G(size_t l); float* RZ(size_t l); float* RA(size_t l); float* RG(size_t l);
//   const float* input(size_t l, int j);  input j of layer l at the point (x's rows or an A)
//   void lower(size_t l, Source s);  prepares a conv layer's lowered (im2col) source for the
//                                    linear and outer calls that follow (an engine may lower lazily)
//   void linear(size_t l, const float* W, Source s, float beta, float* z);   z = beta z + L_W(s)
//   void linear_t(size_t l, const float* W, const float* g, float beta, float* gx);  gx = beta gx + L_W'(g)
//   void linear_t_pair(size_t l, const float* W, const float* g1, const float* V, const float* g2, float beta, float* gx);
//        gx = beta gx + L_W'(g1) + L_V'(g2)
//   void outer(size_t l, const float* g, Source s, float beta, float* dW);   dW = beta dW + sum over rows g s'
//   void bias_act(size_t l, const float* b);   A = phi(A + b) (b null: no bias; GELU: Z = A + b, A = phi(Z))
//   void back_act(size_t l, float* D, bool point);  D = phi'(z) D; point: D is the point's G (GELU: GA = D first)
//   void rfwd_act(size_t l, const float* vb);  RZ += vb (vb null: none); RA = phi'(z) RZ
//   void rbwd_act(size_t l);                   RG = phi''(z) RZ ga + phi'(z) RG
//   void bias_grad(size_t l, const float* D, float* db);  db = the sums of D per bias; called right
//                                    after the activation pass that wrote D (the CPU engine sums D
//                                    in that pass; an engine may rely on it)
//   void pool_forward(size_t l);               A(l) = pool(input(l, 0)) (max: records the argmax)
//   void pool_apply(size_t l, const float* rx, float* ry);   ry = P rx (max: the recorded argmax)
//   void pool_transpose(size_t l, const float* gy, float beta, float* gx);  gx = beta gx + P' gy
//   void gap(size_t l, const float* x, float* y);              y = the channels' means of x
//   void gap_t(size_t l, const float* gy, float beta, float* gx);  gx = beta gx + (its transpose) gy
//   void dropout(size_t l, const float* x, float beta, float* y);  y = beta y + D x, D the mask over
//                                    1 - p in training mode, the identity in evaluation mode
//   void embed(size_t l, const float* W, float* y);            y = the rows of W the indices pick
//   void embed_t(size_t l, const float* g, float* dW);         dW = their scatter-sum of g
//   void copy_rows(int len, const float* x, int x_stride, float beta, float* y, int y_stride);
//        per row y = beta y + x over len values (x null: zeros)
//   void norm_forward(size_t l, const float* gamma);  A(l) = gamma xhat (batch norm in training
//                                    mode and layer norm: the statistics of x; batch norm in
//                                    evaluation mode: the running statistics)
//   void norm_backward(size_t l, const float* gamma, const float* gz, bool point, float* dgamma, float* gx, float beta);
//        dgamma = sum gz xhat (if non-null); gx = beta gx + J' gz (if non-null); point: keeps the sums for R-backward
//   void norm_rforward(size_t l, const float* gamma, const float* vgamma, const float* rx);  RZ(l) = R(gamma xhat)
//                                    (rx null: 0); keeps the sums for R-backward
//   void norm_rbackward(size_t l, const float* gamma, const float* vgamma, float* rdgamma, float* rgx, float beta);
//        rdgamma = R(dgamma); rgx = beta rgx + R(gx) (if non-null), from G(l) = gz and RG(l) = R(gz)
//   void zero(size_t l, float* x);             x (rows x out_size of layer l) = 0
//   void top(float* ga);   the loss of the rows (kept by the engine); dL/da of the output into ga if non-null
//   void top_r();          RG(last) = the loss' Hessian in a times RA(last)
//   bool product_gemms() const; void product_gemms(bool on);  whether the linear, linear_t,
//                                    linear_t_pair and outer calls that follow belong to a
//                                    curvature product's R-passes (see ProductGemms); the engine
//                                    may run those in its product precision (the CUDA engine:
//                                    TF32 or BF16 operands, fp32 accumulation), the others in fp32
// and, for the regularizer (over the whole parameter vector), a vector engine V:
//   void axpy(float alpha, const float* x, float* y, long long off, long long n);  y += alpha x on [off, off + n)
//   void norm_hessian(size_t i, double c1, double c3, const float* w, const float* v, float* hv);
//        hv += c1 v - c3 (w'v) w on tensor i
#ifndef ADANEWTON_NETWORK_SWEEP_H
#define ADANEWTON_NETWORK_SWEEP_H

#include <cmath>

#include "network_spec.h"

namespace an {

// Which input of a dense or conv layer an operation reads: the input at the point or its R-input.
enum class Source { input, r_input };

// Curvature kinds of the cached products (the `curvature` argument of the C API).
constexpr int CURVATURE_HESSIAN = 0, CURVATURE_GAUSS_NEWTON = 1;

// Marks, for its scope, whether the engine's GEMMs belong to a curvature product (on: the
// R-forward, the R-backward and Gauss-Newton's backpropagation of R(ga); off: the forward and
// backward at the point, which a product from scratch runs in the same sweep), and restores the
// previous marking on exit, also when a primitive throws. The point's state (A, G) and every
// gradient and loss are therefore always computed in fp32.
template <class E>
class ProductGemms {
  public:
    ProductGemms(E& e, bool on) : e_(e), was_(e.product_gemms()) { e_.product_gemms(on); }
    ~ProductGemms() { e_.product_gemms(was_); }
    ProductGemms(const ProductGemms&) = delete;
    ProductGemms& operator=(const ProductGemms&) = delete;

  private:
    E& e_;
    const bool was_;
};

// The R-value of input j of layer l (null: the network's input, whose R-value is 0).
template <class E>
const float* r_input(E& e, size_t l, int j) {
    const int i = e.topology().layers[l].in[j];
    return i < 0 ? nullptr : e.RA(static_cast<size_t>(i));
}

// The map of a parameter-free joining or elementwise layer (add, activate, concat) applied to the
// per-input sources src(j) (null: 0) into y.
template <class E, class S>
void join_forward(E& e, const Layer& L, S src, float* y) {
    for (int j = 0; j < L.n_in; ++j) {
        if (L.kind == AN_LAYER_CONCAT) {
            const int len = L.parts[j] * L.positions;
            e.copy_rows(len, src(j), len, 0.0f, y + L.part_offset(j), L.out_size);
        } else {
            e.copy_rows(L.out_size, src(j), L.out_size, j == 0 ? 0.0f : 1.0f, y, L.out_size);
        }
    }
}

// The transpose of join_forward: each input's gradient in delta gets its share of g.
template <class E, class D>
void join_backward(E& e, const Layer& L, const float* g, D delta) {
    for (int j = 0; j < L.n_in; ++j) {
        if (L.in[j] < 0) continue;
        const float beta = L.first[j] ? 0.0f : 1.0f;
        float* gx = delta(static_cast<size_t>(L.in[j]));
        if (L.kind == AN_LAYER_CONCAT) {
            const int len = L.parts[j] * L.positions;
            e.copy_rows(len, g + L.part_offset(j), L.out_size, beta, gx, len);
        } else {
            e.copy_rows(L.out_size, g, L.out_size, beta, gx, L.out_size);
        }
    }
}

// The linear parameter-free single-input maps (pooling, global average pooling, dropout) and
// their transposes.
template <class E>
void fixed_apply(E& e, size_t l, const float* x, float* y) {
    const Layer& L = e.topology().layers[l];
    if (x == nullptr) e.zero(l, y);
    else if (L.kind == AN_LAYER_GLOBALAVGPOOL) e.gap(l, x, y);
    else if (L.kind == AN_LAYER_DROPOUT) e.dropout(l, x, 0.0f, y);
    else e.pool_apply(l, x, y);
}
template <class E>
void fixed_transpose(E& e, size_t l, const float* g, float beta, float* gx) {
    const Layer& L = e.topology().layers[l];
    if (L.kind == AN_LAYER_GLOBALAVGPOOL) e.gap_t(l, g, beta, gx);
    else if (L.kind == AN_LAYER_DROPOUT) e.dropout(l, g, beta, gx);
    else e.pool_transpose(l, g, beta, gx);
}
inline bool is_fixed(int kind) {
    return kind == AN_LAYER_MAXPOOL2D || kind == AN_LAYER_AVGPOOL2D || kind == AN_LAYER_GLOBALAVGPOOL || kind == AN_LAYER_DROPOUT;
}
inline bool is_join(int kind) { return kind == AN_LAYER_ADD || kind == AN_LAYER_CONCAT || kind == AN_LAYER_ACTIVATE; }

template <class E>
void forward(E& e, const float* w) {
    const auto& layers = e.topology().layers;
    for (size_t l = 0; l < layers.size(); ++l) {
        const Layer& L = layers[l];
        switch (L.kind) {
            case AN_LAYER_DENSE:
            case AN_LAYER_CONV2D:
                e.lower(l, Source::input);
                e.linear(l, w + L.w_off, Source::input, 0.0f, e.A(l));
                break;
            case AN_LAYER_MAXPOOL2D:
            case AN_LAYER_AVGPOOL2D: e.pool_forward(l); break;
            case AN_LAYER_GLOBALAVGPOOL: e.gap(l, e.input(l, 0), e.A(l)); break;
            case AN_LAYER_DROPOUT: e.dropout(l, e.input(l, 0), 0.0f, e.A(l)); break;
            case AN_LAYER_EMBEDDING: e.embed(l, w + L.w_off, e.A(l)); break;
            case AN_LAYER_BATCHNORM:
            case AN_LAYER_LAYERNORM: e.norm_forward(l, w + L.w_off); break;
            default: join_forward(e, L, [&e, l](int j) { return e.input(l, j); }, e.A(l)); break;
        }
        if (L.activated()) e.bias_act(l, L.has_bias() ? w + L.b_off : nullptr);
    }
}

// Backpropagation of the output vector in D(last) (dL/da): each D(l) becomes phi'(z) D(l) (the
// cached gz when D is G: point), grad gets the parameters' gradients. With D = RG it is the
// Gauss-Newton product's J' step (G untouched).
template <class E, class D>
void backprop(E& e, D delta, bool point, const float* w, float* grad) {
    const auto& layers = e.topology().layers;
    for (size_t l = layers.size(); l-- > 0;) {
        const Layer& L = layers[l];
        float* d = delta(l);
        if (L.activated()) e.back_act(l, d, point);
        if (L.has_bias()) e.bias_grad(l, d, grad + L.b_off);
        const int in = L.in[0];
        const float beta = L.first[0] ? 0.0f : 1.0f;
        float* gx = in < 0 ? nullptr : delta(static_cast<size_t>(in));
        switch (L.kind) {
            case AN_LAYER_DENSE:
            case AN_LAYER_CONV2D:
                e.outer(l, d, Source::input, 0.0f, grad + L.w_off);
                if (gx) e.linear_t(l, w + L.w_off, d, beta, gx);
                break;
            case AN_LAYER_EMBEDDING: e.embed_t(l, d, grad + L.w_off); break;
            case AN_LAYER_BATCHNORM:
            case AN_LAYER_LAYERNORM: e.norm_backward(l, w + L.w_off, d, point, grad + L.w_off, gx, beta); break;
            default:
                if (is_join(L.kind)) join_backward(e, L, d, delta);
                else if (gx) fixed_transpose(e, l, d, beta, gx);
                break;
        }
    }
}

// RZ, RA of every layer for the direction v.
template <class E>
void r_forward(E& e, const float* w, const float* v) {
    const auto& layers = e.topology().layers;
    for (size_t l = 0; l < layers.size(); ++l) {
        const Layer& L = layers[l];
        switch (L.kind) {
            case AN_LAYER_DENSE:
            case AN_LAYER_CONV2D:
                e.linear(l, v + L.w_off, Source::input, 0.0f, e.RZ(l));
                if (L.in[0] >= 0) {
                    e.lower(l, Source::r_input);
                    e.linear(l, w + L.w_off, Source::r_input, 1.0f, e.RZ(l));
                }
                break;
            case AN_LAYER_EMBEDDING: e.embed(l, v + L.w_off, e.RZ(l)); break;
            case AN_LAYER_BATCHNORM:
            case AN_LAYER_LAYERNORM: e.norm_rforward(l, w + L.w_off, v + L.w_off, r_input(e, l, 0)); break;
            default:
                if (is_join(L.kind)) join_forward(e, L, [&e, l](int j) { return r_input(e, l, j); }, e.RZ(l));
                else fixed_apply(e, l, r_input(e, l, 0), e.RZ(l));
                break;
        }
        if (L.activated()) e.rfwd_act(l, L.has_bias() ? v + L.b_off : nullptr);
    }
}

// R-backward from R(ga) in RG(last), with gz cached in G (with_backward: G holds ga and the plain
// backward runs in the same sweep, without parameter gradients). out gets R(grad).
template <class E>
void r_backward(E& e, const float* w, const float* v, float* out, bool with_backward) {
    const auto& layers = e.topology().layers;
    auto G = [&e](size_t i) { return e.G(i); };
    auto RG = [&e](size_t i) { return e.RG(i); };
    for (size_t l = layers.size(); l-- > 0;) {
        const Layer& L = layers[l];
        if (L.activated()) {
            if (with_backward) e.back_act(l, e.G(l), true);
            e.rbwd_act(l);
        }
        if (L.has_bias()) e.bias_grad(l, e.RG(l), out + L.b_off);
        const int in = L.in[0];
        const float beta = L.first[0] ? 0.0f : 1.0f;
        float* rgx = in < 0 ? nullptr : e.RG(static_cast<size_t>(in));
        float* gx = in < 0 || !with_backward ? nullptr : e.G(static_cast<size_t>(in));
        switch (L.kind) {
            case AN_LAYER_DENSE:
            case AN_LAYER_CONV2D:
                e.outer(l, e.RG(l), Source::input, 0.0f, out + L.w_off);
                if (in >= 0) {
                    e.outer(l, e.G(l), Source::r_input, 1.0f, out + L.w_off);
                    e.linear_t_pair(l, w + L.w_off, e.RG(l), v + L.w_off, e.G(l), beta, rgx);
                    if (gx) {  // the plain backward at the point: fp32
                        ProductGemms<E> point(e, false);
                        e.linear_t(l, w + L.w_off, e.G(l), beta, gx);
                    }
                }
                break;
            case AN_LAYER_EMBEDDING: e.embed_t(l, e.RG(l), out + L.w_off); break;
            case AN_LAYER_BATCHNORM:
            case AN_LAYER_LAYERNORM:
                if (with_backward) e.norm_backward(l, w + L.w_off, e.G(l), true, nullptr, gx, beta);
                e.norm_rbackward(l, w + L.w_off, v + L.w_off, out + L.w_off, rgx, beta);
                break;
            default:
                if (is_join(L.kind)) {
                    join_backward(e, L, e.RG(l), RG);
                    if (with_backward) join_backward(e, L, e.G(l), G);
                } else if (in >= 0) {
                    fixed_transpose(e, l, e.RG(l), beta, rgx);
                    if (gx) fixed_transpose(e, l, e.G(l), beta, gx);
                }
                break;
        }
    }
}

// ---- the compositions the C API exposes (the regularizer is added by the caller) ----

// The loss of the rows (kept by the engine).
template <class E>
void sweep_loss(E& e, const float* w) {
    forward(e, w);
    e.top(nullptr);
}

// The loss and its gradient; leaves the point cached (A, G) for the products.
template <class E>
void sweep_gradient(E& e, const float* w, float* grad) {
    forward(e, w);
    e.top(e.G(e.topology().last()));
    backprop(e, [&e](size_t l) { return e.G(l); }, true, w, grad);
}

// The loss and the Hessian times v from scratch, in one sweep; leaves the point cached.
template <class E>
void sweep_hvp(E& e, const float* w, const float* v, float* out) {
    forward(e, w);
    {
        ProductGemms<E> product(e, true);
        r_forward(e, w, v);
    }
    e.top(e.G(e.topology().last()));
    e.top_r();
    ProductGemms<E> product(e, true);
    r_backward(e, w, v, out, true);
}

// The Hessian (CURVATURE_HESSIAN) or Gauss-Newton (CURVATURE_GAUSS_NEWTON) matrix times v at the
// cached point.
template <class E>
void sweep_product(E& e, int curvature, const float* w, const float* v, float* out) {
    ProductGemms<E> product(e, true);
    r_forward(e, w, v);
    e.top_r();
    if (curvature == CURVATURE_GAUSS_NEWTON) backprop(e, [&e](size_t l) { return e.RG(l); }, false, w, out);
    else r_backward(e, w, v, out, false);
}
// ---- the regularizer, tensor by tensor: lambda/2 ||w||^2 (squared) or lambda sum ||T|| (norm) ----

// The regularizer's value at w from the tensors' squared norms sq (for the squared regularizer only
// their sum counts: an engine may put the whole ||w||^2 in sq[0] and zeros after it); adds its
// gradient to grad (if non-null) and keeps the tensors' norms in norms for regularizer_hvp.
template <class V>
double regularizer_value(V& e, const Topology& t, const double* sq, const float* w, float* grad, double* norms) {
    if (!t.regularized()) return 0;
    double value = 0;
    if (t.reg == AN_REG_SQUARED) {
        for (size_t i = 0; i < t.tensors.size(); ++i) value += 0.5 * t.lambda * sq[i];
        if (grad) e.axpy(static_cast<float>(t.lambda), w, grad, 0, t.params);
        return value;
    }
    for (size_t i = 0; i < t.tensors.size(); ++i) {
        const double norm = std::sqrt(sq[i]);
        norms[i] = norm;
        value += t.lambda * norm;
        if (grad && norm > 0) e.axpy(static_cast<float>(t.lambda / norm), w, grad, t.tensors[i].off, t.tensors[i].len);
    }
    return value;
}

// hv += the regularizer's Hessian at w times v, with the norms regularizer_value kept. For
// lambda ||T|| the Hessian is lambda (I/||T|| - T T'/||T||^3); at T = 0 (not differentiable) it is
// taken as 0.
template <class V>
void regularizer_hvp(V& e, const Topology& t, const double* norms, const float* w, const float* v, float* hv) {
    if (!t.regularized()) return;
    if (t.reg == AN_REG_SQUARED) {
        e.axpy(static_cast<float>(t.lambda), v, hv, 0, t.params);
        return;
    }
    for (size_t i = 0; i < t.tensors.size(); ++i) {
        const double norm = norms[i];
        if (!(norm > 0)) continue;
        e.norm_hessian(i, t.lambda / norm, t.lambda / (norm * norm * norm), w, v, hv);
    }
}

}  // namespace an

#endif
