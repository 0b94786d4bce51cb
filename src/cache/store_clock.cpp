// cache/store_clock: eviction with a second chance (CLOCK). When the horizon is about to pass an
// indexed object (its first chunk, or its head record when the body is inline), the object loses its
// slot (an eviction), unless touch() set the slot's referenced bit and it is small: then its records
// are verified, copied out, and written again at the write head under new positions, its slot
// repointed with the bit cleared. Runs under the arena lock; at most 4 objects per reservation.
#include "cache/store_impl.hpp"

#include <cstring>

namespace bulwark::cache::detail {

using layout::record_header;

namespace {

constexpr std::uint64_t second_chance_max = 1024 * 1024;  // stored bytes; larger objects are not copied

}  // namespace

bool store_impl::moving(std::uint64_t head_pos) const noexcept {
    for (std::size_t i = relocated_; i < captured_; ++i)
        if (captures_[i].old_pos == head_pos) return true;
    return false;
}

void store_impl::pass_head(std::uint64_t pos) {
    if (moving(pos)) return;  // captured: its slot is repointed once the copy is written
    record_header h;
    std::memcpy(&h, at(pos), sizeof h);
    for (std::size_t i = 0; i < probe_slots; ++i) {
        std::uint64_t* slot_p = slot(h.key_hash, i);
        std::uint64_t word = shm::load(*slot_p);
        if (word == 0 || slot_pos(word) != pos) continue;
        // A body in chunks had its chance when its first chunk was passed.
        if ((word & layout::slot_ref_bit) && (h.flags & layout::flag_inline) && capture(pos)) return;
        if (shm::cas(*slot_p, word, std::uint64_t{0})) {
            count(hdr->evicted);
            uncount(hdr->live_objects);
        }
        return;
    }
}

// A chunk record: when it is the first chunk of an indexed object, that object goes now (its head
// record, later in the ring, would only lead to a broken body) or is copied forward whole.
void store_impl::pass_first_chunk(std::uint64_t pos) {
    record_header c;
    std::memcpy(&c, at(pos), sizeof c);
    if (c.seq != 0) return;
    for (std::size_t i = 0; i < probe_slots; ++i) {
        std::uint64_t* slot_p = slot(c.key_hash, i);
        std::uint64_t word = shm::load(*slot_p);
        record_header h;
        if (word == 0 || slot_tag(word) != key_tag(c.key_hash) || !load_header(slot_pos(word), h)) continue;
        if (h.magic != layout::head_magic || h.link != pos || h.object_id != c.object_id) continue;
        if (moving(slot_pos(word))) return;
        if ((word & layout::slot_ref_bit) && capture(slot_pos(word))) return;
        if (shm::cas(*slot_p, word, std::uint64_t{0})) {
            count(hdr->evicted);
            uncount(hdr->live_objects);
        }
    }
}

// Copies the object whose head record is at `head_pos` out of the ring, every record verified; false
// (nothing captured) when the budget is spent, it is too large or anything does not verify.
bool store_impl::capture(std::uint64_t head_pos) {
    if (captured_ == max_captures) return false;
    captured& s = captures_[captured_];
    record_header h;
    if (!head_ok(head_pos, h) || h.stored_bytes > second_chance_max || h.stored_bytes > arena_bytes / 8) return false;
    const char* p = payload(head_pos);
    if (crc(p + h.key_len, h.head_len) != h.head_crc || crc(p + h.key_len + h.head_len, h.data_len) != h.data_crc)
        return false;
    s.bytes.clear();
    std::uint64_t at_pos = (h.flags & layout::flag_inline) ? 0 : h.link;
    for (std::uint32_t seq = 0; seq < h.seq; ++seq) {
        record_header c;
        if (!load_header(at_pos, c) || c.magic != layout::chunk_magic || c.object_id != h.object_id || c.seq != seq ||
            meta_crc_of(c, nullptr) != c.meta_crc || crc(payload(at_pos), c.data_len) != c.data_crc)
            return false;
        const char* r = reinterpret_cast<const char*>(at(at_pos));
        s.bytes.insert(s.bytes.end(), r, r + c.len);
        at_pos = c.link;
    }
    if (at_pos != 0) return false;
    const char* r = reinterpret_cast<const char*>(at(head_pos));
    s.bytes.insert(s.bytes.end(), r, r + h.len);
    s.old_pos = head_pos;
    s.key_hash = h.key_hash;
    ++captured_;
    return true;
}

// Writes the captured records at the head under new positions (relinked, re-checksummed), then
// repoints the slot. The slot still designates the old head until then: readers of the old copy
// validate it as usual, and nobody can reach the new records before the repoint.
void store_impl::relocate(captured& s) {
    std::uint64_t first = 0, prev = 0, head_np = 0;
    for (std::size_t off = 0; off + sizeof(record_header) <= s.bytes.size();) {
        record_header h;
        std::memcpy(&h, s.bytes.data() + off, sizeof h);
        const std::uint64_t np = place(h.len, false);
        if (np == 0) return;  // a live writer holds up the ring: the object is lost, like any eviction
        char* dst = reinterpret_cast<char*>(at(np));
        std::memcpy(dst, s.bytes.data() + off, h.len);
        auto* r = reinterpret_cast<record_header*>(dst);
        r->pos = np;
        if (h.magic == layout::chunk_magic) {
            r->link = 0;
            r->meta_crc = meta_crc_of(*r, nullptr);
            if (prev != 0) shm::store(reinterpret_cast<record_header*>(at(prev))->link, np);
            if (first == 0) first = np;
            prev = np;
        } else {
            r->link = first;
            r->meta_crc = meta_crc_of(*r, dst + sizeof h);
            head_np = np;
        }
        off += h.len;
    }
    // Replaced or erased meanwhile: the copy is garbage for the ring to pass over.
    if (head_np != 0 && repoint(s.key_hash, s.old_pos, head_np)) count(hdr->second_chances);
}

}  // namespace bulwark::cache::detail
