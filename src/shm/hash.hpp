// shm/hash: the 64-bit key hash used by the shared tables (FNV-1a over the bytes, then the splitmix64
// finaliser so that low bits, which pick a bucket, depend on every input byte). Not cryptographic: the
// limit table mixes in a random per-table seed so that clients cannot aim keys at one bucket group.
#pragma once

#include <cstdint>
#include <string_view>

namespace bulwark::shm {

inline constexpr std::uint64_t mix64(std::uint64_t x) noexcept {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

inline constexpr std::uint64_t hash_bytes(std::string_view bytes, std::uint64_t seed = 0) noexcept {
    std::uint64_t h = 0xcbf29ce484222325ULL ^ mix64(seed);
    for (unsigned char c : bytes) {
        h ^= c;
        h *= 0x100000001b3ULL;
    }
    return mix64(h ^ bytes.size());
}

}  // namespace bulwark::shm
