// core/clock: the time a worker uses on the hot path, read from the kernel once per sweep tick rather
// than once per request (BENCHMARKING.md); deadlines are therefore accurate to one tick.
#pragma once

#include <chrono>
#include <ctime>

namespace bulwark {

class cached_clock {
public:
    using time_point = std::chrono::steady_clock::time_point;

    cached_clock() { update(); }
    void update() {
        mono_ = std::chrono::steady_clock::now();
        wall_ = std::time(nullptr);
    }
    time_point now() const { return mono_; }
    std::time_t wall() const { return wall_; }

private:
    time_point mono_;
    std::time_t wall_;
};

}  // namespace bulwark
