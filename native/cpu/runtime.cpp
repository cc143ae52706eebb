// Error reporting, the thread pool and OpenBLAS runtime facts.
#include "internal.h"

#include <algorithm>
#include <cblas.h>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <sys/random.h>

// The static libstdc++ linked into the JNI library refers to arc4random (GLIBC_2.36) from
// std::random_device, which the library never constructs. This local definition satisfies that
// reference, so the library needs no glibc newer than 2.34 (the JUnit test NativeLinkageTest checks
// the symbol versions). It is hidden: nothing outside the library binds to it.
extern "C" __attribute__((visibility("hidden"))) uint32_t arc4random(void) {
    uint32_t v = 0;
    ssize_t got;
    do {
        got = getrandom(&v, sizeof v, 0);
    } while (got < 0 && errno == EINTR);
    return v;
}

namespace an {

static thread_local std::string last_error;

// Pause iterations a thread spins before sleeping (about 20-50 us): long enough to catch the next
// hand-off of a sweep or a CG iteration, short enough not to steal a loaded machine's cores.
constexpr int SPIN_LIMIT = 2000;

int fail(int code, const std::string& msg) {
    last_error = msg;
    return code;
}

int ok() {
    last_error.clear();
    return AN_OK;
}

Pool::Pool(int threads) : n_(threads < 1 ? 1 : threads) {
    for (int id = 1; id < n_; ++id) threads_.emplace_back([this, id] { worker(id); });
}

Pool::~Pool() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stop_ = true;
        generation_.fetch_add(1);
    }
    wake_.notify_all();
    for (auto& t : threads_) t.join();
}

void Pool::run(int used, const std::function<void(int)>& f) {
    if (used > n_) used = n_;
    if (used <= 1) {
        f(0);
        return;
    }
    {
        std::lock_guard<std::mutex> lock(mutex_);
        job_ = &f;
        used_ = used;
        error_ = nullptr;
        pending_.store(n_ - 1);
        generation_.fetch_add(1);
    }
    wake_.notify_all();
    std::exception_ptr mine;
    try {
        f(0);
    } catch (...) {
        mine = std::current_exception();
    }
    // Short spin (the workers usually finish at about the same time), then sleep.
    for (int spin = 0; spin < SPIN_LIMIT && pending_.load() != 0; ++spin) __builtin_ia32_pause();
    if (pending_.load() != 0) {
        std::unique_lock<std::mutex> lock(mutex_);
        done_.wait(lock, [this] { return pending_.load() == 0; });
    }
    std::lock_guard<std::mutex> lock(mutex_);
    job_ = nullptr;
    if (mine) std::rethrow_exception(mine);
    if (error_) std::rethrow_exception(error_);
}

int parallel_ranges(Pool& pool, long long n, const std::function<void(int, long long, long long)>& f) {
    constexpr long long MIN_PER_THREAD = 32768;  // below this, waking a thread costs more than it saves
    const int used = static_cast<int>(std::max(1LL, std::min<long long>(pool.size(), n / MIN_PER_THREAD)));
    pool.run(used, [&](int t) { f(t, n * t / used, n * (t + 1) / used); });
    return used;
}

void Pool::worker(int id) {
    __builtin_ia32_ldmxcsr(__builtin_ia32_stmxcsr() | 0x8040);  // our own thread: FTZ/DAZ for good (see DenormalsOff)
    long seen = 0;
    for (;;) {
        // Spin a little for the next job before sleeping on the condition variable.
        for (int spin = 0; spin < SPIN_LIMIT && generation_.load() == seen; ++spin) __builtin_ia32_pause();
        const std::function<void(int)>* job;
        int used;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            wake_.wait(lock, [&] { return generation_.load() != seen; });
            seen = generation_.load();
            if (stop_) return;
            job = job_;
            used = used_;
        }
        if (id < used) {
            try {
                (*job)(id);
            } catch (...) {
                std::lock_guard<std::mutex> lock(mutex_);
                if (!error_) error_ = std::current_exception();
            }
        }
        if (pending_.fetch_sub(1) == 1) {
            std::lock_guard<std::mutex> lock(mutex_);
            done_.notify_all();
        }
    }
}

void Barrier::reset(int parties) {
    std::lock_guard<std::mutex> lock(mutex_);
    parties_ = parties < 1 ? 1 : parties;
    waiting_ = 0;
    broken_.store(false);
}

void Barrier::wait() {
    if (parties_ <= 1) return;
    unsigned generation;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (broken_.load()) throw BarrierBroken();
        generation = generation_.load();
        if (++waiting_ == parties_) {
            waiting_ = 0;
            generation_.fetch_add(1);
            cv_.notify_all();
            return;
        }
    }
    for (int spin = 0; spin < SPIN_LIMIT && generation_.load() == generation && !broken_.load(); ++spin) __builtin_ia32_pause();
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait(lock, [&] { return generation_.load() != generation || broken_.load(); });
    if (generation_.load() == generation) throw BarrierBroken();
}

void Barrier::abort() {
    std::lock_guard<std::mutex> lock(mutex_);
    broken_.store(true);
    cv_.notify_all();
}

}  // namespace an

extern "C" {

const char* an_last_error(void) { return an::last_error.c_str(); }

void an_runtime_info(char* buf, int len) {
    if (buf == nullptr || len <= 0) return;
    std::snprintf(buf, static_cast<size_t>(len), "OpenBLAS %s; core %s; blas threads %d",
                  openblas_get_config(), openblas_get_corename(), openblas_get_num_threads());
}

void an_set_blas_threads(int threads) { openblas_set_num_threads(threads < 1 ? 1 : threads); }

int an_get_blas_threads(void) { return openblas_get_num_threads(); }

int an_cpu_features(void) {
    __builtin_cpu_init();
    return (__builtin_cpu_supports("avx2") ? AN_CPU_AVX2 : 0) | (__builtin_cpu_supports("avx512f") ? AN_CPU_AVX512F : 0) |
           (__builtin_cpu_supports("avx512bw") ? AN_CPU_AVX512BW : 0) | (__builtin_cpu_supports("avx512vl") ? AN_CPU_AVX512VL : 0) |
           (__builtin_cpu_supports("avx512bf16") ? AN_CPU_AVX512BF16 : 0);
}

}  // extern "C"
