// Internal declarations of the CUDA backend, shared by its sources: error checks, the launch
// geometry, cuBLAS through dlopen, the context (struct an_cuda), the block reduction, and the host
// launchers of the vector and layer kernels (vector_ops.cu, layer_kernels.cu) that the network
// engine (network.cu) calls.
//
// Rules for every .cu file of this folder (the CPU emulation, tests/cuda-emulation/translate.cpp,
// depends on them): each kernel launch is a plain triple-chevron launch (grid, block, 0, the
// stream) followed by its arguments and ';'; cooperative code only inside block_add; every file
// but probe.cu (which stands alone) includes this header first.
#ifndef ADANEWTON_CUDA_INTERNAL_CUH
#define ADANEWTON_CUDA_INTERNAL_CUH

#include "adanewton.h"
#include "../common/status.h"
#include "../common/network_spec.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <functional>
#include <stdexcept>
#include <string>

namespace an {
namespace cuda {

inline void check(cudaError_t e, const char* call) {
    if (e != cudaSuccess) {
        cudaGetLastError();
        throw std::runtime_error(std::string(call) + " failed: " + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")");
    }
}

inline void check_blas(int status, const char* call) {
    if (status != 0) throw std::runtime_error(std::string(call) + " failed with cuBLAS status " + std::to_string(status));
}

constexpr int THREADS = 256;
inline int blocks(long long n) { return static_cast<int>(std::min<long long>((n + THREADS - 1) / THREADS, 4096)); }

// ---- cuBLAS through dlopen (context.cu): no cuBLAS headers needed to build ----
typedef int (*CublasCreate)(void**);
typedef int (*CublasDestroy)(void*);
typedef int (*CublasSetStream)(void*, cudaStream_t);
typedef int (*CublasSgemm)(void*, int, int, int, int, int, const float*, const float*, int, const float*, int, const float*, float*, int);
// cublasGemmEx(handle, transa, transb, m, n, k, alpha, A, Atype, lda, B, Btype, ldb, beta, C, Ctype, ldc, computeType, algo)
typedef int (*CublasGemmEx)(void*, int, int, int, int, int, const void*, const void*, int, int, const void*, int, int, const void*, void*, int, int,
                            int, int);
constexpr int OP_N = 0, OP_T = 1;
// cudaDataType_t, cublasComputeType_t and cublasGemmAlgo_t values (library_types.h, cublas_api.h)
constexpr int CUDA_R_32F = 0;
constexpr int COMPUTE_32F_FAST_16BF = 75, COMPUTE_32F_FAST_TF32 = 77;
constexpr int GEMM_DEFAULT = -1;
// curvature precisions (an_cuda_net_set_precision)
constexpr int PRECISION_FP32 = 0, PRECISION_TF32 = 1, PRECISION_BF16 = 2;

struct Cublas {
    void* lib = nullptr;
    CublasCreate create = nullptr;
    CublasDestroy destroy = nullptr;
    CublasSetStream set_stream = nullptr;
    CublasSgemm sgemm = nullptr;
    CublasGemmEx gemm_ex = nullptr;  // null where the library lacks it: only TF32/BF16 products need it
    std::string error;  // empty when loaded
    Cublas();
};
Cublas& cublas();

// ---- host launchers of the vector kernels (vector_ops.cu); slots are device doubles the kernels add to ----
void fill(cudaStream_t s, float value, float* x, long long n);
void axpby(cudaStream_t s, float alpha, const float* x, float beta, float* y, long long n);
void scale_into(cudaStream_t s, float alpha, const float* x, float* y, long long n);
void dot(cudaStream_t s, const float* x, const float* y, long long n, double* slot);
// hv += c1 v - c3 (w'v) w, with w'v read from the device slot wv
void norm_hessian(cudaStream_t s, const float* w, const float* v, float* hv, long long n, double c1, double c3, const double* wv);
void start_cg(cudaStream_t s, const float* r, const float* a, float* y, float* p, long long n, double* ry);
void cg_update(cudaStream_t s, float alpha, const float* p, const float* bp, const float* a, float* sv, float* r, float* y, long long n, double* ry,
               double* rr);
void precondition(cudaStream_t s, const float* t, const float* a, float* y, long long n, double* ty);
void lanczos_update(cudaStream_t s, const float* bv, const double* delta_slot, const float* w, float gamma, const float* wprev, const float* a,
                    float* t, float* y, long long n, double* ty);

// ---- host launchers of the layer kernels (layer_kernels.cu); row-major rows x width buffers ----
// a = phi(a + b[((i % width) / period) % count]) (b null: no bias): period 1 for dense layers, the
// positions for a conv or a batch norm. Z and GA: a GELU layer's z and the point's dL/da
// (network_spec.h: act_needs_z; null for the others); back_act saves G into GA first when GA is
// non-null.
void bias_act(cudaStream_t s, int act, float* A, float* Z, const float* b, int rows, int width, int period, int count);
void back_act(cudaStream_t s, int act, float* G, float* GA, const float* A, const float* Z, long long n);
void rfwd_act(cudaStream_t s, int act, float* RZ, float* RA, const float* A, const float* Z, const float* vb, int rows, int width, int period,
              int count);
void rbwd_act(cudaStream_t s, int act, float* RG, const float* RZ, const float* G, const float* GA, const float* A, const float* Z, long long n);
// cols (K x rows*P) = im2col(x); gx = beta gx + col2im(cols)
void im2col(cudaStream_t s, const Geometry& g, const float* x, int rows, float* cols);
void col2im(cudaStream_t s, const Geometry& g, const float* cols, int rows, float beta, float* gx);
// channel-major (channels x rows*positions) <-> NCHW (rows x channels*positions); to_nchw: z = beta z + cm
void cm_to_nchw(cudaStream_t s, const float* cm, int rows, int channels, int positions, float beta, float* z);
void nchw_to_cm(cudaStream_t s, const float* g, int rows, int channels, int positions, float* cm);
// pooling (k x k windows, stride, no padding): forward (max records the first maximum), apply,
// transpose (gx = beta gx + P' gy, beta 0 or 1)
void pool_forward(cudaStream_t s, const Geometry& g, bool max, const float* x, int rows, float* y, int* arg);
void pool_apply(cudaStream_t s, const Geometry& g, bool max, const float* rx, int rows, const int* arg, float* ry);
void pool_transpose(cudaStream_t s, const Geometry& g, bool max, const float* gy, int rows, const int* arg, float beta, float* gx);
// global average pooling (rows x channels x positions -> rows x channels) and its transpose gx = beta gx + P' gy
void gap(cudaStream_t s, const float* x, int rows, int channels, int positions, float* y);
void gap_t(cudaStream_t s, const float* gy, int rows, int channels, int positions, float beta, float* gx);
// y = beta y + (mask / (1 - p)) x with dropout's mask of (seed, layer, row, unit) (network_spec.h)
void dropout(cudaStream_t s, const float* x, int rows, int width, uint64_t seed, int layer, int threshold, float scale, float beta, float* y);
// per row y = beta y + x over len values (x null: zeros), rows with strides
void copy_rows(cudaStream_t s, int rows, int len, const float* x, int x_stride, float beta, float* y, int y_stride);
// embedding: y = the rows of W (vocabulary x dim) that the indices (rows x length floats) pick;
// embed_t: dW = their scatter-sum of g (zeroed first)
void embed(cudaStream_t s, const float* idx, int rows, int length, int vocabulary, int dim, const float* W, float* y);
void embed_t(cudaStream_t s, const float* idx, int rows, int length, int vocabulary, int dim, const float* g, float* dW);
// ---- batch and layer norm (the formulas of native/cpu/network.cpp's header comment) ----
// A norm layer over the whole batch: its sets are a batch norm's channels (rows x positions values
// each) or a layer norm's groups of one row (`run` values each); st holds its per-set state, 7
// arrays of cap doubles: mu, s, var, my, myx, mrx, mxrx.
struct NormLayer {
    int bn, rows, out, run, cap;
    double* st;
    __host__ __device__ int set(unsigned e) const { return bn ? (int)((e % (unsigned)out) / (unsigned)run) : (int)(e / (unsigned)run); }
    __host__ __device__ int gamma(unsigned e) const { return bn ? set(e) : (int)(e % (unsigned)run); }
    __host__ __device__ double m() const { return bn ? (double)rows * run : (double)run; }
    __host__ __device__ int sets() const { return bn ? out / run : rows * (out / run); }
};
// the passes' per-value terms (norm_terms of each, summed per set or per scale):
// stats x, x^2; back gamma gz, gamma gz xhat, gz xhat; rfwd Rx, xhat Rx;
// rback Ry, Ry xhat, gamma gz R(xhat), R(gz) xhat + gz R(xhat); dgamma gz xhat; rdgamma R(gz) xhat + gz R(xhat)
enum { NORM_STATS = 0, NORM_BACK = 1, NORM_RFWD = 2, NORM_RBACK = 3, NORM_DGAMMA = 4, NORM_RDGAMMA = 5 };
__host__ __device__ inline int norm_terms(int pass) { return pass == NORM_BACK ? 3 : pass == NORM_RBACK ? 4 : pass >= NORM_DGAMMA ? 1 : 2; }
// the values a pass reads (null where it reads none; rx null: the R-input is 0)
struct NormTensors {
    const float *x, *rx, *gz, *rgz, *gamma, *vgamma;
};
// sums over q in [0, Q) of M values each: value t of q is at (t / inner) * outer + q * stride + t % inner
struct NormReduce {
    int Q, M, inner, outer, stride;
};
// out[K q + j] = the sums of the pass' K terms (zeroed first)
void norm_reduce(cudaStream_t s, const NormLayer& L, int pass, const NormTensors& t, const NormReduce& r, double* out);
// the per-set state from the sums: stats (mu, var, s: from the sums, or the running statistics
// `running` (means, then variances) when sums is null), back (my, myx), rfwd (mrx, mxrx); null sums: 0
void norm_finish(cudaStream_t s, const NormLayer& L, int pass, const double* sums, const double* running, float eps);
// the elementwise part: stats y = gamma xhat; back y = beta y + gx; rfwd y = R(z) before the shift;
// rback y = beta y + R(gx); the set means of this pass from sums (null: 0)
void norm_apply(cudaStream_t s, const NormLayer& L, int pass, const NormTensors& t, const double* sums, float beta, float* y);
// dst[c] = src[K c + j] as floats, c < count
void take_sums(cudaStream_t s, const double* src, int K, int j, int count, float* dst);
// the loss of the batch added to *slot (the batch mean), dL/da into ga (if non-null), the
// probabilities into P for the R-operator; loss_r: RGA = the loss' Hessian in a times RA
void loss(cudaStream_t s, int kind, const float* Z, const int* labels, const float* targets, int rows, int d, float* P, float* ga, double* slot);
void loss_r(cudaStream_t s, int kind, const float* P, const float* RA, int rows, int d, float* RGA);

}  // namespace cuda
}  // namespace an

