// cache/store_writer: streams one object into the arena. At most one chunk is buffered in the writer's
// heap; each full chunk becomes a chunk record (lz4 when asked and smaller), linked from the previous
// one. The head record is written last, at commit, and only then published by a CAS on an index slot:
// until that instant nothing of the object is reachable, so a writer that dies leaves only garbage
// for the ring to pass over.
#include "cache/store.hpp"

#include <lz4.h>

#include <algorithm>
#include <cstring>

#include "cache/store_impl.hpp"

namespace bulwark::cache {

using layout::record_header;

struct object_writer::state {
    detail::store_impl* st = nullptr;
    std::string key, head;
    std::uint64_t hash = 0, object_id = 0, max_body = 0;
    bool compress = false;
    std::vector<char> buf, zbuf;  // the pending chunk, its compressed form
    std::uint64_t body_size = 0, first = 0, last = 0, stored_bytes = 0;
    std::uint32_t chunks = 0;

    // The chunk's stored form: lz4 when asked and it shrinks, else the identity bytes.
    const char* encode(std::uint32_t& len, std::uint32_t& flags) {
        len = static_cast<std::uint32_t>(buf.size());
        flags = 0;
        if (!compress || buf.size() < 2) return buf.data();
        zbuf.resize(static_cast<std::size_t>(LZ4_compressBound(static_cast<int>(store::max_chunk))));
        int n = LZ4_compress_default(buf.data(), zbuf.data(), static_cast<int>(buf.size()),
                                     static_cast<int>(buf.size()) - 1);
        if (n <= 0) return buf.data();
        len = static_cast<std::uint32_t>(n);
        flags = layout::flag_compressed;
        return zbuf.data();
    }
    bool flush();
};

object_writer::object_writer() noexcept = default;
object_writer::object_writer(object_writer&&) noexcept = default;
object_writer& object_writer::operator=(object_writer&&) noexcept = default;
object_writer::~object_writer() = default;  // uncommitted space is left to the ring

// Writes the buffered chunk as a chunk record and links the previous one to it.
bool object_writer::state::flush() {
    state& s = *this;
    record_header h{};
    std::uint32_t data_len = 0, flags = 0;
    const char* data = s.encode(data_len, flags);
    const std::uint64_t len = detail::align_record(sizeof h + data_len);
    if (s.stored_bytes + len > s.st->arena_bytes / 2) return false;  // would evict itself
    const std::uint64_t pos = s.st->reserve(len);
    if (pos == 0) return false;
    h.magic = layout::chunk_magic;
    h.len = static_cast<std::uint32_t>(len);
    h.object_id = s.object_id;
    h.key_hash = s.hash;
    h.seq = s.chunks;
    h.ident_len = static_cast<std::uint32_t>(s.buf.size());
    h.data_len = data_len;
    h.flags = flags;
    s.st->write_record(pos, h, nullptr, nullptr, data);
    if (s.last != 0) {
        if (!s.st->still_live(s.last)) return false;  // the ring passed our first chunks already
        shm::store(reinterpret_cast<record_header*>(s.st->at(s.last))->link, pos);
    } else {
        s.first = pos;
    }
    s.last = pos;
    ++s.chunks;
    s.stored_bytes += len;
    s.buf.clear();
    s.st->count(s.st->hdr->bytes_stored, len);
    return true;
}


bool object_writer::append(const char* data, std::size_t n) {
    if (!ok_) return false;
    state& s = *s_;
    if (s.max_body != 0 && s.body_size + n > s.max_body) return ok_ = false;
    s.body_size += n;
    while (n > 0) {
        if (s.buf.size() == store::max_chunk && !s.flush()) return ok_ = false;
        const std::size_t take = std::min(n, store::max_chunk - s.buf.size());
        s.buf.insert(s.buf.end(), data, data + take);
        data += take;
        n -= take;
    }
    return true;
}

bool object_writer::commit() {
    if (!ok_) return false;
    ok_ = false;  // one commit per writer
    state& s = *s_;
    if (s.chunks > 0 && !s.buf.empty() && !s.flush()) return false;
    const bool inl = s.chunks == 0;
    record_header h{};
    std::uint32_t data_len = 0, flags = 0;
    const char* data = inl ? s.encode(data_len, flags) : nullptr;
    const std::uint64_t len = detail::align_record(sizeof h + s.key.size() + s.head.size() + data_len);
    const std::uint64_t pos = s.st->reserve(len);
    if (pos == 0) return false;
    h.magic = layout::head_magic;
    h.len = static_cast<std::uint32_t>(len);
    h.object_id = s.object_id;
    h.key_hash = s.hash;
    h.link = s.first;
    h.body_size = s.body_size;
    h.stored_ms = detail::unix_ms();
    h.stored_bytes = s.stored_bytes + len;
    h.key_len = static_cast<std::uint32_t>(s.key.size());
    h.head_len = static_cast<std::uint32_t>(s.head.size());
    h.seq = s.chunks;
    h.ident_len = inl ? static_cast<std::uint32_t>(s.buf.size()) : 0;
    h.data_len = data_len;
    h.flags = flags | (inl ? layout::flag_inline : 0);
    s.st->write_record(pos, h, s.key.data(), s.head.data(), data);
    if ((s.first != 0 && !s.st->still_live(s.first)) || !s.st->still_live(pos)) return false;
    if (!s.st->publish(s.key, s.hash, pos)) return false;
    if (s.first != 0 && !s.st->still_live(s.first)) {
        // The ring passed our first chunk between the check and the CAS, too late to drop our slot:
        // withdraw it (readers already treat it as gone).
        if (s.st->repoint(s.hash, pos, 0)) s.st->uncount(s.st->hdr->live_objects);
        return false;
    }
    s.st->count(s.st->hdr->stored);
    s.st->count(s.st->hdr->bytes_stored, len);
    return true;
}

object_writer store::begin(std::string_view key, std::string_view head, bool compress, std::uint64_t max_body) {
    object_writer w;
    if (!impl_ || impl_->read_only) return w;
    // The head record (key, head blob, an inline chunk) must fit one reservation.
    const std::uint64_t need = sizeof(record_header) + key.size() + head.size() + max_chunk + 64;
    if (need > impl_->max_record) return w;
    try {
        auto s = std::make_unique<object_writer::state>();
        s->st = impl_.get();
        s->key.assign(key);
        s->head.assign(head);
        s->hash = impl_->key_hash(key);
        s->object_id = shm::add(impl_->hdr->next_object_id, std::uint64_t{1});
        s->max_body = max_body;
        s->compress = compress;
        s->buf.reserve(max_chunk);
        w.s_ = std::move(s);
        w.ok_ = true;
    } catch (...) {
        w.ok_ = false;
    }
    return w;
}

}  // namespace bulwark::cache
