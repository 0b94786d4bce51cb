// fuzz/fuzz_check: what the fuzz targets share. FUZZ_CHECK names the broken invariant on stderr and then
// traps, so libFuzzer keeps the input as a crash and the replay driver dies on it in `make check`.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string_view>

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);      \
            __builtin_trap();                                                                      \
        }                                                                                          \
    } while (0)

namespace bulwark::fuzz {

/// True when `part` points into `whole` (an empty view anywhere inside or at its end counts too).
/// Compared as addresses: a view the parser made up (a literal) is outside on purpose.
inline bool inside(std::string_view part, std::string_view whole) {
    auto p = reinterpret_cast<std::uintptr_t>(part.data());
    auto b = reinterpret_cast<std::uintptr_t>(whole.data());
    return p >= b && p + part.size() <= b + whole.size();
}

/// Same view (address and length), not just equal bytes.
inline bool same_view(std::string_view a, std::string_view b) {
    return a.data() == b.data() && a.size() == b.size();
}

}  // namespace bulwark::fuzz
