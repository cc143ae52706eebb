// libcublas.so.13 for the CUDA emulation (tests/cuda-emulation): the entry points the CUDA
// backend dlopens, with cuBLAS's argument rules checked (a call real cuBLAS would reject fails here
// too: CUBLAS_STATUS_INVALID_VALUE or CUBLAS_STATUS_NOT_SUPPORTED) and the product computed by
// plain loops in column-major order, as cuBLAS defines it: cublasSgemm_v2 with double
// accumulation; cublasGemmEx (fp32 A, B, C) with float accumulation, its operands first rounded to
// TF32 (CUBLAS_COMPUTE_32F_FAST_TF32: 10 mantissa bits) or BF16 (CUBLAS_COMPUTE_32F_FAST_16BF: 7
// bits), round to nearest even, as the tensor cores read them; CUBLAS_COMPUTE_32F rounds nothing.
// No dependencies.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>

namespace {
int at_least_one(int a) { return a > 1 ? a : 1; }

const int CUBLAS_STATUS_INVALID_VALUE = 7, CUBLAS_STATUS_NOT_SUPPORTED = 15;
const int CUDA_R_32F = 0, COMPUTE_32F = 68, COMPUTE_32F_FAST_16BF = 75, COMPUTE_32F_FAST_TF32 = 77, GEMM_DEFAULT = -1,
          GEMM_DEFAULT_TENSOR_OP = 99;

// x rounded to `bits` mantissa bits (of float's 23), to nearest, ties to even; NaN and infinity stay
float round_mantissa(float x, int bits) {
    if (!std::isfinite(x) || bits >= 23) return x;
    uint32_t u;
    std::memcpy(&u, &x, sizeof u);
    const int drop = 23 - bits;
    const uint32_t lsb = (u >> drop) & 1u, half = (1u << (drop - 1)) - 1u;
    u += half + lsb;  // a carry into the exponent is the correct rounding (up to infinity past the largest finite value)
    u &= ~((1u << drop) - 1u);
    float r;
    std::memcpy(&r, &u, sizeof r);
    return r;
}

bool bad_shape(int ta, int tb, int m, int n, int k, int lda, int ldb, int ldc) {
    return (ta != 0 && ta != 1) || (tb != 0 && tb != 1) || m < 0 || n < 0 || k < 0 || lda < at_least_one(ta == 0 ? m : k) ||
           ldb < at_least_one(tb == 0 ? k : n) || ldc < at_least_one(m);
}
// C = alpha op(A) op(B) + beta C (column-major), the operands rounded to `bits` mantissa bits (23:
// as they are) and summed in Acc
template <class Acc>
void multiply(int ta, int tb, int m, int n, int k, float alpha, const float* A, int lda, const float* B, int ldb, float beta, float* C, int ldc, int bits) {
    for (int j = 0; j < n; ++j)
        for (int i = 0; i < m; ++i) {
            Acc sum = 0;
            for (int p = 0; p < k; ++p) {
                const float a = ta == 0 ? A[i + static_cast<long long>(p) * lda] : A[p + static_cast<long long>(i) * lda];
                const float b = tb == 0 ? B[p + static_cast<long long>(j) * ldb] : B[j + static_cast<long long>(p) * ldb];
                sum += static_cast<Acc>(round_mantissa(a, bits)) * round_mantissa(b, bits);  // exact in float for tf32 and bf16 operands
            }
            float* c = &C[i + static_cast<long long>(j) * ldc];
            *c = static_cast<float>(alpha * sum + (beta == 0.0f ? Acc(0) : static_cast<Acc>(beta) * *c));  // beta 0: C is not read
        }
}
}  // namespace

extern "C" {
int cublasCreate_v2(void** handle) {
    *handle = reinterpret_cast<void*>(1);
    return 0;
}
int cublasDestroy_v2(void*) { return 0; }
int cublasSetStream_v2(void*, void*) { return 0; }
int cublasSgemm_v2(void*, int ta, int tb, int m, int n, int k, const float* alpha, const float* A, int lda, const float* B, int ldb, const float* beta,
                   float* C, int ldc) {
    if (bad_shape(ta, tb, m, n, k, lda, ldb, ldc)) {
        std::fprintf(stderr, "fake cuBLAS: invalid sgemm arguments ta=%d tb=%d m=%d n=%d k=%d lda=%d ldb=%d ldc=%d\n", ta, tb, m, n, k, lda, ldb, ldc);
        return CUBLAS_STATUS_INVALID_VALUE;
    }
    multiply<double>(ta, tb, m, n, k, *alpha, A, lda, B, ldb, *beta, C, ldc, 23);
    return 0;
}

// The emulation's own test hook (not a cuBLAS function): the mantissa rounding cublasGemmEx applies.
float fake_cublas_round_mantissa(float x, int bits) { return round_mantissa(x, bits); }

int cublasGemmEx(void*, int ta, int tb, int m, int n, int k, const void* alpha, const void* A, int atype, int lda, const void* B, int btype, int ldb,
                 const void* beta, void* C, int ctype, int ldc, int compute, int algo) {
    if (bad_shape(ta, tb, m, n, k, lda, ldb, ldc) || !alpha || !beta || (k > 0 && (!A || !B)) || (m > 0 && n > 0 && !C)) {
        std::fprintf(stderr, "fake cuBLAS: invalid gemmEx arguments ta=%d tb=%d m=%d n=%d k=%d lda=%d ldb=%d ldc=%d\n", ta, tb, m, n, k, lda, ldb, ldc);
        return CUBLAS_STATUS_INVALID_VALUE;
    }
    if (atype != CUDA_R_32F || btype != CUDA_R_32F || ctype != CUDA_R_32F ||
        (compute != COMPUTE_32F && compute != COMPUTE_32F_FAST_TF32 && compute != COMPUTE_32F_FAST_16BF) ||
        (algo != GEMM_DEFAULT && algo != GEMM_DEFAULT_TENSOR_OP)) {
        std::fprintf(stderr, "fake cuBLAS: gemmEx types %d %d %d compute %d algo %d not emulated (only fp32 A, B, C; 32F, FAST_TF32, FAST_16BF)\n", atype,
                     btype, ctype, compute, algo);
        return CUBLAS_STATUS_NOT_SUPPORTED;
    }
    const int bits = compute == COMPUTE_32F_FAST_TF32 ? 10 : compute == COMPUTE_32F_FAST_16BF ? 7 : 23;
    multiply<float>(ta, tb, m, n, k, *static_cast<const float*>(alpha), static_cast<const float*>(A), lda, static_cast<const float*>(B), ldb,
                    *static_cast<const float*>(beta), static_cast<float*>(C), ldc, bits);
    return 0;
}
}
