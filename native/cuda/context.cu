// The CUDA backend's context: cuBLAS by dlopen("libcublas.so.13") and dlsym of the *_v2 entry
// points (the library builds without cuBLAS headers and reports a clear error where cuBLAS is
// missing), a device, a non-blocking stream, reduction slots, device memory, copies, and the
// counters of host synchronizations and allocations. Every CUDA or cuBLAS error becomes a status
// code with the call and the message (an_last_error), never a crash.
#include "cuda_internal.cuh"

#include <dlfcn.h>

#include <memory>

namespace an {
namespace cuda {

Cublas::Cublas() {
    for (const char* name : {"libcublas.so.13", "libcublas.so.12", "libcublas.so"}) {
        lib = dlopen(name, RTLD_NOW | RTLD_LOCAL);
        if (lib != nullptr) break;
    }
    if (lib == nullptr) {
        error = "cuBLAS not found (dlopen libcublas.so.13: " + std::string(dlerror() ? dlerror() : "no message") +
                "); install the CUDA 13 runtime libraries";
        return;
    }
    create = reinterpret_cast<CublasCreate>(dlsym(lib, "cublasCreate_v2"));
    destroy = reinterpret_cast<CublasDestroy>(dlsym(lib, "cublasDestroy_v2"));
    set_stream = reinterpret_cast<CublasSetStream>(dlsym(lib, "cublasSetStream_v2"));
    sgemm = reinterpret_cast<CublasSgemm>(dlsym(lib, "cublasSgemm_v2"));
    if (!create || !destroy || !set_stream || !sgemm) error = "libcublas lacks the cublas*_v2 entry points";
    gemm_ex = reinterpret_cast<CublasGemmEx>(dlsym(lib, "cublasGemmEx"));  // TF32/BF16 products only (an_cuda_net_set_precision checks it)
}

Cublas& cublas() {
    static Cublas instance;
    return instance;
}

}  // namespace cuda
}  // namespace an

extern "C" {

an_cuda* an_cuda_create(int device) {
    an_cuda* result = nullptr;
    an::guarded([&]() -> int {
        if (!an::cuda::cublas().error.empty()) throw std::runtime_error(an::cuda::cublas().error);
        auto c = std::make_unique<an_cuda>();
        c->device = device;
        CK(cudaSetDevice(device));
        cudaDeviceProp prop;
        CK(cudaGetDeviceProperties(&prop, device));
        c->major = prop.major;
        c->minor = prop.minor;
        CK(cudaStreamCreateWithFlags(&c->stream, cudaStreamNonBlocking));
        an::cuda::check_blas(an::cuda::cublas().create(&c->blas), "cublasCreate");
        an::cuda::check_blas(an::cuda::cublas().set_stream(c->blas, c->stream), "cublasSetStream");
        c->device_alloc(&c->reduce, sizeof(double) * an_cuda::SLOTS);
        c->pinned_alloc(&c->host_reduce, sizeof(double) * an_cuda::SLOTS);
        result = c.release();
        return AN_OK;
    });
    return result;
}

void an_cuda_destroy(an_cuda* c) {
    if (c == nullptr) return;
    cudaSetDevice(c->device);
    cudaStreamSynchronize(c->stream);
    if (c->blas) an::cuda::cublas().destroy(c->blas);
    cudaFree(c->reduce);
    cudaFreeHost(c->host_reduce);
    cudaFree(c->coefficients);
    cudaFreeHost(c->host_coefficients);
    cudaStreamDestroy(c->stream);
    delete c;
}

float* an_cuda_alloc(an_cuda* c, long long n) {
    float* out = nullptr;
    an::guarded([&]() -> int {
        CK(cudaSetDevice(c->device));
        c->device_alloc(&out, static_cast<size_t>(std::max(1LL, n)) * sizeof(float));
        return AN_OK;
    });
    return out;
}

int an_cuda_free(an_cuda* c, float* p) {
    return an::guarded([&]() -> int {
        if (c) CK(cudaSetDevice(c->device));
        CK(cudaFree(p));
        return AN_OK;
    });
}

int an_cuda_copy(an_cuda* c, const float* src, float* dst, long long n, int kind /* 0 h->d, 1 d->h, 2 d->d */) {
    return an::guarded([&]() -> int {
        const cudaMemcpyKind k = kind == 0 ? cudaMemcpyHostToDevice : kind == 1 ? cudaMemcpyDeviceToHost : cudaMemcpyDeviceToDevice;
        CK(cudaMemcpyAsync(dst, src, static_cast<size_t>(n) * sizeof(float), k, c->stream));
        if (kind != 2) c->sync();
        return AN_OK;
    });
}

long long an_cuda_sync_count(const an_cuda* c) { return c ? c->syncs : -1; }

int an_cuda_compute_capability(const an_cuda* c) { return c ? 10 * c->major + c->minor : -1; }

long long an_cuda_allocation_count(const an_cuda* c) { return c ? c->allocations : -1; }

int an_cuda_synchronize(an_cuda* c) {
    return an::guarded([&]() -> int {
        if (!c) throw std::invalid_argument("null context");
        c->sync();
        return AN_OK;
    });
}

}  // extern "C"
