// The CUDA runtime for the emulation tests (see translate.cpp): "device" memory is host memory,
// every allocation is poisoned with 0xFF bytes (a float read before it is written is NaN), copies
// and memsets happen at once, streams are already synchronized, kernels run as plain functions.
// Only what native/cuda/*.cu use is here.
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>

typedef int cudaError_t;
enum { cudaSuccess = 0, cudaErrorMemoryAllocation = 2 };
typedef void* cudaStream_t;
enum cudaMemcpyKind { cudaMemcpyHostToDevice, cudaMemcpyDeviceToHost, cudaMemcpyDeviceToDevice };
#define cudaStreamNonBlocking 1
#define __global__
#define __device__
#define __host__
#define __shared__ static
#define __syncthreads()

struct emu_dim3 {
    unsigned x = 0;
};
extern emu_dim3 blockIdx, threadIdx, blockDim, gridDim;
extern long long emu_launches;  // kernel launches so far

// runs body once per (block, thread) with the indices set, one after another
inline void emu_launch(long long grid, long long block, const std::function<void()>& body) {
    if (grid < 1 || block < 1 || block > 1024) {
        std::fprintf(stderr, "emulation: invalid launch configuration %lld x %lld\n", grid, block);
        std::abort();
    }
    ++emu_launches;
    gridDim.x = static_cast<unsigned>(grid);
    blockDim.x = static_cast<unsigned>(block);
    for (blockIdx.x = 0; blockIdx.x < grid; ++blockIdx.x)
        for (threadIdx.x = 0; threadIdx.x < block; ++threadIdx.x) body();
}

template <class T>
cudaError_t cudaMalloc(T** p, size_t n) {
    *p = static_cast<T*>(std::malloc(n ? n : 1));
    if (*p == nullptr) return cudaErrorMemoryAllocation;
    std::memset(static_cast<void*>(*p), 0xFF, n);
    return cudaSuccess;
}
template <class T>
cudaError_t cudaMallocHost(T** p, size_t n) {
    return cudaMalloc(p, n);
}
inline cudaError_t cudaFree(void* p) {
    std::free(p);
    return cudaSuccess;
}
inline cudaError_t cudaFreeHost(void* p) { return cudaFree(p); }
inline cudaError_t cudaMemsetAsync(void* p, int v, size_t n, cudaStream_t) {
    std::memset(p, v, n);
    return cudaSuccess;
}
inline cudaError_t cudaMemcpyAsync(void* d, const void* s, size_t n, cudaMemcpyKind, cudaStream_t) {
    std::memmove(d, s, n);
    return cudaSuccess;
}
inline cudaError_t cudaStreamSynchronize(cudaStream_t) { return cudaSuccess; }
inline cudaError_t cudaSetDevice(int) { return cudaSuccess; }
inline cudaError_t cudaGetLastError() { return cudaSuccess; }
inline const char* cudaGetErrorName(cudaError_t) { return "cudaErrorEmulation"; }
inline const char* cudaGetErrorString(cudaError_t) { return "emulation"; }
inline cudaError_t cudaStreamCreateWithFlags(cudaStream_t* s, unsigned) {
    *s = reinterpret_cast<void*>(1);
    return cudaSuccess;
}
inline cudaError_t cudaStreamDestroy(cudaStream_t) { return cudaSuccess; }
// one emulated device
struct cudaDeviceProp {
    char name[256];
    size_t totalGlobalMem;
    int major, minor;
};
inline cudaError_t cudaGetDeviceCount(int* count) {
    *count = 1;
    return cudaSuccess;
}
// its compute capability: 9.0 (what the build targets), or MAJOR.MINOR from the environment variable
// ADANEWTON_EMULATION_COMPUTE (the tests of an older device's refusals set it)
inline cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int) {
    std::snprintf(prop->name, sizeof(prop->name), "CUDA emulation on the CPU (tests/cuda-emulation)");
    prop->totalGlobalMem = size_t(1) << 30;
    prop->major = 9;
    prop->minor = 0;
    const char* cc = std::getenv("ADANEWTON_EMULATION_COMPUTE");
    if (cc != nullptr && std::sscanf(cc, "%d.%d", &prop->major, &prop->minor) != 2) {
        std::fprintf(stderr, "emulation: ADANEWTON_EMULATION_COMPUTE = '%s'; must be MAJOR.MINOR\n", cc);
        std::abort();
    }
    return cudaSuccess;
}
inline float atomicAdd(float* p, float v) {
    const float old = *p;
    *p += v;
    return old;
}
inline double atomicAdd(double* p, double v) {
    const double old = *p;
    *p += v;
    return old;
}
using std::isfinite;
