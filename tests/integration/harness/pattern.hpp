// harness/pattern: the deterministic byte stream that origins serve and clients upload, and the streaming
// FNV-1a hash both ends compute, so 200 MB bodies are checked without ever being held in memory.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace bulwark::test {

/// Byte number `offset` of the pattern; not periodic over any buffer size a proxy might use.
inline char pattern_byte(std::uint64_t offset) {
    auto x = static_cast<std::uint32_t>(offset) * 2654435761u;
    return static_cast<char>((x >> 24) ^ static_cast<std::uint32_t>(offset >> 32));
}

/// Fills out[0..n) with pattern bytes offset .. offset+n.
inline void fill_pattern(std::uint64_t offset, char* out, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) out[i] = pattern_byte(offset + i);
}

inline std::string pattern_string(std::uint64_t offset, std::size_t n) {
    std::string s(n, '\0');
    fill_pattern(offset, s.data(), n);
    return s;
}

/// Streaming 64-bit FNV-1a.
class fnv1a {
public:
    static constexpr std::uint64_t basis = 0xcbf29ce484222325ull;
    /// Starts from the basis, or resumes from a value() returned earlier.
    explicit fnv1a(std::uint64_t state = basis) : h_(state) {}
    void update(const char* p, std::size_t n) {
        std::uint64_t h = h_;
        for (std::size_t i = 0; i < n; ++i) {
            h ^= static_cast<unsigned char>(p[i]);
            h *= 0x100000001b3ull;
        }
        h_ = h;
    }
    void update(std::string_view s) { update(s.data(), s.size()); }
    std::uint64_t value() const { return h_; }

private:
    std::uint64_t h_;
};

/// Hash of the first n pattern bytes.
inline std::uint64_t pattern_hash(std::uint64_t n) {
    fnv1a h;
    char buf[65536];
    for (std::uint64_t off = 0; off < n;) {
        std::size_t k = static_cast<std::size_t>(std::min<std::uint64_t>(sizeof buf, n - off));
        fill_pattern(off, buf, k);
        h.update(buf, k);
        off += k;
    }
    return h.value();
}

}  // namespace bulwark::test
