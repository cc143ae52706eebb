// CHECK(condition, printf-format, ...): prints the failure with its place and counts it in
// failures; a test program returns failures == 0 ? 0 : 1.
#ifndef ADANEWTON_CHECK_H
#define ADANEWTON_CHECK_H

#include <cstdio>

static int failures = 0;
#define CHECK(cond, ...)                                     \
    do {                                                     \
        if (!(cond)) {                                       \
            std::printf("FAIL %s:%d: ", __FILE__, __LINE__); \
            std::printf(__VA_ARGS__);                        \
            std::printf("\n");                               \
            ++failures;                                      \
        }                                                    \
    } while (0)

#endif
