// cache/store_reader: a body out of the arena chunk by chunk. Each chunk record is checked (magic,
// position, object id, sequence, checksums), decompressed straight into the caller's buffer, and
// confirmed still ahead of the horizon afterwards: a reader overtaken by the ring gets false and
// evicted(), never bytes of another object.
#include "cache/store.hpp"

#include <lz4.h>

#include <cstring>

#include "cache/store_impl.hpp"

namespace bulwark::cache {

namespace detail {
struct chunk_view {
    layout::record_header h;
    const char* data = nullptr;  // stored bytes in the mapping (verify with still_live after use)
};
}  // namespace detail

bool body_reader::fail() {
    evicted_ = true;
    remaining_ = 0;
    return false;
}

// The next chunk's header and where its data is; false when it is not the record we expect.
bool body_reader::load_chunk(detail::chunk_view& c) {
    layout::record_header& h = c.h;
    if (!st_->load_header(chunk_pos_, h) || h.object_id != object_id_) return false;
    const char* p = st_->payload(chunk_pos_);
    if (inline_) {
        if (h.magic != layout::head_magic || !(h.flags & layout::flag_inline)) return false;
        if (detail::meta_crc_of(h, p) != h.meta_crc) return false;
        c.data = p + h.key_len + h.head_len;
    } else {
        if (h.magic != layout::chunk_magic || h.seq != seq_ || detail::meta_crc_of(h, nullptr) != h.meta_crc)
            return false;
        c.data = p;
    }
    if (h.ident_len > store::max_chunk || h.ident_len > remaining_ + skip_) return false;
    if (!(h.flags & layout::flag_compressed) && h.data_len != h.ident_len) return false;
    return true;
}

bool body_reader::next(char* out, std::size_t cap, std::size_t& n) {
    n = 0;
    if (evicted_ || st_ == nullptr) return false;
    if (remaining_ == 0) return true;
    if (cap < store::max_chunk) return false;
    detail::chunk_view c;
    if (!load_chunk(c)) return fail();
    const layout::record_header& h = c.h;
    if (h.flags & layout::flag_compressed) {
        int got = LZ4_decompress_safe(c.data, out, static_cast<int>(h.data_len), static_cast<int>(cap));
        if (got < 0 || static_cast<std::uint32_t>(got) != h.ident_len) return fail();
    } else {
        std::memcpy(out, c.data, h.ident_len);
    }
    if (detail::crc(c.data, h.data_len) != h.data_crc || !st_->still_live(chunk_pos_)) return fail();
    if (skip_ >= h.ident_len) return fail();  // seek() leaves skip_ inside this chunk
    n = h.ident_len - skip_;
    if (skip_ != 0) std::memmove(out, out + skip_, n);
    if (n > remaining_) return fail();
    remaining_ -= n;
    offset_ += n;
    skip_ = 0;
    chunk_pos_ = inline_ ? 0 : h.link;
    inline_ = false;
    ++seq_;
    if (remaining_ != 0 && chunk_pos_ == 0) return fail();  // a chain shorter than the body
    return true;
}

// A raw chunk's data is checked by position (still ahead of the horizon, confirm()) rather than by
// its crc: hashing every byte of every hit would cost as much as sending it. The record header, and
// its crc, are still verified before the view is handed out.
bool body_reader::next_view(std::string_view& data) {
    data = {};
    if (evicted_ || st_ == nullptr || remaining_ == 0) return false;
    detail::chunk_view c;
    if (!load_chunk(c)) return fail();
    const layout::record_header& h = c.h;
    if (h.flags & layout::flag_compressed) return false;
    if (skip_ >= h.ident_len || h.ident_len - skip_ > remaining_) return fail();
    data = {c.data + skip_, h.ident_len - skip_};
    viewed_pos_ = chunk_pos_;
    remaining_ -= data.size();
    offset_ += data.size();
    skip_ = 0;
    chunk_pos_ = inline_ ? 0 : h.link;
    inline_ = false;
    ++seq_;
    if (remaining_ != 0 && chunk_pos_ == 0) return fail();
    return true;
}

bool body_reader::confirm() const { return st_ != nullptr && viewed_pos_ != 0 && st_->still_live(viewed_pos_); }

bool body_reader::seek(std::uint64_t offset) {
    if (evicted_ || st_ == nullptr) return false;
    const std::uint64_t here = offset_, end = offset_ + remaining_;
    if (offset < here || offset > end) return false;
    std::uint64_t to_skip = offset - here + skip_;
    skip_ = 0;
    while (to_skip > 0) {
        detail::chunk_view c;
        if (!load_chunk(c) || !st_->still_live(chunk_pos_)) return fail();
        if (to_skip < c.h.ident_len) break;  // the target is inside this chunk
        to_skip -= c.h.ident_len;
        chunk_pos_ = inline_ ? 0 : c.h.link;
        inline_ = false;
        ++seq_;
        if (chunk_pos_ == 0 && offset != end) return fail();
    }
    skip_ = to_skip;
    remaining_ = end - offset;
    offset_ = offset;
    return true;
}

}  // namespace bulwark::cache
