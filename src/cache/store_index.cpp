// cache/store_index: the open-addressed index, bucketised: a key's hash picks one group of 8 slots (one
// cache line) and the key may sit in any of them. A slot is one 64-bit word (tag, position, CLOCK bit)
// changed only by CAS; a slot whose position fell behind the horizon reads as empty. The stored key is
// always compared, so a tag collision costs a record read, never a wrong answer.
#include "cache/store_impl.hpp"

#include <algorithm>
#include <cstring>

namespace bulwark::cache::detail {

using layout::index_ways;
using layout::record_header;

bool store_impl::matches(std::uint64_t word, std::string_view key, std::uint64_t hash,
                         record_header* out) const noexcept {
    if (word == 0 || slot_tag(word) != (hash >> 48)) return false;
    const std::uint64_t pos = slot_pos(word);
    record_header h;
    if (!load_header(pos, h) || h.magic != layout::head_magic || h.key_hash != hash || h.key_len != key.size())
        return false;
    const char* k = payload(pos);
    if (std::memcmp(k, key.data(), key.size()) != 0 || meta_crc_of(h, k) != h.meta_crc ||
        !still_live(h.link != 0 ? std::min(h.link, pos) : pos))  // the first chunk is the oldest record
        return false;
    if (out != nullptr) *out = h;
    return true;
}

namespace {

// Of two slots holding the same key, the one with the higher position (the later reservation) stays.
void drop_duplicates(const store_impl& st, std::uint64_t* g, std::size_t mine, std::uint64_t my_word,
                     std::string_view key, std::uint64_t hash) noexcept {
    for (std::size_t w = 0; w < index_ways; ++w) {
        if (w == mine) continue;
        std::uint64_t word = shm::load(g[w]);
        if (!st.matches(word, key, hash)) continue;
        if (slot_pos(word) < slot_pos(my_word)) {
            if (shm::cas(g[w], word, std::uint64_t{0})) st.uncount(st.hdr->live_objects);
        } else if (shm::cas(g[mine], my_word, std::uint64_t{0})) {
            st.uncount(st.hdr->live_objects);
            return;
        }
    }
}

}  // namespace

bool store_impl::publish(std::string_view key, std::uint64_t hash, std::uint64_t pos) noexcept {
    std::uint64_t* g = group(hash);
    const std::uint64_t word = make_slot(hash, pos);
    for (int attempt = 0; attempt < 8; ++attempt) {
        const std::uint64_t hz = horizon();
        std::size_t same = index_ways, free = index_ways, oldest = index_ways;
        std::uint64_t words[index_ways];
        for (std::size_t w = 0; w < index_ways; ++w) {
            words[w] = shm::load(g[w]);
            if (words[w] != 0 && matches(words[w], key, hash)) {
                same = w;
                break;
            }
            if (words[w] == 0 || slot_pos(words[w]) < hz) {
                if (free == index_ways) free = w;
            } else if (oldest == index_ways || slot_pos(words[w]) < slot_pos(words[oldest])) {
                oldest = w;
            }
        }
        if (same != index_ways) {  // a newer version of the key: replace in place
            if (shm::cas(g[same], words[same], word)) return true;
            continue;
        }
        const std::size_t target = free != index_ways ? free : oldest;
        if (!shm::cas(g[target], words[target], word)) continue;
        if (free != index_ways) {
            count(hdr->live_objects);
        } else {
            count(hdr->evicted);  // the group was full: its oldest object makes room
        }
        drop_duplicates(*this, g, target, word, key, hash);
        return true;
    }
    return false;
}

bool store_impl::erase(std::string_view key) noexcept {
    if (read_only) return false;
    const std::uint64_t hash = key_hash(key);
    std::uint64_t* g = group(hash);
    bool removed = false;
    for (std::size_t w = 0; w < index_ways; ++w) {
        std::uint64_t word = shm::load(g[w]);
        if (matches(word, key, hash) && shm::cas(g[w], word, std::uint64_t{0})) {
            count(hdr->evicted);
            uncount(hdr->live_objects);
            removed = true;
        }
    }
    return removed;
}

std::size_t store_impl::erase_prefix(std::string_view prefix) noexcept {
    if (read_only) return 0;
    std::size_t removed = 0;
    for (std::uint64_t i = 0; i < groups * index_ways; ++i) {
        const std::uint64_t word = shm::load(slots[i]);
        if (word == 0) continue;
        const std::uint64_t pos = slot_pos(word);
        record_header h;
        if (!head_ok(pos, h) || h.key_len < prefix.size()) continue;
        std::string_view key(payload(pos), h.key_len);
        if (key.substr(0, prefix.size()) != prefix || !still_live(pos)) continue;
        std::uint64_t expected = word;
        if (shm::cas(slots[i], expected, std::uint64_t{0})) {
            count(hdr->evicted);
            uncount(hdr->live_objects);
            ++removed;
        }
    }
    return removed;
}

bool store_impl::repoint(std::uint64_t hash, std::uint64_t old_pos, std::uint64_t new_pos) noexcept {
    std::uint64_t* g = group(hash);
    for (std::size_t w = 0; w < index_ways; ++w) {
        std::uint64_t word = shm::load(g[w]);
        while (word != 0 && slot_pos(word) == old_pos) {  // a touch() may set the CLOCK bit meanwhile
            if (shm::cas(g[w], word, make_slot(hash, new_pos))) return true;
        }
    }
    return false;
}

}  // namespace bulwark::cache::detail
