// Internal helpers of the CPU kernels: a small thread pool, vectorizable math (the status and
// error reporting shared with the CUDA backend are in ../common/status.h).
#ifndef ADANEWTON_INTERNAL_H
#define ADANEWTON_INTERNAL_H

#include <atomic>
#include <condition_variable>
#include <cmath>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "adanewton.h"
#include "../common/status.h"

namespace an {

// A fixed pool of worker threads. run(f) calls f(0) on the caller and f(1..n-1) on the workers
// and returns when all are done. Workers spin briefly, then sleep, so an idle pool does not steal
// a core from OpenBLAS or the JVM.
class Pool {
public:
    explicit Pool(int threads);
    ~Pool();
    Pool(const Pool&) = delete;
    Pool& operator=(const Pool&) = delete;
    int size() const { return n_; }
    // Runs f(t) for t in [0, used); used <= size(). Rethrows the first exception of any thread.
    void run(int used, const std::function<void(int)>& f);

private:
    void worker(int id);
    int n_;
    std::vector<std::thread> threads_;
    std::mutex mutex_;
    std::condition_variable wake_, done_;
    const std::function<void(int)>* job_ = nullptr;
    int used_ = 0;
    std::atomic<long> generation_{0};
    std::atomic<int> pending_{0};
    bool stop_ = false;
    std::exception_ptr error_;
};

// Thrown by Barrier::wait to the threads still waiting when another thread aborted the barrier.
struct BarrierBroken : std::runtime_error {
    BarrierBroken() : std::runtime_error("a thread of the sweep failed") {}
};

// A reusable barrier for the threads of one Pool::run (the cross-block reductions of a sweep):
// wait() returns once `parties` threads have called it (spinning briefly, then sleeping);
// abort() releases every waiter, now and later, with BarrierBroken, so that a thread that failed
// does not leave the others waiting. reset() re-arms it for a new run (no thread may be waiting).
class Barrier {
public:
    void reset(int parties);
    void wait();
    void abort();

private:
    std::mutex mutex_;
    std::condition_variable cv_;
    int parties_ = 1, waiting_ = 0;
    std::atomic<unsigned> generation_{0};
    std::atomic<bool> broken_{false};
};

}  // namespace an

struct an_net;

namespace an {

// Runs f(t, begin, end) over [0, n) split into contiguous ranges on the network's thread pool
// (one range when n is small); returns the number of ranges used.
int parallel_ranges(an_net* net, long long n, const std::function<void(int, long long, long long)>& f);
// The same on a pool of its own.
int parallel_ranges(Pool& pool, long long n, const std::function<void(int, long long, long long)>& f);

// Vectorizable exp for float (|rel err| < 2e-7 on [-87, 88]); GCC vectorizes loops calling it.
static inline __attribute__((always_inline)) float fast_exp(float x) {
    x = x < -87.3f ? -87.3f : (x > 88.3f ? 88.3f : x);
    // round to nearest by the 1.5*2^23 trick (vectorizes, unlike roundf)
    const float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    float r = x - n * 0.693359375f;
    r = r + n * 2.12194440e-4f;
    float p = 1.9875691500E-4f;
    p = p * r + 1.3981999507E-3f;
    p = p * r + 8.3334519073E-3f;
    p = p * r + 4.1665795894E-2f;
    p = p * r + 1.6666665459E-1f;
    p = p * r + 5.0000001201E-1f;
    p = p * r * r + r + 1.0f;
    int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
    float scale;
    __builtin_memcpy(&scale, &bits, sizeof(scale));
    return p * scale;
}

// tanh: odd polynomial near 0 (no cancellation), (1 - e)/(1 + e) with e = exp(-2|x|) elsewhere.
static inline __attribute__((always_inline)) float fast_tanh(float x) {
    const float ax = x < 0 ? -x : x;
    const float x2 = x * x;
    const float small = x * (1.0f + x2 * (-0.333333333f + x2 * (0.133333333f + x2 * (-0.0539682540f + x2 * 0.0218694885f))));
    const float e = fast_exp(-2.0f * ax);
    const float t = (1.0f - e) / (1.0f + e);
    const float big = x < 0 ? -t : t;
    return ax < 0.125f ? small : big;
}

static inline __attribute__((always_inline)) float fast_sigmoid(float x) {
    return 1.0f / (1.0f + fast_exp(-x));
}

}  // namespace an

#endif
