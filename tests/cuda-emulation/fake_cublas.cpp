// libcublas.so.13 for the CUDA emulation (tests/cuda-emulation): the four entry points the CUDA
// backend dlopens, with cuBLAS's argument rules checked (a call real cuBLAS would reject fails here
// too: CUBLAS_STATUS_INVALID_VALUE) and the product computed by plain loops with double
// accumulation in column-major order, as cuBLAS defines it. No dependencies.
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
    for (int j = 0; j < n; ++j)
        for (int i = 0; i < m; ++i) {
            double sum = 0;
            for (int p = 0; p < k; ++p) {
                const float a = ta == 0 ? A[i + static_cast<long long>(p) * lda] : A[p + static_cast<long long>(i) * lda];
                const float b = tb == 0 ? B[p + static_cast<long long>(j) * ldb] : B[j + static_cast<long long>(p) * ldb];
                sum += static_cast<double>(a) * b;
            }
            float* c = &C[i + static_cast<long long>(j) * ldc];
            *c = static_cast<float>(*alpha * sum + (*beta == 0.0f ? 0.0 : static_cast<double>(*beta) * *c));  // beta 0: C is not read
        }
    return 0;
}
}
