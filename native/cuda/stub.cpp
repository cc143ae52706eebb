// Linked instead of the CUDA objects where nvcc is absent: the same C API, every call failing with
// the reason, so the Java side is identical in both builds.
#include "adanewton.h"
#include "../common/status.h"

#include <cstdio>

namespace {
const char* const REASON = "this build has no CUDA support (nvcc was not found when it was compiled)";
int no_cuda() { return an::fail(AN_E_STATE, REASON); }
}  // namespace

extern "C" {

int an_cuda_probe(char* reason, int len) {
    if (reason != nullptr && len > 0) std::snprintf(reason, static_cast<size_t>(len), "%s", REASON);
    return 0;
}

an_cuda* an_cuda_create(int) {
    no_cuda();
    return nullptr;
}
void an_cuda_destroy(an_cuda*) {}
float* an_cuda_alloc(an_cuda*, long long) {
    no_cuda();
    return nullptr;
}
int an_cuda_free(an_cuda*, float*) { return no_cuda(); }
int an_cuda_copy(an_cuda*, const float*, float*, long long, int) { return no_cuda(); }
int an_cuda_dot(an_cuda*, const float*, const float*, long long, double*) { return no_cuda(); }
int an_cuda_weighted_dot(an_cuda*, const float*, const float*, long long, double*) { return no_cuda(); }
int an_cuda_count_nonfinite(an_cuda*, const float*, long long, double*) { return no_cuda(); }
int an_cuda_axpby(an_cuda*, float, const float*, float, float*, long long) { return no_cuda(); }
int an_cuda_fill(an_cuda*, float, float*, long long) { return no_cuda(); }
int an_cuda_mul(an_cuda*, const float*, const float*, float*, long long, int) { return no_cuda(); }
int an_cuda_accumulate_squares(an_cuda*, float, float, const float*, float*, long long) { return no_cuda(); }
int an_cuda_root_metric(an_cuda*, const float*, float, float, float, float, float*, long long) { return no_cuda(); }
int an_cuda_sgd_step(an_cuda*, float*, const float*, float*, float, float, float, int, long long) { return no_cuda(); }
int an_cuda_adaptive_step(an_cuda*, float*, const float*, float*, float*, float, float, float, float, float, float, float, float, float, long long) {
    return no_cuda();
}
an_cuda_net* an_cuda_net_create(an_cuda*, const int*, int, int, int, double, int) {
    no_cuda();
    return nullptr;
}
void an_cuda_net_destroy(an_cuda_net*) {}
long long an_cuda_net_param_count(const an_cuda_net*) { return -1; }
int an_cuda_net_forward(an_cuda_net*, const float*, const float*, int, float*) { return no_cuda(); }
int an_cuda_net_loss(an_cuda_net*, const float*, const float*, const int*, const float*, int, double*) { return no_cuda(); }
int an_cuda_net_gradient(an_cuda_net*, const float*, const float*, const int*, const float*, int, float*, double*) { return no_cuda(); }
int an_cuda_net_hvp(an_cuda_net*, const float*, const float*, const int*, const float*, int, const float*, float*, double*) { return no_cuda(); }
int an_cuda_net_hvp_cached(an_cuda_net*, const float*, float*) { return no_cuda(); }
int an_cuda_net_gn_cached(an_cuda_net*, const float*, float*) { return no_cuda(); }
int an_cuda_net_set_precision(an_cuda_net*, int) { return no_cuda(); }
int an_cuda_compute_capability(const an_cuda*) { return -1; }
int an_cuda_net_set_mode(an_cuda_net*, int, long long, const double*, long long) { return no_cuda(); }
int an_cuda_net_batch_statistics(an_cuda_net*, double*, long long) { return no_cuda(); }
int an_cuda_net_steihaug(an_cuda_net*, int, const float*, const float*, double, int, double, int, float*, float*, double*) { return no_cuda(); }
int an_cuda_net_lanczos(an_cuda_net*, int, int, const float*, const float*, double, int, double, int, float*, float*, double*) { return no_cuda(); }
long long an_cuda_sync_count(const an_cuda*) { return -1; }
long long an_cuda_allocation_count(const an_cuda*) { return -1; }
int an_cuda_synchronize(an_cuda*) { return no_cuda(); }

}  // extern "C"