#define CK(call) an::cuda::check((call), #call)

// ---- the context: device, stream, cuBLAS handle, reduction slots (context.cu) ----
struct an_cuda {
    int device = 0;
    int major = 0, minor = 0;  // the device's compute capability
    cudaStream_t stream = nullptr;
    void* blas = nullptr;
    static constexpr int SLOTS = 8;
    double* reduce = nullptr;       // SLOTS device doubles for reductions (slot 0: reduce_to_host; the Krylov engine's slots)
    double* host_reduce = nullptr;  // SLOTS pinned host doubles
    float* coefficients = nullptr;       // the Lanczos step's coefficients h on the device, grown between solves only
    float* host_coefficients = nullptr;  // and their pinned staging buffer (the copy then waits for nothing)
    size_t coefficient_floats = 0;
    long long syncs = 0;            // host synchronizations with the stream so far (an_cuda_sync_count)
    long long allocations = 0;      // cudaMalloc and cudaMallocHost calls so far (an_cuda_allocation_count)

    // every device and pinned allocation of the backend goes through these two, so that it is counted
    template <class T>
    void device_alloc(T** p, size_t bytes) {
        CK(cudaMalloc(p, bytes));
        ++allocations;
    }
    template <class T>
    void pinned_alloc(T** p, size_t bytes) {
        CK(cudaMallocHost(p, bytes));
        ++allocations;
    }

