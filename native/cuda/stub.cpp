// Linked instead of the CUDA object where nvcc is absent: same C API, reports why CUDA is missing.
#include "adanewton.h"

#include <cstdio>

extern "C" int an_cuda_probe(char* reason, int len) {
    if (reason != nullptr && len > 0)
        std::snprintf(reason, static_cast<size_t>(len), "this build has no CUDA support (nvcc was not found when it was compiled)");
    return 0;
}
