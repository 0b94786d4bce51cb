// shm/shared_state: backend table at offset 0 of the data area, limit table after it (cache-line
// aligned), sized so that the whole fits the configured shm_size.
#include "shm/shared_state.hpp"

#include <cerrno>
#include <stdexcept>
#include <sys/stat.h>
#include <system_error>

namespace bulwark::shm {
namespace {

struct layout {
    std::size_t backend_bytes;
    std::size_t counter_offset;
    std::size_t limit_offset;
    std::uint32_t limit_slots;
};

layout plan(std::size_t data_size) {
    layout l;
    l.backend_bytes = backend_table::bytes_for(shared_state::backend_capacity);
    l.counter_offset = align_up(l.backend_bytes, cache_line_bytes);
    l.limit_offset = align_up(l.counter_offset + counter_table::bytes_for(), cache_line_bytes);
    if (data_size <= l.limit_offset + limit_table::bytes_for(8))
        throw std::invalid_argument("shm_size too small for the backend and limit tables");
    std::size_t rest = data_size - l.limit_offset;
    // bytes_for rounds up to a power of two of groups: halve until it fits.
    std::uint32_t slots = 1u << 30;
    while (slots > 8 && limit_table::bytes_for(slots) > rest) slots /= 2;
    l.limit_slots = slots;
    return l;
}

}  // namespace

shared_state shared_state::open_or_create(const std::string& dir, std::uint64_t size, std::string& notes) {
    for (std::size_t slash = dir.find('/', 1);; slash = dir.find('/', slash + 1)) {
        std::string part = dir.substr(0, slash);
        if (::mkdir(part.c_str(), 0755) != 0 && errno != EEXIST)
            throw std::system_error(errno, std::generic_category(), "cannot create state_dir " + part);
        if (slash == std::string::npos) break;
    }
    shared_state st;
    auto opened = segment::open_or_create(dir + "/" + file_name, static_cast<std::size_t>(size), layout_version);
    if (opened.created && !opened.reason.empty()) notes += "shared memory recreated: " + opened.reason + "\n";
    st.seg_ = std::move(opened.seg);
    layout l = plan(st.seg_.data_size());
    std::string reason;
    st.backends_ = backend_table::open_or_format(st.seg_.area(0, l.backend_bytes), backend_capacity, reason);
    if (!reason.empty()) notes += "backend table formatted: " + reason + "\n";
    reason.clear();
    st.counters_ = counter_table::open_or_format(st.seg_.area(l.counter_offset, counter_table::bytes_for()), reason);
    if (!reason.empty()) notes += "counter table formatted: " + reason + "\n";
    reason.clear();
    st.limits_ = limit_table::open_or_format(st.seg_.area(l.limit_offset, limit_table::bytes_for(l.limit_slots)),
                                             l.limit_slots, reason);
    if (!reason.empty()) notes += "limit table formatted: " + reason + "\n";
    return st;
}

shared_state shared_state::open_existing(const std::string& dir) {
    shared_state st;
    st.seg_ = segment::open_existing(dir + "/" + file_name, layout_version, segment_access::read_only);
    layout l = plan(st.seg_.data_size());
    st.backends_ = backend_table::attach(st.seg_.area(0, l.backend_bytes));
    st.counters_ = counter_table::attach(st.seg_.area(l.counter_offset, counter_table::bytes_for()));
    st.limits_ = limit_table::attach(st.seg_.area(l.limit_offset, limit_table::bytes_for(l.limit_slots)));
    return st;
}

}  // namespace bulwark::shm

namespace bulwark::shm {

void register_counters(counter_table& table, const config::config& cfg, std::string& notes) {
    auto add = [&](const std::string& key) {
        if (table.find_or_add(key) == counter_table::npos) notes += "no room for the counters of " + key + "\n";
    };
    for (const auto& l : cfg.listeners) add("listener:" + l.name);
    for (const auto& r : cfg.routes) add("route:" + r.name);
}

backend_handles register_backends(backend_table& table, const config::config& cfg, std::string& notes) {
    backend_handles handles;
    std::uint64_t gen = table.begin_generation();
    for (const auto& u : cfg.upstreams) {
        auto& row = handles.emplace_back();
        for (const auto& s : u.servers) {
            std::string error;
            auto h = table.find_or_add(u.name, s.address.text(), gen, &error);
            if (!h) notes += "upstream \"" + u.name + "\" server " + s.address.text() + ": " + error + "\n";
            row.push_back(h.value_or(backend_handle{}));
        }
    }
    return handles;
}

}  // namespace bulwark::shm
