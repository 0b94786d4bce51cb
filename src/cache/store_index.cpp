// cache/store_index: the open-addressed index, bucketised with two choices: a key's hash picks two
// groups of 8 slots (a cache line each) and the key may sit in any of those 16 slots. A slot is one 64-bit word (tag, position, CLOCK bit)
// changed only by CAS; a slot whose position fell behind the horizon reads as empty. The stored key is
// always compared, so a tag collision costs a record read, never a wrong answer.
#include "cache/store_impl.hpp"

#include <algorithm>
#include <cstring>

namespace bulwark::cache::detail {

using layout::record_header;

bool store_impl::matches(std::uint64_t word, std::string_view key, std::uint64_t hash,
                         record_header* out) const noexcept {
    if (word == 0 || slot_tag(word) != key_tag(hash)) return false;
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
void drop_duplicates(const store_impl& st, std::uint64_t* mine, std::uint64_t my_word, std::string_view key,
                     std::uint64_t hash) noexcept {
    for (std::size_t i = 0; i < store_impl::probe_slots; ++i) {
        std::uint64_t* other = st.slot(hash, i);
        if (other == mine) continue;
        std::uint64_t word = shm::load(*other);
        if (!st.matches(word, key, hash)) continue;
        if (slot_pos(word) < slot_pos(my_word)) {
            if (shm::cas(*other, word, std::uint64_t{0})) st.uncount(st.hdr->live_objects);
        } else if (shm::cas(*mine, my_word, std::uint64_t{0})) {
            st.uncount(st.hdr->live_objects);
            return;
        }
    }
}

// One scan of a key's candidate slots: where the key already is, the first free slot of the less
// loaded group, and the oldest object (the victim when both groups are full).
struct placement {
    static constexpr std::size_t none = store_impl::probe_slots;
    std::uint64_t words[store_impl::probe_slots];
    std::size_t same = none, oldest = none, free[2] = {none, none};
    unsigned used[2] = {0, 0};

    void scan(const store_impl& st, std::string_view key, std::uint64_t hash) noexcept {
        const std::uint64_t hz = st.horizon();
        for (std::size_t i = 0; i < store_impl::probe_slots; ++i) {
            const std::size_t g = i / layout::index_ways;
            words[i] = shm::load(*st.slot(hash, i));
            if (words[i] != 0 && st.matches(words[i], key, hash)) {
                same = i;
                return;
            }
            if (words[i] == 0 || slot_pos(words[i]) < hz) {
                if (free[g] == none) free[g] = i;
                continue;
            }
            ++used[g];
            if (oldest == none || slot_pos(words[i]) < slot_pos(words[oldest])) oldest = i;
        }
    }
    std::size_t free_slot() const noexcept {
        if (free[0] == none) return free[1];
        if (free[1] == none) return free[0];
        return used[1] < used[0] ? free[1] : free[0];
    }
};

}  // namespace

bool store_impl::publish(std::string_view key, std::uint64_t hash, std::uint64_t pos) noexcept {
    const std::uint64_t word = make_slot(hash, pos);
    for (int attempt = 0; attempt < 8; ++attempt) {
        placement p;
        p.scan(*this, key, hash);
        if (p.same != placement::none) {  // a newer version of the key: replace in place
            if (shm::cas(*slot(hash, p.same), p.words[p.same], word)) return true;
            continue;
        }
        const std::size_t free = p.free_slot();
        const std::size_t target = free != placement::none ? free : p.oldest;
        if (target == placement::none) return false;
        std::uint64_t* s = slot(hash, target);
        if (!shm::cas(*s, p.words[target], word)) continue;
        if (free != placement::none) {
            count(hdr->live_objects);
        } else {
            count(hdr->evicted);  // both groups full: the oldest object makes room
        }
        drop_duplicates(*this, s, word, key, hash);
        return true;
    }
    return false;
}

bool store_impl::erase(std::string_view key) noexcept {
    if (read_only) return false;
    const std::uint64_t hash = key_hash(key);
    bool removed = false;
    for (std::size_t i = 0; i < probe_slots; ++i) {
        std::uint64_t* s = slot(hash, i);
        std::uint64_t word = shm::load(*s);
        if (matches(word, key, hash) && shm::cas(*s, word, std::uint64_t{0})) {
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
    for (std::uint64_t i = 0; i < groups * layout::index_ways; ++i) {
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
    const std::uint64_t new_word = new_pos == 0 ? 0 : make_slot(hash, new_pos);
    for (std::size_t i = 0; i < probe_slots; ++i) {
        std::uint64_t* s = slot(hash, i);
        std::uint64_t word = shm::load(*s);
        while (word != 0 && slot_pos(word) == old_pos) {  // a touch() may set the CLOCK bit meanwhile
            if (shm::cas(*s, word, new_word)) return true;
        }
    }
    return false;
}

}  // namespace bulwark::cache::detail
