// proxy/pool_window: how many idle connections a server's pool should keep, from how many connections
// recent traffic had in use at once. Pure arithmetic on small fixed arrays: no clock, no allocation,
// O(1) per request (note), O(buckets) once a second (rotate, peak, trim_count).
//
// The pool keeps idle what the peak of the last `buckets` seconds needed (HAProxy's pool-purge-delay
// behaviour), so a burst of concurrency is served by connections that stay open instead of being
// closed when they come back and opened again for the next request (issue 16: a fixed keepalive = 32
// under 64 concurrent clients opened a new origin connection for 14-26 % of requests). When traffic
// drops, the peak of the window falls and the excess is closed gradually: half of it each second.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>

namespace bulwark::proxy {

class peak_window {
public:
    /// One bucket per second of housekeeping: the peak of the last 5 s (HAProxy's purge delay default).
    static constexpr std::size_t buckets = 5;

    /// Per request: `in_use` connections of this server are in use in this worker right now.
    void note(unsigned in_use) noexcept { bucket_[cur_] = std::max(bucket_[cur_], in_use); }
    /// Once a second: the oldest bucket leaves the window; the new one starts at what is in use now.
    void rotate(unsigned in_use) noexcept {
        cur_ = (cur_ + 1) % buckets;
        bucket_[cur_] = in_use;
    }
    /// Most connections in use at once over the window.
    unsigned peak() const noexcept { return *std::max_element(bucket_.begin(), bucket_.end()); }

private:
    std::array<unsigned, buckets> bucket_{};
    std::size_t cur_ = 0;
};

/// Idle connections to close now, given `idle` of them, `in_use` busy ones and the window's `peak`:
/// half of those above what the peak would need next to the busy ones, rounded up (so the last one
/// goes too), which empties 64 surplus connections in 7 seconds rather than at once.
constexpr std::size_t trim_count(std::size_t idle, unsigned in_use, unsigned peak) noexcept {
    const std::size_t wanted = peak > in_use ? peak - in_use : 0;
    return idle > wanted ? (idle - wanted + 1) / 2 : 0;
}

}  // namespace bulwark::proxy
