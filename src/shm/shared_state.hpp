// shm/shared_state: the one segment the master creates before forking, laid out as the backend table
// followed by the limit table (which takes the rest of shm_size). Children inherit the mapping; a
// later binary (live upgrade) or `bulwark -s status` maps the same file by path.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "shm/backend_table.hpp"
#include "shm/counter_table.hpp"
#include "shm/limit_table.hpp"
#include "shm/segment.hpp"

namespace bulwark::shm {

class shared_state {
public:
    /// Bump when the layout below (or a table's) changes: a mismatch recreates the file.
    // 2: counter table between backends and limits. 3 (issue 16): the backend table grew (pool totals,
    // idle gauges), which moves the counter and limit tables: a version-2 file is recreated, so limit
    // buckets and counters restart from zero after an upgrade from a binary that wrote version 2.
    static constexpr std::uint32_t layout_version = 3;
    static constexpr std::uint32_t backend_capacity = 4096;
    static constexpr const char* file_name = "bulwark.shm";

    /// Master: opens `dir`/bulwark.shm or creates it; `notes` gets one line per thing recreated.
    static shared_state open_or_create(const std::string& dir, std::uint64_t size, std::string& notes);
    /// Readers (`-s status`): maps an existing segment read-only.
    static shared_state open_existing(const std::string& dir);

    backend_table& backends() { return *backends_; }
    limit_table& limits() { return *limits_; }
    counter_table& counters() { return *counters_; }
    const segment& seg() const { return seg_; }

private:
    segment seg_;
    std::optional<backend_table> backends_;  // views into seg_
    std::optional<limit_table> limits_;
    std::optional<counter_table> counters_;
};

}  // namespace bulwark::shm

#include <vector>

#include "config/model.hpp"

namespace bulwark::shm {

/// Handles of every server, [upstream index][server index] as in the config.
using backend_handles = std::vector<std::vector<backend_handle>>;

/// Master, before forking (and on reload): finds or adds every configured server in the backend table,
/// so servers that stay keep their state. Servers the table has no room for get an invalid handle
/// (their shared state is then not tracked) and are reported in `notes`.
backend_handles register_backends(backend_table& table, const config::config& cfg, std::string& notes);

/// Master: rows "listener:NAME" and "route:NAME" for every listener and route (kept across reloads).
void register_counters(counter_table& table, const config::config& cfg, std::string& notes);

}  // namespace bulwark::shm
