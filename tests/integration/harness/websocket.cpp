// harness/websocket: SHA-1 is the plain FIPS 180-4 block loop; speed does not matter here.
#include "harness/websocket.hpp"

#include <cstring>

#include "harness/http_client.hpp"

namespace bulwark::test {
namespace {

std::uint32_t rol(std::uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }

}  // namespace

std::array<unsigned char, 20> sha1(std::string_view data) {
    std::uint32_t h[5] = {0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u, 0xC3D2E1F0u};
    std::string msg(data);
    const std::uint64_t bits = static_cast<std::uint64_t>(data.size()) * 8;
    msg.push_back(static_cast<char>(0x80));
    while (msg.size() % 64 != 56) msg.push_back('\0');
    for (int i = 7; i >= 0; --i) msg.push_back(static_cast<char>((bits >> (i * 8)) & 0xff));

    for (std::size_t off = 0; off < msg.size(); off += 64) {
        std::uint32_t w[80];
        for (int i = 0; i < 16; ++i) {
            const auto* p = reinterpret_cast<const unsigned char*>(msg.data() + off + static_cast<std::size_t>(i) * 4);
            w[i] = (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
        }
        for (int i = 16; i < 80; ++i) w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
        std::uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
        for (int i = 0; i < 80; ++i) {
            std::uint32_t f, k;
            if (i < 20) {
                f = (b & c) | (~b & d);
                k = 0x5A827999u;
            } else if (i < 40) {
                f = b ^ c ^ d;
                k = 0x6ED9EBA1u;
            } else if (i < 60) {
                f = (b & c) | (b & d) | (c & d);
                k = 0x8F1BBCDCu;
            } else {
                f = b ^ c ^ d;
                k = 0xCA62C1D6u;
            }
            std::uint32_t t = rol(a, 5) + f + e + k + w[i];
            e = d;
            d = c;
            c = rol(b, 30);
            b = a;
            a = t;
        }
        h[0] += a;
        h[1] += b;
        h[2] += c;
        h[3] += d;
        h[4] += e;
    }
    std::array<unsigned char, 20> out{};
    for (int i = 0; i < 5; ++i)
        for (int j = 0; j < 4; ++j)
            out[static_cast<std::size_t>(i * 4 + j)] = static_cast<unsigned char>((h[i] >> (24 - j * 8)) & 0xff);
    return out;
}

std::string base64(std::string_view data) {
    static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    std::size_t i = 0;
    for (; i + 3 <= data.size(); i += 3) {
        std::uint32_t v = (std::uint32_t{static_cast<unsigned char>(data[i])} << 16) |
                          (std::uint32_t{static_cast<unsigned char>(data[i + 1])} << 8) |
                          static_cast<unsigned char>(data[i + 2]);
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
        out += alphabet[(v >> 6) & 63];
        out += alphabet[v & 63];
    }
    std::size_t rest = data.size() - i;
    if (rest > 0) {
        std::uint32_t v = std::uint32_t{static_cast<unsigned char>(data[i])} << 16;
        if (rest == 2) v |= std::uint32_t{static_cast<unsigned char>(data[i + 1])} << 8;
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
        out += rest == 2 ? alphabet[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

std::string websocket_accept(std::string_view key) {
    std::string s(key);
    s += "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    auto d = sha1(s);
    return base64(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
}

std::string ws_encode(int opcode, std::string_view payload, bool mask, std::uint32_t mask_key, bool fin) {
    std::string f;
    f.push_back(static_cast<char>((fin ? 0x80 : 0) | (opcode & 0x0f)));
    const std::uint64_t n = payload.size();
    const char m = mask ? static_cast<char>(0x80) : 0;
    if (n < 126) {
        f.push_back(static_cast<char>(m | static_cast<char>(n)));
    } else if (n <= 0xffff) {
        f.push_back(static_cast<char>(m | 126));
        f.push_back(static_cast<char>((n >> 8) & 0xff));
        f.push_back(static_cast<char>(n & 0xff));
    } else {
        f.push_back(static_cast<char>(m | 127));
        for (int i = 7; i >= 0; --i) f.push_back(static_cast<char>((n >> (i * 8)) & 0xff));
    }
    unsigned char key[4] = {static_cast<unsigned char>(mask_key >> 24), static_cast<unsigned char>(mask_key >> 16),
                            static_cast<unsigned char>(mask_key >> 8), static_cast<unsigned char>(mask_key)};
    if (mask) f.append(reinterpret_cast<const char*>(key), 4);
    std::size_t at = f.size();
    f.append(payload);
    if (mask)
        for (std::size_t i = 0; i < payload.size(); ++i) f[at + i] = static_cast<char>(f[at + i] ^ key[i % 4]);
    return f;
}

std::optional<ws_frame> ws_decode(std::string& buf, std::uint64_t max_payload) {
    if (buf.size() < 2) return std::nullopt;
    auto b0 = static_cast<unsigned char>(buf[0]);
    auto b1 = static_cast<unsigned char>(buf[1]);
    ws_frame f;
    f.fin = (b0 & 0x80) != 0;
    f.opcode = b0 & 0x0f;
    f.masked = (b1 & 0x80) != 0;
    std::uint64_t n = b1 & 0x7f;
    std::size_t hdr = 2;
    if (n == 126) hdr += 2;
    else if (n == 127) hdr += 8;
    if (buf.size() < hdr) return std::nullopt;
    if (n == 126) {
        n = (std::uint64_t{static_cast<unsigned char>(buf[2])} << 8) | static_cast<unsigned char>(buf[3]);
    } else if (n == 127) {
        n = 0;
        for (int i = 0; i < 8; ++i) n = (n << 8) | static_cast<unsigned char>(buf[2 + static_cast<std::size_t>(i)]);
    }
    if (n > max_payload) {
        f.opcode = -1;
        buf.clear();
        return f;
    }
    std::size_t key_at = hdr;
    if (f.masked) hdr += 4;
    if (buf.size() < hdr + n) return std::nullopt;
    f.payload = buf.substr(hdr, static_cast<std::size_t>(n));
    if (f.masked)
        for (std::size_t i = 0; i < f.payload.size(); ++i)
            f.payload[i] = static_cast<char>(f.payload[i] ^ buf[key_at + i % 4]);
    buf.erase(0, hdr + static_cast<std::size_t>(n));
    return f;
}

ws_frame ws_read(http_client& c) {
    std::string buf = c.read_bytes(2);
    auto len7 = static_cast<unsigned char>(buf[1]) & 0x7f;
    std::size_t ext = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
    buf += c.read_bytes(ext);
    std::uint64_t n = len7;
    if (ext > 0) {
        n = 0;
        for (std::size_t i = 0; i < ext; ++i) n = (n << 8) | static_cast<unsigned char>(buf[2 + i]);
    }
    if (n > (64u << 20)) throw client_error("ws_read: frame larger than 64 MB");
    if (static_cast<unsigned char>(buf[1]) & 0x80) buf += c.read_bytes(4);
    buf += c.read_bytes(static_cast<std::size_t>(n));
    auto f = ws_decode(buf);
    if (!f) throw client_error("ws_read: incomplete frame");
    return *f;
}

}  // namespace bulwark::test
