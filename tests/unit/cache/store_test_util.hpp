// Helpers for the cache store tests: bodies of known content, one-call store and read-back.
#pragma once

#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "../shm/shm_test_util.hpp"
#include "cache/store.hpp"

BOOST_TEST_DONT_PRINT_LOG_VALUE(bulwark::cache::entry_ref)

namespace store_test {

namespace cache = bulwark::cache;
using shm_test::temp_dir;

constexpr std::uint64_t mib = 1024 * 1024;

/// Bytes lz4 cannot shrink (xorshift noise), reproducible from `seed`.
inline std::string noise(std::size_t n, std::uint64_t seed = 1) {
    std::string s(n, '\0');
    std::uint64_t x = seed * 0x9e3779b97f4a7c15ULL + 1;
    for (auto& c : s) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        c = static_cast<char>(x >> 56);
    }
    return s;
}

/// Bytes lz4 shrinks well (repetitive text), distinct per `seed`.
inline std::string text(std::size_t n, std::uint64_t seed = 1) {
    std::string s;
    s.reserve(n + 64);
    for (std::uint64_t i = 0; s.size() < n; ++i)
        s += "line " + std::to_string(i % 97) + " of object " + std::to_string(seed) + " lorem ipsum\n";
    s.resize(n);
    return s;
}

/// Stores `body` under `key`, appended in pieces of `piece` bytes; true when committed.
inline bool put(cache::store& st, std::string_view key, std::string_view head, std::string_view body,
                bool compress = false, std::size_t piece = 10000, std::uint64_t max_body = 0) {
    auto w = st.begin(key, head, compress, max_body);
    for (std::size_t off = 0; off < body.size() && w.ok(); off += piece) {
        if (!w.append(body.data() + off, std::min(piece, body.size() - off))) return false;
    }
    return w.ok() && w.commit();
}

/// The whole body of `e`, or nothing when the reader reported eviction/corruption.
inline std::optional<std::string> read_body(const cache::store& st, const cache::entry_ref& e) {
    auto r = st.open_body(e);
    std::string out;
    std::vector<char> buf(cache::store::max_chunk);
    for (;;) {
        std::size_t n = 0;
        if (!r.next(buf.data(), buf.size(), n)) return std::nullopt;
        if (n == 0) return out;
        out.append(buf.data(), n);
    }
}

/// find + read_head + body; nothing when any step fails.
inline std::optional<std::string> get(const cache::store& st, std::string_view key, std::string* head = nullptr) {
    auto e = st.find(key);
    if (!e) return std::nullopt;
    std::string h;
    if (!st.read_head(e, h)) return std::nullopt;
    if (head != nullptr) *head = h;
    auto body = read_body(st, e);
    if (body && body->size() != e.body_size) return std::nullopt;
    return body;
}

/// A fresh 4 MiB store in its own directory.
struct fixture {
    temp_dir dir;
    std::string path = dir.file("cache");
    std::string note;
    cache::store st = cache::store::open_or_create(path, 4 * mib, note);
};

}  // namespace store_test
