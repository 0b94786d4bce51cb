// http/chunked: incremental chunked-body decoder (RFC 9112 §7.1). It only finds boundaries, so a proxy
// can forward the bytes untouched while knowing exactly where the body ends and whether it is valid.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace bulwark::http {

class chunked_decoder {
public:
    enum class result { need_more, done, error };

    /// Consumes bytes from `in` (up to the end of the body). `consumed` is how many bytes belong to
    /// the body; `data` is the part of those that is chunk payload, when the call stopped inside or at
    /// the end of a payload run (one run per call, so callers that de-chunk loop until all is used).
    result feed(std::string_view in, std::size_t& consumed, std::string_view& data);

    bool finished() const { return state_ == state::done; }
    /// True once the last-chunk line has been read.
    bool in_trailers() const { return state_ >= state::trailer_start; }
    /// Makes feed() return right after the last-chunk line, so a caller can treat trailers apart.
    void stop_at_trailers() { stop_at_trailers_ = true; }
    std::string_view error_reason() const { return error_; }
    void reset() { *this = chunked_decoder{}; }

private:
    enum class state : std::uint8_t {
        size, size_ext, size_lf, data, data_cr, data_lf, trailer_start, trailer, trailer_lf, final_lf, done
    };
    result fail(std::string_view why) {
        error_ = why;
        return result::error;
    }

    state state_ = state::size;
    std::uint64_t remaining_ = 0;
    int size_digits_ = 0;
    bool stop_at_trailers_ = false;
    std::string_view error_;
};

}  // namespace bulwark::http
