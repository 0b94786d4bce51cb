// http/chunked_forwarder: verbatim until the last-chunk line, then trailers collected and filtered.
#include "http/chunked_forwarder.hpp"

#include "core/strings.hpp"
#include "http/parser.hpp"

namespace bulwark::http {
namespace {

bool is_framing_field(std::string_view name) {
    return name_equals(name, "content-length") || name_equals(name, "transfer-encoding") ||
           name_equals(name, "host") || name_equals(name, "content_length") ||
           name_equals(name, "transfer_encoding");
}

// `raw` is the trailer section as received: zero or more field lines, then the final CRLF.
void filter_trailers(std::string_view raw, std::string& out) {
    out.clear();
    while (!raw.empty()) {
        auto end = raw.find("\r\n");
        if (end == std::string_view::npos) break;
        std::string_view line = raw.substr(0, end + 2);
        raw.remove_prefix(end + 2);
        if (end == 0) break;  // the final CRLF, re-added below
        auto colon = line.find(':');
        std::string_view name = trim(line.substr(0, colon == std::string_view::npos ? line.size() - 2 : colon));
        // A trailer line that is not a well-formed field could be read as one by the next hop: drop it.
        if (colon == std::string_view::npos || name.size() != colon || is_framing_field(name)) continue;
        out.append(line);
    }
    out.append("\r\n");
}

}  // namespace

chunked_forwarder::step chunked_forwarder::next(std::string_view in) {
    step s;
    std::string_view data;
    if (!dec_.in_trailers()) {
        auto r = dec_.feed(in, s.consumed, data);
        payload_ += data.size();
        s.forward = in.substr(0, s.consumed);
        s.st = r == chunked_decoder::result::error ? status::error
             : r == chunked_decoder::result::done  ? status::done
                                                   : status::need_more;
        return s;
    }
    auto r = dec_.feed(in, s.consumed, data);
    s.verbatim = false;
    if (r == chunked_decoder::result::error) {
        s.st = status::error;
        return s;
    }
    trailer_.append(in.substr(0, s.consumed));
    if (trailer_.size() > max_trailer_bytes) {
        error_ = "trailer section too large";
        s.st = status::error;
        return s;
    }
    if (r == chunked_decoder::result::done) {
        filter_trailers(trailer_, filtered_);
        s.forward = filtered_;
        s.st = status::done;
    }
    return s;
}

}  // namespace bulwark::http
