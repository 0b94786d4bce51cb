// http/chunked: a byte-level state machine except inside chunk payloads, which are skipped in one step.
// Bare LF, oversized sizes (> 2^60) and CTLs in extensions are errors, never guessed at.
#include "http/chunked.hpp"

namespace bulwark::http {
namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool is_ctl(char c) {
    auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7f;
}

}  // namespace

chunked_decoder::result chunked_decoder::feed(std::string_view in, std::size_t& consumed, std::string_view& data) {
    std::size_t i = 0;
    data = {};
    while (i < in.size()) {
        char c = in[i];
        switch (state_) {
        case state::size: {
            int h = hex_value(c);
            if (h >= 0) {
                if (++size_digits_ > 15) return fail("chunk size too large");
                remaining_ = remaining_ * 16 + static_cast<std::uint64_t>(h);
                ++i;
                break;
            }
            if (size_digits_ == 0) return fail("invalid chunk size");
            if (c == '\r') state_ = state::size_lf;
            else if (c == ';' || c == ' ' || c == '\t') state_ = state::size_ext;
            else return fail("invalid character after chunk size");
            ++i;
            break;
        }
        case state::size_ext:
            if (c == '\r') state_ = state::size_lf;
            else if (is_ctl(c)) return fail("control character in chunk extension");
            ++i;
            break;
        case state::size_lf:
            if (c != '\n') return fail("chunk size line not ended by CRLF");
            ++i;
            size_digits_ = 0;
            if (remaining_) {
                state_ = state::data;
                break;
            }
            state_ = state::trailer_start;
            if (stop_at_trailers_) {
                consumed = i;
                return result::need_more;
            }
            break;
        case state::data: {
            std::size_t take = in.size() - i;
            if (take > remaining_) take = static_cast<std::size_t>(remaining_);
            data = in.substr(i, take);
            i += take;
            remaining_ -= take;
            if (remaining_ == 0) state_ = state::data_cr;
            consumed = i;
            return result::need_more;  // one payload run per call
        }
        case state::data_cr:
            if (c != '\r') return fail("chunk data not followed by CRLF");
            state_ = state::data_lf;
            ++i;
            break;
        case state::data_lf:
            if (c != '\n') return fail("chunk data not followed by CRLF");
            state_ = state::size;
            ++i;
            break;
        case state::trailer_start:
            if (c == '\r') state_ = state::final_lf;
            else if (c == ' ' || c == '\t') return fail("obs-fold in trailer");
            else if (c == '\n') return fail("bare LF in trailer");
            else if (is_ctl(c)) return fail("control character in trailer");
            else state_ = state::trailer;
            ++i;
            break;
        case state::trailer:
            if (c == '\r') state_ = state::trailer_lf;
            else if (c == '\n') return fail("bare LF in trailer");
            else if (is_ctl(c)) return fail("control character in trailer");
            ++i;
            break;
        case state::trailer_lf:
            if (c != '\n') return fail("trailer line not ended by CRLF");
            state_ = state::trailer_start;
            ++i;
            break;
        case state::final_lf:
            if (c != '\n') return fail("chunked body not ended by CRLF");
            state_ = state::done;
            consumed = i + 1;
            return result::done;
        case state::done:
            consumed = i;
            return result::done;
        }
    }
    consumed = i;
    return state_ == state::done ? result::done : result::need_more;
}

}  // namespace bulwark::http
