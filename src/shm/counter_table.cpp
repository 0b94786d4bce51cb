// shm/counter_table: a linear array scanned by key; a few hundred listeners and routes at most, and the
// scan happens only when a configuration is applied.
#include "shm/counter_table.hpp"

#include <cstring>
#include <stdexcept>

#include "shm/atomic.hpp"

namespace bulwark::shm {

static_assert(std::is_trivially_copyable_v<counter_slot> && std::is_standard_layout_v<counter_slot>);
static_assert(std::atomic_ref<std::uint64_t>::is_always_lock_free);

counter_table::counter_table(std::byte* base) noexcept
    : header_(reinterpret_cast<counter_table_header*>(base)),
      slots_(reinterpret_cast<counter_slot*>(base + sizeof(counter_table_header))) {}

std::size_t counter_table::bytes_for() noexcept {
    return sizeof(counter_table_header) + sizeof(counter_slot) * counter_slots;
}

counter_table counter_table::open_or_format(std::span<std::byte> mem, std::string& reason) {
    if (mem.size() < bytes_for()) throw std::invalid_argument("counter table: area too small");
    auto* h = reinterpret_cast<counter_table_header*>(mem.data());
    if (h->magic == counter_table_magic && h->version == counter_table_version && h->slots == counter_slots)
        return counter_table(mem.data());
    reason = h->magic == 0 ? "no counter table" : "counter table of another layout";
    std::memset(mem.data(), 0, bytes_for());
    h->version = counter_table_version;
    h->slots = counter_slots;
    store(h->magic, counter_table_magic);
    return counter_table(mem.data());
}

counter_table counter_table::attach(std::span<std::byte> mem) {
    auto* h = reinterpret_cast<counter_table_header*>(mem.data());
    if (mem.size() < bytes_for() || load(h->magic) != counter_table_magic) throw std::runtime_error("no counter table");
    return counter_table(mem.data());
}

std::uint32_t counter_table::find(std::string_view key) const noexcept {
    for (std::uint32_t i = 0; i < counter_slots; ++i) {
        if (!load(slots_[i].live)) return npos;  // rows are filled in order: the first empty ends them
        if (key == std::string_view(slots_[i].key)) return i;
    }
    return npos;
}

std::uint32_t counter_table::find_or_add(std::string_view key) noexcept {
    if (key.size() >= counter_key_bytes) return npos;
    for (std::uint32_t i = 0; i < counter_slots; ++i) {
        counter_slot& s = slots_[i];
        if (load(s.live)) {
            if (key == std::string_view(s.key)) return i;
            continue;
        }
        std::memcpy(s.key, key.data(), key.size());
        s.key[key.size()] = '\0';
        store(s.live, 1u);  // publishes the key to readers
        return i;
    }
    return npos;
}

void counter_table::count(std::uint32_t row_index, int status, std::uint64_t body_bytes) noexcept {
    if (row_index >= counter_slots) return;
    counter_slot& s = slots_[row_index];
    add(s.requests, std::uint64_t{1});
    if (status >= 100 && status < 600) add(s.status[status / 100 - 1], std::uint64_t{1});
    if (body_bytes) add(s.bytes_out, body_bytes);
}

std::vector<counter_table::row> counter_table::rows() const {
    std::vector<row> out;
    for (std::uint32_t i = 0; i < counter_slots && load(slots_[i].live); ++i) {
        counter_slot& s = slots_[i];
        row r;
        r.key = s.key;
        r.requests = load(s.requests);
        for (int k = 0; k < 5; ++k) r.status[k] = load(s.status[k]);
        r.bytes_out = load(s.bytes_out);
        out.push_back(std::move(r));
    }
    return out;
}

}  // namespace bulwark::shm
