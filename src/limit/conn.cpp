// limit/conn: a counted connection is owned by exactly one conn_slot; moves transfer it, so it is
// released exactly once.
#include "limit/conn.hpp"

#include <string_view>
#include <utility>

#include "shm/hash.hpp"

namespace bulwark::limit {

std::uint64_t conn_slot::entry_of(const shm::limit_table& table, const ip_address& client,
                                  std::uint32_t scope) noexcept {
    const ip_address a = client.unmapped();
    std::string_view bytes(reinterpret_cast<const char*>(a.bytes.data()), a.v6 ? 16 : 4);
    // A salt of its own keeps these entries apart from any [limit:NAME] entry of the same address.
    const std::uint64_t salt = shm::hash_bytes("max_conns_per_ip", scope);
    std::uint64_t e = shm::mix64(table.key_of(bytes, 0) ^ salt);
    return e == 0 ? 1 : e;
}

conn_slot::conn_slot(conn_slot&& other) noexcept
    : table_(std::exchange(other.table_, std::nullopt)), entry_(std::exchange(other.entry_, 0)) {}

conn_slot& conn_slot::operator=(conn_slot&& other) noexcept {
    if (this != &other) {
        release();
        table_ = std::exchange(other.table_, std::nullopt);
        entry_ = std::exchange(other.entry_, 0);
    }
    return *this;
}

bool conn_slot::acquire(shm::limit_table& table, const ip_address& client, std::uint32_t max,
                        std::uint64_t now_ms, std::uint32_t scope) noexcept {
    release();
    if (max == 0) return true;  // no limit configured: nothing to count
    const std::uint64_t entry = entry_of(table, client, scope);
    if (!table.conn_acquire(entry, max, now_ms)) return false;
    table_ = table;
    entry_ = entry;
    return true;
}

void conn_slot::release() noexcept {
    if (!table_) return;
    table_->conn_release(entry_);
    table_.reset();
    entry_ = 0;
}

}  // namespace bulwark::limit
