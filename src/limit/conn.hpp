// limit/conn: max_conns_per_ip across all workers. A conn_slot holds one counted connection of one
// client address in shm::limit_table and gives it back when destroyed, so every exit path of a
// session releases it; a worker killed while holding slots is handled by the master calling
// limit_table::forget_connections() (counts restart from zero, releases of older slots are ignored).
#pragma once

#include <cstdint>
#include <optional>

#include "core/cidr.hpp"
#include "shm/limit_table.hpp"

namespace bulwark::limit {

class conn_slot {
public:
    conn_slot() noexcept = default;
    ~conn_slot() { release(); }
    conn_slot(conn_slot&& other) noexcept;
    conn_slot& operator=(conn_slot&& other) noexcept;
    conn_slot(const conn_slot&) = delete;
    conn_slot& operator=(const conn_slot&) = delete;

    /// Counts one more open connection of `client` unless `max` are open already, across every
    /// process sharing `table` (the handle is copied; the mapping must outlive the slot). `max` 0
    /// means no limit: true, nothing counted. `scope` separates counts (e.g. per listener; 0 = one
    /// count per address for the whole server). An IPv4-mapped IPv6 address counts as the IPv4 one.
    /// A slot already held is released first. False: refuse the connection (close it, log a line).
    bool acquire(shm::limit_table& table, const ip_address& client, std::uint32_t max, std::uint64_t now_ms,
                 std::uint32_t scope = 0) noexcept;
    /// Gives the connection back now (idempotent; the destructor calls it).
    void release() noexcept;
    bool held() const noexcept { return table_.has_value(); }

    /// The table entry counting `client`'s connections under `scope` (for tests and status output).
    static std::uint64_t entry_of(const shm::limit_table& table, const ip_address& client,
                                  std::uint32_t scope = 0) noexcept;

private:
    std::optional<shm::limit_table> table_;  // set while a connection is counted
    std::uint64_t entry_ = 0;
};

}  // namespace bulwark::limit
