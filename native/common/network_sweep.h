// The network sweeps of adanewton, written once over a layer "engine" (as krylov_driver.h is for
// the Krylov solves): forward, backpropagation, Pearlmutter's R-forward and R-backward, their
// compositions (loss, gradient, HVP from scratch, Hessian or Gauss-Newton product at the cached
// point) and the regularizer's terms. The CPU engine (native/cpu/network.cpp) runs a sweep per
// block of rows on each pool thread with OpenBLAS; the CUDA engine (native/cuda/network.cu) runs it
// over the whole batch with cuBLAS and kernels.
//
// A dense or conv layer is z = L_W(x) + b, a = phi(z) with L_W linear in W and in x; pooling is
// linear in x with a fixed pattern (max: the forward argmax). Per layer l: ga = dL/da,
// gz = dL/dz = phi'(z) ga and R(gz) = phi''(z) Rz ga + phi' R(ga); for every phi but GELU,
// phi''(z) = kappa(a) phi'(z), so R(gz) = kappa Rz gz + phi' R(ga) from a alone; for GELU
// (act_needs_z in network_spec.h) the engine keeps z and the point's ga as well. Buffers per layer
// (rows x out_size): A (a), G (ga, then gz), RZ (Rz), RA (Ra; RZ itself for identity layers) and
// RG (R(ga), then R(gz)); for a GELU layer also Z (z) and GA (the point's ga).
//
// An engine E provides, for the rows it covers:
//   const Topology& topology() const;
//   float* A(size_t l); float* G(size_t l); float* RZ(size_t l); float* RA(size_t l); float* RG(size_t l);
//   const float* input(size_t l);    the layer's input at the point (the rows of x, or A(l - 1))
//   void lower(size_t l, Source s);  prepares a conv layer's lowered (im2col) source for the
//                                    linear and outer calls that follow (an engine may lower lazily)
//   void linear(size_t l, const float* W, Source s, float beta, float* z);   z = beta z + L_W(s)
//   void linear_t(size_t l, const float* W, const float* g, float beta, float* gx);  gx = beta gx + L_W'(g)
//   void linear_t_pair(size_t l, const float* W, const float* g1, const float* V, const float* g2, float* gx);
//        gx = L_W'(g1) + L_V'(g2)
//   void outer(size_t l, const float* g, Source s, float beta, float* dW);   dW = beta dW + sum over rows g s'
//   void bias_act(size_t l, const float* b);   A = phi(A + b) (GELU: Z = A + b, A = phi(Z))
//   void back_act(size_t l, float* D, bool point);  D = phi'(z) D; point: D is the point's G
//                                    (GELU: GA = D first)
//   void rfwd_act(size_t l, const float* vb);  RZ += vb; RA = phi'(z) RZ
//   void rbwd_act(size_t l);                   RG = phi''(z) RZ ga + phi'(z) RG (kappa(A) RZ G, or
//                                    from Z and GA for GELU)
//   void bias_grad(size_t l, const float* D, float* db);  db = the sums of D over rows (and positions);
//                                    called right after the activation pass that wrote D (the CPU
//                                    engine sums D in that pass; an engine may rely on it)
//   void pool_forward(size_t l);               A(l) = pool(input(l)) (max: records the argmax)
//   void pool_apply(size_t l, const float* rx, float* ry);   ry = P rx (max: the recorded argmax)
//   void pool_transpose(size_t l, const float* gy, float* gx);  gx = P' gy (overwritten)
//   void zero(size_t l, float* x);             x (rows x out_size of layer l) = 0
//   void top(float* ga);   the loss of the rows (kept by the engine); dL/da of the output into ga if non-null
//   void top_r();          RG(last) = the loss' Hessian in a times RA(last)
// and, for the regularizer (over the whole parameter vector), a vector engine V:
//   void axpy(float alpha, const float* x, float* y, long long off, long long n);  y += alpha x on [off, off + n)
//   void norm_hessian(size_t i, double c1, double c3, const float* w, const float* v, float* hv);
//        hv += c1 v - c3 (w'v) w on tensor i
#ifndef ADANEWTON_NETWORK_SWEEP_H
#define ADANEWTON_NETWORK_SWEEP_H

#include <cmath>

#include "network_spec.h"

