// CUDA device probe. Built with nvcc and linked with the static CUDA runtime, so the JNI library
// loads on machines without a driver; there cudaGetDeviceCount fails and the probe says why.
#include "adanewton.h"

#include <cstdio>
#include <cuda_runtime.h>

extern "C" int an_cuda_probe(char* reason, int len) {
    int count = 0;
    const cudaError_t err = cudaGetDeviceCount(&count);
    if (err != cudaSuccess) {
        if (reason != nullptr && len > 0)
            std::snprintf(reason, static_cast<size_t>(len), "no usable CUDA device: cudaGetDeviceCount failed with %s (%s)",
                          cudaGetErrorName(err), cudaGetErrorString(err));
        cudaGetLastError();  // clear the sticky error
        return 0;
    }
    if (count == 0) {
        if (reason != nullptr && len > 0) std::snprintf(reason, static_cast<size_t>(len), "the CUDA driver reports no device");
        return 0;
    }
    if (reason != nullptr && len > 0) {
        cudaDeviceProp prop;
        if (cudaGetDeviceProperties(&prop, 0) == cudaSuccess)
            std::snprintf(reason, static_cast<size_t>(len), "%d device(s); device 0: %s, %.1f GiB, compute %d.%d", count, prop.name,
                          prop.totalGlobalMem / 1073741824.0, prop.major, prop.minor);
        else
            std::snprintf(reason, static_cast<size_t>(len), "%d device(s)", count);
    }
    return count;
}
