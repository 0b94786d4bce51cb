// proxy/balancer: each pick adds every weight to its server's running score, takes the highest and
// subtracts the total from it; the scores always sum to zero, which is what spreads picks smoothly.
#include "proxy/balancer.hpp"

namespace bulwark::proxy {

round_robin::round_robin(const std::vector<unsigned>& weights) {
    servers_.reserve(weights.size());
    for (unsigned w : weights) servers_.push_back({static_cast<long>(w)});
}

std::size_t round_robin::pick(std::uint64_t tried) {
    long total = 0;
    std::size_t best = servers_.size();
    for (std::size_t i = 0; i < servers_.size(); ++i) {
        if (i < 64 && (tried >> i) & 1) continue;
        entry& e = servers_[i];
        e.current += e.weight;
        total += e.weight;
        if (best == servers_.size() || e.current > servers_[best].current) best = i;
    }
    if (best < servers_.size()) servers_[best].current -= total;
    return best;
}

}  // namespace bulwark::proxy
