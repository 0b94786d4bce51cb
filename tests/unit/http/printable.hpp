// http/printable: bytes of a message made readable in a failure message (CR, LF and other control
// bytes shown as escapes), for every HTTP unit test.
#pragma once

#include <string>
#include <string_view>

namespace bulwark::test {

inline std::string printable(std::string_view s) {
    static const char hex[] = "0123456789abcdef";
    std::string out;
    for (char c : s) {
        auto u = static_cast<unsigned char>(c);
        if (c == '\r') out += "\\r";
        else if (c == '\n') out += "\\n";
        else if (u < 0x20 || u >= 0x7f) {
            out += "\\x";
            out += hex[u >> 4];
            out += hex[u & 15];
        } else out += c;
    }
    return out;
}

}  // namespace bulwark::test
