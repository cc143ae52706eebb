// Status codes and error reporting shared by the CPU and CUDA backends: every C entry point runs
// its body inside guarded(), which maps C++ exceptions to AN_ status codes and records the message
// for an_last_error (defined in native/cpu/runtime.cpp), so that no exception crosses the C ABI.
#ifndef ADANEWTON_STATUS_H
#define ADANEWTON_STATUS_H

#include <exception>
#include <new>
#include <stdexcept>
#include <string>

#include "adanewton.h"

namespace an {

// Records msg as this thread's last error and returns code.
int fail(int code, const std::string& msg);
// Clears this thread's last error; returns AN_OK.
int ok();

// Flush-to-zero and denormals-are-zero for the duration of a native call (restored on exit, since
// the JVM's own code needs IEEE denormals): tiny metric entries and curvature products otherwise
// produce denormal floats, which make every kernel an order of magnitude slower on x86.
class DenormalsOff {
public:
    DenormalsOff() : saved_(__builtin_ia32_stmxcsr()) { __builtin_ia32_ldmxcsr(saved_ | 0x8040); }
    ~DenormalsOff() { __builtin_ia32_ldmxcsr(saved_); }
    DenormalsOff(const DenormalsOff&) = delete;
    DenormalsOff& operator=(const DenormalsOff&) = delete;

private:
    unsigned saved_;
};

// Runs body and maps exceptions to status codes (the C ABI never lets one escape).
template <class F>
int guarded(F&& body) {
    DenormalsOff ftz;
    try {
        ok();
        return body();
    } catch (const std::bad_alloc&) {
        return fail(AN_E_MEMORY, "out of memory in native kernel");
    } catch (const std::invalid_argument& e) {
        return fail(AN_E_ARGUMENT, e.what());
    } catch (const std::logic_error& e) {
        return fail(AN_E_STATE, e.what());
    } catch (const std::exception& e) {
        return fail(AN_E_INTERNAL, e.what());
    } catch (...) {
        return fail(AN_E_INTERNAL, "unknown native exception");
    }
}

}  // namespace an

#endif
