/*
 * adanewton native C API (CPU kernels on OpenBLAS; CUDA probe).
 *
 * Conventions
 *  - Every function that can fail returns an int status: AN_OK (0) or a negative AN_E_* code, and
 *    leaves a message for the calling thread in an_last_error(). Nothing here aborts the process:
 *    C++ exceptions are caught at this boundary.
 *  - Java validates shapes, lengths and indices before calling; the checks here are a second line.
 *  - Vectors are float32, contiguous; reductions accumulate in double.
 *  - Parameters of a network live in one flat vector: for each dense layer W (out x in, row-major,
 *    as PyTorch's Linear.weight) followed by b (out, when it has one); for each conv2d W
 *    (out_ch x in_ch x k x k, as PyTorch's Conv2d.weight) followed by b (out_ch, when it has one);
 *    for each batch or layer norm gamma then beta (channels, or the group's size); for each
 *    embedding W (vocabulary x dim, as PyTorch's Embedding.weight).
 */
#ifndef ADANEWTON_H
#define ADANEWTON_H

#ifdef __cplusplus
extern "C" {
#endif

enum {
    AN_OK = 0,
    AN_E_ARGUMENT = -1,   /* invalid argument (null pointer, size out of range) */
    AN_E_MEMORY = -2,     /* allocation failed */
    AN_E_STATE = -3,      /* call out of order (e.g. cached product before any gradient) */
    AN_E_INTERNAL = -4    /* unexpected C++ exception */
};

/* Layer kinds in a network spec (Java: Network.nativeSpec). */
enum {
    AN_LAYER_DENSE = 1, AN_LAYER_CONV2D = 2, AN_LAYER_MAXPOOL2D = 3, AN_LAYER_AVGPOOL2D = 4, AN_LAYER_BATCHNORM = 5,
    AN_LAYER_LAYERNORM = 6, AN_LAYER_GLOBALAVGPOOL = 7, AN_LAYER_DROPOUT = 8, AN_LAYER_EMBEDDING = 9, AN_LAYER_ADD = 10,
    AN_LAYER_CONCAT = 11, AN_LAYER_ACTIVATE = 12
};
/* Ints per layer in a spec: kind, activation, input count (1 to AN_MAX_INPUTS), AN_MAX_INPUTS input
 * layer indices (earlier layers of the spec; -1 the network's input; unused ones -1), has-bias (0/1),
 * then 8 parameters:
 *   dense:          out
 *   conv2d:         in_channels, in_height, in_width, out_channels, kernel, stride, padding
 *   max/avgpool2d:  channels, in_height, in_width, kernel, stride
 *   batchnorm:      channels, positions, eps (float bits)
 *   layernorm:      groups, size, eps (float bits)
 *   globalavgpool:  channels, positions
 *   dropout:        size, p (float bits), the layer's index in Network.layers() and the mask's
 *                   threshold floor(p 2^24) (Network.dropoutKeeps: kept when hash >> 40 >= it)
 *   embedding:      vocabulary, dim, length
 *   add:            size
 *   concat:         positions, then each input's channel count
 *   activate:       size
 * Inputs and outputs are NCHW per sample (a flat vector for dense layers: flattening is free). A
 * graph: the layers in topological order, the last one the output, every other one read by a later
 * one. An embedding reads the network's input, whose values are then its indices (integers in
 * [0, vocabulary), checked). */
#define AN_SPEC_INTS_PER_LAYER 16
#define AN_MAX_INPUTS 4
/* Activations (applied after a dense, conv2d, norm or add layer, or on their own). */
enum { AN_ACT_IDENTITY = 0, AN_ACT_TANH = 1, AN_ACT_SIGMOID = 2, AN_ACT_RELU = 3, AN_ACT_SOFTPLUS = 4, AN_ACT_GELU = 5 };
/* Losses on the network's output. */
enum { AN_LOSS_SOFTMAX_CE = 1, AN_LOSS_SQUARED_MEAN = 2, AN_LOSS_SQUARED_SUM = 3,
       AN_LOSS_BCE = 4 /* sigmoid output + binary cross-entropy, from the logits; per-sample sum, batch mean */ };
/* L2 regularization over every parameter tensor T (each W and each b). */
enum { AN_REG_NONE = 0, AN_REG_SQUARED = 1 /* lambda/2 * sum_T ||T||^2 */, AN_REG_NORM = 2 /* lambda * sum_T ||T|| */ };
/* Operation kinds for an_net_gemm_floor. */
enum { AN_OP_FORWARD = 0, AN_OP_GRADIENT = 1, AN_OP_HVP = 2, AN_OP_HVP_CACHED = 3, AN_OP_GN_CACHED = 4 };

/* The message of the last failed call on this thread ("" if none). */
const char* an_last_error(void);

/* Runtime facts: OpenBLAS configuration and core name, written into buf (NUL-terminated). */
void an_runtime_info(char* buf, int len);
/* Number of OpenBLAS threads used for a plain (full-batch) sgemm; the network kernels split the
 * batch over their own threads and call single-threaded sgemm from each. */
void an_set_blas_threads(int threads);
int an_get_blas_threads(void);
/* The CPU's vector instruction sets that matter for the GEMMs (__builtin_cpu_supports): a bit mask
 * of AN_CPU_* values. */
enum { AN_CPU_AVX2 = 1, AN_CPU_AVX512F = 2, AN_CPU_AVX512BW = 4, AN_CPU_AVX512VL = 8, AN_CPU_AVX512BF16 = 16 };
int an_cpu_features(void);

/* ---- Networks ---------------------------------------------------------------------------------
 * spec = { input_size, n_layers, then AN_SPEC_INTS_PER_LAYER ints per layer (see above) }.
 * max_batch bounds the batch of every later call; threads splits each batch into row blocks. */
typedef struct an_net an_net;

an_net* an_net_create(const int* spec, int spec_len, int loss, int reg, double lambda,
                      int max_batch, int threads);
void an_net_destroy(an_net* net);
long long an_net_param_count(const an_net* net);

/* The mode (Java: NetworkModel.setTraining, setDropoutSeed, setRunningStatistics): training (1:
 * batch norm normalizes with the batch's statistics and its curvature differentiates through
 * them; dropout applies the mask of dropout_seed) or evaluation (0: batch norm uses the running
 * statistics, dropout is the identity). running: per batch norm layer, in spec order, its channels'
 * means then their variances (count = 2 x the batch norm channels), or null with count 0 to keep
 * the current ones. Drops the cached point. A new network is in training mode with seed 0, means 0 and variances 1. */
int an_net_set_mode(an_net* net, int training, long long dropout_seed, const double* running, long long count);
/* The batch statistics of the cached point (training mode), in the running statistics' layout:
 * per batch norm layer its channels' means, then their biased variances. */
int an_net_batch_statistics(an_net* net, double* out, long long count);

/* labels (softmax CE, ints in [0, classes)) or targets (squared error, batch x out floats); the
 * other pointer may be null. */
int an_net_forward(an_net* net, const float* w, const float* x, int batch, float* out);
int an_net_loss(an_net* net, const float* w, const float* x, const int* labels, const float* targets,
                int batch, double* loss);
/* Loss and gradient; caches the forward state at (w, x, labels/targets) for the *_cached calls.
 * w, x and labels/targets must stay unchanged while the cache is used (the Java side checks). */
int an_net_gradient(an_net* net, const float* w, const float* x, const int* labels,
                    const float* targets, int batch, float* grad, double* loss);
/* Exact Hessian-vector product (Pearlmutter's R-operator) from scratch; also leaves the cache. */
int an_net_hvp(an_net* net, const float* w, const float* x, const int* labels, const float* targets,
               int batch, const float* v, float* out, double* loss);
/* Exact HVP at the cached point: no forward pass. */
int an_net_hvp_cached(an_net* net, const float* v, float* out);
/* Gauss-Newton product J' H_loss J v (+ the regularizer's Hessian) at the cached point. */
int an_net_gn_cached(an_net* net, const float* v, float* out);
/* Times only the sgemm calls that operation `op` makes for this batch (full-batch shapes, plain
 * OpenBLAS on an_get_blas_threads() threads): the "GEMM-only floor". Median of `repeats`. */
int an_net_gemm_floor(an_net* net, int op, int batch, int repeats, double* ms, double* gflop);

/* ---- Whole Krylov solves at the cached point (one call per solve) ----------------------------
 * curvature: 0 exact Hessian, 1 Gauss-Newton. a: the metric diagonal (M = diag(a), all > 0).
 * rule: 0 residual ||r|| <= eta ||g||, 1 model decrease; eta = min(sqrt(||g||), tol).
 * result[AN_SOLVE_RESULT] = {model decrease, ||s||_A, iterations, products, exit, lambda, product
 * seconds}; exit: 0 converged, 1 boundary, 2 negative curvature, 3 max iterations, 4 zero gradient,
 * 5 non-finite; product seconds: the host wall time inside the curvature products (NaN where they
 * are queued on a device). */
#define AN_SOLVE_RESULT 7
/* Steihaug-Toint CG for the trust region of radius delta; work: 4 n floats. */
int an_net_steihaug(an_net* net, int curvature, const float* g, const float* a, double delta, int max_iter, double tol, int rule,
                    float* s, float* work, double* result);
/* Preconditioned Lanczos: GLTR (cubic = 0, reg = radius) or ARC (cubic = 1, reg = sigma);
 * work: (5 + max_iter) n floats (the Lanczos vectors are kept). */
int an_net_lanczos(an_net* net, int curvature, int cubic, const float* g, const float* a, double reg, int max_iter, double tol, int rule,
                   float* s, float* work, double* result);

/* ---- The same Krylov solves over a caller's curvature product (a user objective) -------------
 * One call per solve: the vector passes run on the pool's threads; each curvature product is one
 * call of `product` with the addresses of v and out (n floats each, inside work); it returns AN_OK or
 * a negative status, which ends the solve with that status. Work sizes, options and result as above. */
typedef struct an_pool an_pool;
typedef int (*an_product_fn)(long long v, long long out);
an_pool* an_pool_create(int threads);
void an_pool_destroy(an_pool* pool);
int an_pool_steihaug(an_pool* pool, long long n, an_product_fn product, const float* g, const float* a, double delta, int max_iter,
                     double tol, int rule, float* s, float* work, double* result);
int an_pool_lanczos(an_pool* pool, long long n, an_product_fn product, int cubic, const float* g, const float* a, double reg,
                    int max_iter, double tol, int rule, float* s, float* work, double* result);

/* ---- Vector operations (float32 storage, double accumulation) -------------------------------- */
double an_dot(const float* x, const float* y, long long n);
double an_nrm2(const float* x, long long n);
/* sqrt(sum a_i x_i^2) */
double an_weighted_nrm2(const float* a, const float* x, long long n);
void an_axpy(float alpha, const float* x, float* y, long long n);
/* y = alpha*x + beta*y */
void an_axpby(float alpha, const float* x, float beta, float* y, long long n);
void an_scal(float alpha, float* x, long long n);
void an_copy(const float* x, float* y, long long n);
void an_fill(float value, float* x, long long n);
void an_mul(const float* x, const float* y, float* out, long long n);
void an_div(const float* x, const float* y, float* out, long long n);
/* v = decay*v + weight*g*g */
void an_accumulate_squares(float decay, float weight, const float* g, float* v, long long n);
/* out = min(max(sqrt(scale*v) + eps, lo), hi); NaN -> hi */
void an_root_metric(const float* v, float scale, float eps, float lo, float hi, float* out, long long n);
/* Count of non-finite entries (NaN or +-Inf) and the index of the first one (-1 if none). */
long long an_count_nonfinite(const float* x, long long n, long long* first);

/* ---- Fused first-order updates ---------------------------------------------------------------
 * SGD: d = g + weight_decay w; buf = momentum buf + d; w -= lr (nesterov ? d + momentum buf : buf)
 * (buf may be null when momentum = 0). */
void an_sgd_step(float* w, const float* g, float* buf, float lr, float momentum, float weight_decay, int nesterov, long long n);
/* Adaptive (AdaGrad, RMSProp, Adam, AdamW): d = g + l2 w; m = beta1 m + (1-beta1) d (if m != null);
 * v = decay v + weight d^2; w = (1 - lr decoupled) w - lr (m/c1 or d) / (sqrt(v/c2) + eps). */
void an_adaptive_step(float* w, const float* g, float* m, float* v, float lr, float beta1, float decay, float weight, float c1,
                      float c2, float eps, float l2, float decoupled, long long n);

/* ---- CUDA ------------------------------------------------------------------------------------
 * Number of usable devices (>= 1), or 0 with the reason written into reason (driver missing,
 * no device, built without CUDA). Never fails hard. */
int an_cuda_probe(char* reason, int len);

/* ---- The CUDA backend (the .cu files of native/cuda; without nvcc every call fails with the reason) ----
 * A context owns the stream, the cuBLAS handle (dlopen of libcublas.so.13) and the reduction slots;
 * a network's buffers are sized by max_batch when it is created (nothing is allocated per call).
 * Destroy the networks and free the buffers of a context before the context.
 * Pointers are device pointers unless said otherwise; reductions accumulate in double. */
typedef struct an_cuda an_cuda;
typedef struct an_cuda_net an_cuda_net;
an_cuda* an_cuda_create(int device);
void an_cuda_destroy(an_cuda* ctx);
/* a device buffer of n floats, or null (see an_last_error) */
float* an_cuda_alloc(an_cuda* ctx, long long n);
int an_cuda_free(an_cuda* ctx, float* p);
/* kind: 0 host to device, 1 device to host, 2 device to device */
int an_cuda_copy(an_cuda* ctx, const float* src, float* dst, long long n, int kind);
int an_cuda_dot(an_cuda* ctx, const float* x, const float* y, long long n, double* out);
/* sum a_i x_i^2 */
int an_cuda_weighted_dot(an_cuda* ctx, const float* a, const float* x, long long n, double* out);
int an_cuda_count_nonfinite(an_cuda* ctx, const float* x, long long n, double* out);
int an_cuda_axpby(an_cuda* ctx, float alpha, const float* x, float beta, float* y, long long n);
int an_cuda_fill(an_cuda* ctx, float value, float* x, long long n);
int an_cuda_mul(an_cuda* ctx, const float* x, const float* y, float* out, long long n, int divide);
int an_cuda_accumulate_squares(an_cuda* ctx, float decay, float weight, const float* g, float* v, long long n);
int an_cuda_root_metric(an_cuda* ctx, const float* v, float scale, float eps, float lo, float hi, float* out, long long n);
int an_cuda_sgd_step(an_cuda* ctx, float* w, const float* g, float* buf, float lr, float momentum, float weight_decay, int nesterov, long long n);
int an_cuda_adaptive_step(an_cuda* ctx, float* w, const float* g, float* m, float* v, float lr, float beta1, float decay, float weight,
                          float c1, float c2, float eps, float l2, float decoupled, long long n);
/* networks: the same spec and layers as an_net_create */
an_cuda_net* an_cuda_net_create(an_cuda* ctx, const int* spec, int spec_len, int loss, int reg, double lambda, int max_batch);
void an_cuda_net_destroy(an_cuda_net* net);
long long an_cuda_net_param_count(const an_cuda_net* net);
int an_cuda_net_forward(an_cuda_net* net, const float* w, const float* x, int batch, float* out);
int an_cuda_net_loss(an_cuda_net* net, const float* w, const float* x, const int* labels, const float* targets, int batch, double* loss);
int an_cuda_net_gradient(an_cuda_net* net, const float* w, const float* x, const int* labels, const float* targets, int batch, float* grad,
                         double* loss);
int an_cuda_net_hvp(an_cuda_net* net, const float* w, const float* x, const int* labels, const float* targets, int batch, const float* v,
                    float* out, double* loss);
int an_cuda_net_hvp_cached(an_cuda_net* net, const float* v, float* out);
/* The mode and the batch statistics of the cached point, as an_net_set_mode and
 * an_net_batch_statistics (running and out: host memory; each call waits for the stream). */
int an_cuda_net_set_mode(an_cuda_net* net, int training, long long dropout_seed, const double* running, long long count);
int an_cuda_net_batch_statistics(an_cuda_net* net, double* out, long long count);
int an_cuda_net_gn_cached(an_cuda_net* net, const float* v, float* out);
/* The precision of the curvature products' GEMMs (the R-forward and R-backward of an_cuda_net_hvp,
 * an_cuda_net_hvp_cached, an_cuda_net_gn_cached and every product of the solves below):
 * AN_PRECISION_FP32 (cublasSgemm, the default), AN_PRECISION_TF32 or AN_PRECISION_BF16 (cublasGemmEx
 * with fp32 A, B, C and the compute type CUBLAS_COMPUTE_32F_FAST_TF32 / _FAST_16BF: operands read
 * in the lower precision, fp32 accumulation). The forward and backward at the point (loss,
 * gradient, the cached state) and the vector work stay fp32. AN_E_ARGUMENT for another value;
 * AN_E_STATE (nothing changed) for TF32/BF16 on a device of compute capability below 8.0 or a
 * cuBLAS without cublasGemmEx. The cached point stays. */
#define AN_PRECISION_FP32 0
#define AN_PRECISION_TF32 1
#define AN_PRECISION_BF16 2
int an_cuda_net_set_precision(an_cuda_net* net, int precision);
/* The context's device compute capability as 10 * major + minor (80 for 8.0); -1 for a null context. */
int an_cuda_compute_capability(const an_cuda* ctx);
/* Whole Krylov solves at the cached point on the device: the same algorithms, arguments and
 * result[AN_SOLVE_RESULT] (host memory; product seconds NaN) as an_net_steihaug / an_net_lanczos; g, a, s and work are device buffers;
 * max_iter at most 2^20, at most 2^31 - 1 parameters.
 * Host synchronizations: Steihaug 1 per solve + 2 per iteration, Lanczos 1 per solve + 1 per
 * iteration (the products themselves wait for nothing). */
int an_cuda_net_steihaug(an_cuda_net* net, int curvature, const float* g, const float* a, double delta, int max_iter, double tol, int rule,
                         float* s, float* work, double* result);
int an_cuda_net_lanczos(an_cuda_net* net, int curvature, int cubic, const float* g, const float* a, double reg, int max_iter, double tol,
                        int rule, float* s, float* work, double* result);
/* How many times the host has explicitly waited for the context's stream (every result read back,
 * every an_cuda_copy between host and device, an_cuda_synchronize); -1 for a null context. Implicit
 * waits of the CUDA runtime (cudaFree, cudaMalloc) are not counted; none happens inside a product or
 * a solve's iteration. */
long long an_cuda_sync_count(const an_cuda* ctx);
/* How many device (cudaMalloc) and pinned host (cudaMallocHost) allocations the context and its
 * networks have made; -1 for a null context. None happens inside a product or a solve's iteration. */
long long an_cuda_allocation_count(const an_cuda* ctx);
/* Waits until the context's stream has finished its work (counted by an_cuda_sync_count). */
int an_cuda_synchronize(an_cuda* ctx);

#ifdef __cplusplus
}
#endif
#endif
