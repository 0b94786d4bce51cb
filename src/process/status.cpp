// process/status: formats backend_table snapshots and limit counters as aligned columns.
#include "process/status.hpp"

#include <cinttypes>
#include <cstdio>
#include <exception>

#include "limit/rate.hpp"
#include "process/cache_admin.hpp"
#include "shm/shared_state.hpp"
#include "tls/resumption.hpp"

namespace bulwark::process {

int print_status(const config::config& cfg) {
    std::optional<shm::shared_state> st;
    try {
        st = shm::shared_state::open_existing(cfg.global.state_dir);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bulwark: no shared state in %s (is bulwark running?): %s\n",
                     cfg.global.state_dir.c_str(), e.what());
        return 1;
    }
    auto& table = st->backends();
    // OPENED, REUSED, IDLE, TRIMMED: the workers' connection pools (opened connections, requests sent on
    // a pooled one, idle now, closed while idle by housekeeping); updated once a second by each worker.
    std::printf("%-16s %-24s %-9s %8s %12s %10s %14s %14s %10s %12s %6s %9s\n", "UPSTREAM", "SERVER", "STATE",
                "ACTIVE", "REQUESTS", "FAILURES", "BYTES_IN", "BYTES_OUT", "OPENED", "REUSED", "IDLE", "TRIMMED");
    for (const auto& u : cfg.upstreams) {
        for (const auto& s : u.servers) {
            const std::string addr = s.address.text();
            for (auto h : table.live()) {
                auto snap = table.snapshot(h);
                if (snap.upstream != u.name || snap.address != addr) continue;
                std::printf("%-16s %-24s %-9s %8" PRIu64 " %12" PRIu64 " %10" PRIu64 " %14" PRIu64 " %14" PRIu64
                            " %10" PRIu64 " %12" PRIu64 " %6" PRIu64 " %9" PRIu64 "\n",
                            u.name.c_str(), addr.c_str(), std::string(shm::backend_state_name(snap.state)).c_str(),
                            snap.active, snap.requests, snap.failures, snap.bytes_in, snap.bytes_out, snap.conns_opened,
                            snap.reused_requests, snap.idle, snap.trim_closed);
            }
        }
    }
    std::printf("\n%-24s %12s %10s %10s %10s %10s %10s %14s\n", "LISTENER/ROUTE", "REQUESTS", "1XX", "2XX", "3XX",
                "4XX", "5XX", "BYTES_OUT");
    for (const auto& r : st->counters().rows())
        std::printf("%-24s %12" PRIu64 " %10" PRIu64 " %10" PRIu64 " %10" PRIu64 " %10" PRIu64 " %10" PRIu64 " %14" PRIu64 "\n",
                    r.key.c_str(), r.requests, r.status[0], r.status[1], r.status[2], r.status[3], r.status[4],
                    r.bytes_out);
    if (!cfg.limits.empty()) {
        std::printf("\n%-16s %12s\n", "LIMIT", "LIMITED");
        for (std::size_t i = 0; i < cfg.limits.size(); ++i)
            std::printf("%-16s %12" PRIu64 "\n", cfg.limits[i].name.c_str(),
                        st->limits().limited(limit::limit_id_of(i)));
    }
    print_cache_status(cfg);
    tls::handshake_counts tc;
    if (!cfg.tls.empty() && tls::read_handshake_counts(cfg.global.state_dir, tc))
        std::printf("\n%-12s %12s %12s %12s %12s\nTLS          %12" PRIu64 " %12" PRIu64 " %12" PRIu64 " %12" PRIu64 "\n",
                    "", "HANDSHAKES", "RESUMED", "FAILED", "TIMED_OUT", tc.handshakes, tc.resumed, tc.failed, tc.timed_out);
    return 0;
}

}  // namespace bulwark::process
