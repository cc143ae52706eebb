// libcublas.so.13 for the emulation tests: the four entry points the CUDA backend dlopens, with
// cuBLAS's argument rules checked (a call real cuBLAS would reject fails here too) and the product
// computed by OpenBLAS in column-major order.
#include <cblas.h>

#include <cstdio>

namespace {
int at_least_one(int a) { return a > 1 ? a : 1; }
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
    const int CUBLAS_STATUS_INVALID_VALUE = 7;
    if ((ta != 0 && ta != 1) || (tb != 0 && tb != 1) || m < 0 || n < 0 || k < 0 || lda < at_least_one(ta == 0 ? m : k) ||
        ldb < at_least_one(tb == 0 ? k : n) || ldc < at_least_one(m)) {
        std::fprintf(stderr, "fake cuBLAS: invalid sgemm arguments ta=%d tb=%d m=%d n=%d k=%d lda=%d ldb=%d ldc=%d\n", ta, tb, m, n, k, lda, ldb, ldc);
        return CUBLAS_STATUS_INVALID_VALUE;
    }
    if (m == 0 || n == 0) return 0;
    if (*beta == 0.0f)  // cuBLAS does not read C when beta is 0 (it may hold NaN)
        for (int j = 0; j < n; ++j)
            for (int i = 0; i < m; ++i) C[i + static_cast<long long>(j) * ldc] = 0.0f;
    cblas_sgemm(CblasColMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, *alpha, A, lda, B, ldb, *beta, C, ldc);
    return 0;
}
}
