// cache/store_check: the verification pass behind `-s cache-check` and the tests: the header, the
// allocation state, every live index slot's object (head record, key, every chunk), the fill locks and
// the arena lock. Records the ring passes while the check runs are not problems; they are skipped.
#include "cache/store_impl.hpp"

#include "shm/hash.hpp"

namespace bulwark::cache::detail {

using layout::record_header;

namespace {

std::string at_slot(std::uint64_t slot, std::uint64_t pos) {
    return "index slot " + std::to_string(slot) + " (position " + std::to_string(pos) + "): ";
}

}  // namespace

// Empty when the object the slot designates verifies, else what is wrong with it.
std::string store_impl::check_object(std::uint64_t slot, std::uint64_t word) const {
    const std::uint64_t pos = slot_pos(word);
    record_header h;
    if (!head_ok(pos, h)) return "no intact head record";
    const char* p = payload(pos);
    if (shm::hash_bytes(std::string_view(p, h.key_len), hdr->seed) != h.key_hash) return "key does not hash to its hash";
    const std::uint64_t g = slot / layout::index_ways;
    if ((g != group_index(h.key_hash, 0) && g != group_index(h.key_hash, 1)) || slot_tag(word) != key_tag(h.key_hash))
        return "slot does not match the key";
    if (crc(p + h.key_len, h.head_len) != h.head_crc) return "head blob checksum mismatch";
    if (h.flags & layout::flag_inline) {
        if (h.link != 0 || h.ident_len != h.body_size) return "inline body of the wrong size";
        if (crc(p + h.key_len + h.head_len, h.data_len) != h.data_crc) return "inline body checksum mismatch";
        return {};
    }
    std::uint64_t at = h.link, total = 0;
    for (std::uint32_t seq = 0; seq < h.seq; ++seq) {
        record_header c;
        if (!load_header(at, c) || c.magic != layout::chunk_magic || c.object_id != h.object_id || c.seq != seq ||
            meta_crc_of(c, nullptr) != c.meta_crc)
            return "chunk " + std::to_string(seq) + " at " + std::to_string(at) + " is not this object's";
        if (crc(payload(at), c.data_len) != c.data_crc) return "chunk " + std::to_string(seq) + " checksum mismatch";
        total += c.ident_len;
        at = c.link;
    }
    if (at != 0 || total != h.body_size) return "chunk chain does not add up to the body size";
    return {};
}

std::vector<std::string> store_impl::check() const {
    std::vector<std::string> problems;
    const std::uint64_t hz = horizon(), head = write_head();
    if (hz < arena_bytes || hz > head || head - hz > arena_bytes || hz % layout::record_align ||
        head % layout::record_align)
        problems.push_back("allocation state out of range: horizon " + std::to_string(hz) + ", write head " +
                           std::to_string(head));
    for (std::uint64_t i = 0; i < groups * layout::index_ways; ++i) {
        const std::uint64_t word = shm::load(slots[i]);
        if (word == 0) continue;
        const std::uint64_t pos = slot_pos(word);
        if (pos < horizon()) continue;  // behind the horizon: reads as empty
        if (pos >= write_head()) {
            problems.push_back(at_slot(i, pos) + "beyond the write head " + std::to_string(write_head()));
            continue;
        }
        record_header h;
        if (load_header(pos, h) && h.magic == layout::head_magic && meta_crc_of(h, payload(pos)) == h.meta_crc &&
            h.link != 0 && h.link < horizon())
            continue;  // evicted from its first chunk on; the slot is cleared when the ring passes the head
        std::string why = check_object(i, word);
        if (!why.empty() && shm::load(slots[i]) == word && pos >= horizon()) problems.push_back(at_slot(i, pos) + why);
    }
    for (std::size_t i = 0; i < layout::fill_lock_entries; ++i) {
        const std::uint64_t w = shm::load(fills[i]);
        const auto pid = static_cast<std::uint32_t>((w >> 26) & layout::fill_pid_mask);
        if (w != 0 && !pid_alive(pid))
            problems.push_back("fill lock " + std::to_string(i) + ": held by dead pid " + std::to_string(pid));
    }
    const std::uint32_t owner = shm::load(hdr->lock.owner_pid);
    if (owner != 0 && !pid_alive(owner))
        problems.push_back("arena lock: held by dead pid " + std::to_string(owner) + " (recovered by the next writer)");
    return problems;
}

}  // namespace bulwark::cache::detail
