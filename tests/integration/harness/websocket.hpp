// harness/websocket: just enough RFC 6455 for the origin and the client to do a real handshake and
// exchange frames through the proxy: SHA-1 and base64 (for Sec-WebSocket-Accept, no crypto library),
// frame encoding (masked or not) and decoding from a byte buffer.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bulwark::test {

class http_client;

/// SHA-1 (FIPS 180-4) of `data`, 20 raw bytes.
std::array<unsigned char, 20> sha1(std::string_view data);
/// Standard base64 with padding.
std::string base64(std::string_view data);
/// The Sec-WebSocket-Accept value for a Sec-WebSocket-Key (RFC 6455 §4.2.2).
std::string websocket_accept(std::string_view key);

namespace ws_op {
inline constexpr int continuation = 0x0;
inline constexpr int text = 0x1;
inline constexpr int binary = 0x2;
inline constexpr int close = 0x8;
inline constexpr int ping = 0x9;
inline constexpr int pong = 0xA;
}  // namespace ws_op

struct ws_frame {
    bool fin = true;
    int opcode = 0;
    bool masked = false;
    std::string payload;  // unmasked
};

/// Encodes one frame. Clients must mask (RFC 6455 §5.3); servers must not.
std::string ws_encode(int opcode, std::string_view payload, bool mask, std::uint32_t mask_key = 0x37fa213d,
                      bool fin = true);
/// Decodes the first complete frame at the front of `buf` and removes it; nullopt when incomplete.
/// Frames announcing more than `max_payload` bytes are reported with an empty payload and opcode -1.
std::optional<ws_frame> ws_decode(std::string& buf, std::uint64_t max_payload = 64u << 20);

/// Reads one whole frame from a client whose handshake is done (bounded by the client's timeout).
ws_frame ws_read(http_client& c);

}  // namespace bulwark::test