namespace an {

// Which input of a layer an operation reads: the input at the point (x or the previous layer's A)
// or its R-input (the previous layer's RA).
enum class Source { input, r_input };

// Curvature kinds of the cached products (the `curvature` argument of the C API).
constexpr int CURVATURE_HESSIAN = 0, CURVATURE_GAUSS_NEWTON = 1;

template <class E>
void forward(E& e, const float* w) {
    const auto& layers = e.topology().layers;
    for (size_t l = 0; l < layers.size(); ++l) {
        const Layer& L = layers[l];
        if (!L.has_params()) {
            e.pool_forward(l);
            continue;
        }
        e.lower(l, Source::input);
        e.linear(l, w + L.w_off, Source::input, 0.0f, e.A(l));
        e.bias_act(l, w + L.b_off);
    }
}

// Backpropagation of the output vector in D(last) (dL/da): each D(l) becomes phi'(z) D(l) (the
// cached gz when D is G: point), grad gets the weight and bias gradients. With D = RG it is the
// Gauss-Newton product's J' step (G untouched).
template <class E, class D>
void backprop(E& e, D delta, bool point, const float* w, float* grad) {
    const auto& layers = e.topology().layers;
    for (size_t l = layers.size(); l-- > 0;) {
        const Layer& L = layers[l];
        if (!L.has_params()) {
            if (l > 0) e.pool_transpose(l, delta(l), delta(l - 1));
            continue;
        }
        e.back_act(l, delta(l), point);
        e.bias_grad(l, delta(l), grad + L.b_off);
        e.outer(l, delta(l), Source::input, 0.0f, grad + L.w_off);
        if (l > 0) e.linear_t(l, w + L.w_off, delta(l), 0.0f, delta(l - 1));
    }
}

// RZ, RA of every layer for the direction v.
template <class E>
void r_forward(E& e, const float* w, const float* v) {
    const auto& layers = e.topology().layers;
    for (size_t l = 0; l < layers.size(); ++l) {
        const Layer& L = layers[l];
        if (!L.has_params()) {
            if (l == 0) e.zero(l, e.RZ(l));
            else e.pool_apply(l, e.RA(l - 1), e.RZ(l));
            continue;
        }
        e.linear(l, v + L.w_off, Source::input, 0.0f, e.RZ(l));
        if (l > 0) {
            e.lower(l, Source::r_input);
            e.linear(l, w + L.w_off, Source::r_input, 1.0f, e.RZ(l));
        }
        e.rfwd_act(l, v + L.b_off);
    }
}

// R-backward from R(ga) in RG(last), with gz cached in G (with_backward: G holds ga and the plain
// backward runs in the same sweep, without weight gradients). out gets R(grad).
template <class E>
void r_backward(E& e, const float* w, const float* v, float* out, bool with_backward) {
    const auto& layers = e.topology().layers;
    for (size_t l = layers.size(); l-- > 0;) {
        const Layer& L = layers[l];
        if (!L.has_params()) {
            if (l > 0) {
                e.pool_transpose(l, e.RG(l), e.RG(l - 1));
                if (with_backward) e.pool_transpose(l, e.G(l), e.G(l - 1));
            }
            continue;
        }
        if (with_backward) e.back_act(l, e.G(l), true);
        e.rbwd_act(l);
        e.bias_grad(l, e.RG(l), out + L.b_off);
        e.outer(l, e.RG(l), Source::input, 0.0f, out + L.w_off);
        if (l > 0) {
            e.outer(l, e.G(l), Source::r_input, 1.0f, out + L.w_off);
            e.linear_t_pair(l, w + L.w_off, e.RG(l), v + L.w_off, e.G(l), e.RG(l - 1));
            if (with_backward) e.linear_t(l, w + L.w_off, e.G(l), 0.0f, e.G(l - 1));
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
    r_forward(e, w, v);
    e.top(e.G(e.topology().last()));
    e.top_r();
    r_backward(e, w, v, out, true);
}

// The Hessian (CURVATURE_HESSIAN) or Gauss-Newton (CURVATURE_GAUSS_NEWTON) matrix times v at the
// cached point.
template <class E>
void sweep_product(E& e, int curvature, const float* w, const float* v, float* out) {
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
