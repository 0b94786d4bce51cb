// proxy/balancer: smooth weighted round-robin (the nginx algorithm): over a cycle of sum(weights) picks,
// each server is chosen exactly weight times, interleaved rather than in bursts. Per worker for now.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace bulwark::proxy {

class round_robin {
public:
    explicit round_robin(const std::vector<unsigned>& weights);

    /// Index of the next server; bit i of `tried` excludes server i (servers past 63 are never excluded).
    /// Returns size() when every server is excluded.
    std::size_t pick(std::uint64_t tried = 0);
    std::size_t size() const { return servers_.size(); }

private:
    struct entry {
        long weight;
        long current = 0;
    };
    std::vector<entry> servers_;
};

}  // namespace bulwark::proxy