    // the host waits for the stream: the only place where it does, so that syncs counts every wait
    void sync() {
        CK(cudaStreamSynchronize(stream));
        ++syncs;
    }
    // brings `count` device doubles to the host's pinned buffer
    const double* fetch(const double* device, int count) {
        if (count < 1 || count > SLOTS) throw std::logic_error("fetch of " + std::to_string(count) + " doubles; the buffer holds " + std::to_string(SLOTS));
        CK(cudaGetLastError());
        CK(cudaMemcpyAsync(host_reduce, device, sizeof(double) * count, cudaMemcpyDeviceToHost, stream));
        sync();
        return host_reduce;
    }
    double reduce_to_host(const std::function<void(double*)>& launch) {
        CK(cudaMemsetAsync(reduce, 0, sizeof(double), stream));
        launch(reduce);
        return fetch(reduce, 1)[0];
    }
    // row-major GEMMs through column-major cuBLAS: C (m x n) = op(A) op(B) + beta C with
    // nt: A (m x k) B' (B is n x k); tn: A' (A is k x m) B (k x n); nn: A (m x k) B (k x n).
    // precision: PRECISION_FP32 cublasSgemm; TF32 / BF16 cublasGemmEx with fp32 A, B, C and the
    // compute type CUBLAS_COMPUTE_32F_FAST_TF32 / _16BF (operands read in tf32 / bf16, fp32 accumulation)
    void gemm(int ta, int tb, int m, int n, int k, const float* a, int lda, const float* b, int ldb, float beta, float* c, int ldc, int precision,
              const char* what) {
        const float one = 1.0f;
        if (precision == an::cuda::PRECISION_FP32) {
            an::cuda::check_blas(an::cuda::cublas().sgemm(blas, ta, tb, m, n, k, &one, a, lda, b, ldb, &beta, c, ldc), what);
            return;
        }
        const int compute = precision == an::cuda::PRECISION_TF32 ? an::cuda::COMPUTE_32F_FAST_TF32 : an::cuda::COMPUTE_32F_FAST_16BF;
        an::cuda::check_blas(an::cuda::cublas().gemm_ex(blas, ta, tb, m, n, k, &one, a, an::cuda::CUDA_R_32F, lda, b, an::cuda::CUDA_R_32F, ldb, &beta,
                                                        c, an::cuda::CUDA_R_32F, ldc, compute, an::cuda::GEMM_DEFAULT),
                             what);
    }
    void gemm_nt(int m, int n, int k, const float* a, const float* b, float beta, float* c, int precision = an::cuda::PRECISION_FP32) {
        gemm(an::cuda::OP_T, an::cuda::OP_N, n, m, k, b, k, a, k, beta, c, n, precision, precision ? "cublasGemmEx (NT)" : "cublasSgemm (NT)");
    }
    void gemm_tn(int m, int n, int k, const float* a, const float* b, float beta, float* c, int precision = an::cuda::PRECISION_FP32) {
        gemm(an::cuda::OP_N, an::cuda::OP_T, n, m, k, b, n, a, m, beta, c, n, precision, precision ? "cublasGemmEx (TN)" : "cublasSgemm (TN)");
    }
    void gemm_nn(int m, int n, int k, const float* a, const float* b, float beta, float* c, int precision = an::cuda::PRECISION_FP32) {
        gemm(an::cuda::OP_N, an::cuda::OP_N, n, m, k, b, n, a, k, beta, c, n, precision, precision ? "cublasGemmEx (NN)" : "cublasSgemm (NN)");
    }
};

namespace {

// *out += the block's sum of v (every thread of the block must call it; blockDim.x == THREADS);
// one double atomic per block (sm_60+)
inline __device__ void block_add(double v, double* out) {
    __shared__ double part[an::cuda::THREADS];
    __syncthreads();  // the previous call's readers are done with part
    part[threadIdx.x] = v;
    __syncthreads();
    for (int w = blockDim.x / 2; w > 0; w >>= 1) {
        if (threadIdx.x < w) part[threadIdx.x] += part[threadIdx.x + w];
        __syncthreads();
    }
    if (threadIdx.x == 0) atomicAdd(out, part[0]);
}

}  // namespace

#endif
