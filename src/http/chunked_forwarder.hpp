// http/chunked_forwarder: passes a chunked body through untouched up to its trailer section, which is
// held back (bounded) and forwarded without the fields that could change framing or routing at the
// next hop: Content-Length, Transfer-Encoding, Host (RFC 9110 §6.5.1).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "http/chunked.hpp"

namespace bulwark::http {

class chunked_forwarder {
public:
    enum class status { need_more, done, error };
    chunked_forwarder() { dec_.stop_at_trailers(); }
    struct step {
        std::size_t consumed = 0;  // bytes of the input used by this step
        std::string_view forward;  // what to send for them: a prefix of the input, or the trailer block
        bool verbatim = true;      // forward is the consumed prefix itself
        status st = status::need_more;
    };

    /// One step over `in`; call again with the rest while consumed < size and st == need_more.
    step next(std::string_view in);
    std::uint64_t payload_bytes() const { return payload_; }
    std::string_view error_reason() const { return error_.empty() ? dec_.error_reason() : error_; }
    void reset() { *this = chunked_forwarder{}; }

private:
    static constexpr std::size_t max_trailer_bytes = 16 * 1024;

    chunked_decoder dec_;
    std::uint64_t payload_ = 0;
    std::string trailer_;
    std::string filtered_;
    std::string_view error_;
};

}  // namespace bulwark::http
