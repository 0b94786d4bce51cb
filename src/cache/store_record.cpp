// cache/store_record: reading a record safely: copy the header out of the mapping, check that it
// claims the position it was found at and sizes that fit, checksum the header and key in place; the
// caller then copies what it needs and confirms with still_live() that nothing overwrote it meanwhile.
#include "cache/store_impl.hpp"

#include <signal.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "shm/hash.hpp"

namespace bulwark::cache::detail {

using layout::record_header;

std::uint32_t crc(const void* data, std::size_t n, std::uint32_t seed) noexcept {
    if (n == 0) return seed;
    return static_cast<std::uint32_t>(::crc32_z(seed, static_cast<const Bytef*>(data), n));
}

std::uint64_t unix_ms() noexcept {
    using namespace std::chrono;
    return static_cast<std::uint64_t>(duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

bool pid_alive(std::uint32_t pid) noexcept {
    if (pid == 0) return false;
    return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH;
}

std::uint32_t meta_crc_of(const record_header& h, const char* key) noexcept {
    record_header copy = h;
    copy.meta_crc = 0;
    if (copy.magic == layout::chunk_magic) copy.link = 0;  // patched after the chunk was written
    std::uint32_t c = crc(&copy, sizeof copy, 0x9e3779b9u);
    return copy.magic == layout::head_magic ? crc(key, copy.key_len, c) : c;
}

bool store_impl::load_header(std::uint64_t pos, record_header& h) const noexcept {
    if (pos < arena_bytes || pos % layout::record_align != 0 || pos < horizon()) return false;
    const std::uint64_t head = write_head();
    if (pos >= head) return false;
    std::memcpy(&h, at(pos), sizeof h);
    const std::uint64_t body = std::uint64_t{h.key_len} + h.head_len + h.data_len;
    return h.pos == pos && h.len >= sizeof h && h.len % layout::record_align == 0 && h.len <= max_record &&
           pos + h.len <= head && pos % arena_bytes + h.len <= arena_bytes && sizeof h + body <= h.len &&
           (h.magic == layout::head_magic || h.magic == layout::chunk_magic);
}

bool store_impl::head_ok(std::uint64_t pos, record_header& h) const noexcept {
    // The first chunk is the object's oldest record: once the ring passed it the object is gone.
    return load_header(pos, h) && h.magic == layout::head_magic && meta_crc_of(h, payload(pos)) == h.meta_crc &&
           still_live(h.link != 0 ? std::min(h.link, pos) : pos);
}

std::uint64_t store_impl::key_hash(std::string_view key) const noexcept {
    return shm::hash_bytes(key, hdr->seed);
}

void store_impl::uncount(std::uint64_t& field) const noexcept {
    if (read_only) return;
    std::uint64_t v = shm::load(field, std::memory_order_relaxed);
    while (v != 0 && !shm::cas(field, v, v - 1)) {
    }
}

}  // namespace bulwark::cache::detail
