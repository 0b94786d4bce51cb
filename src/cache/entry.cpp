// cache/entry: encoding and decoding of the stored head blob (see entry.hpp).
#include "cache/entry.hpp"

#include <charconv>
#include <cstring>

#include "http/headers.hpp"
#include "http/parser.hpp"

namespace bulwark::cache {

stored_times entry_meta::times() const {
    stored_times t;
    t.request_time = request_time;
    t.response_time = response_time;
    t.date = date;
    t.age = age;
    t.lifetime = lifetime;
    t.stale_while_revalidate = stale_while_revalidate;
    t.stale_if_error = stale_if_error;
    t.must_revalidate = must_revalidate != 0;
    t.no_cache = no_cache != 0;
    return t;
}

void entry_meta::set_times(const stored_times& t) {
    request_time = t.request_time;
    response_time = t.response_time;
    date = t.date;
    age = t.age;
    lifetime = t.lifetime;
    stale_while_revalidate = t.stale_while_revalidate;
    stale_if_error = t.stale_if_error;
    must_revalidate = t.must_revalidate;
    no_cache = t.no_cache;
}

bool unstored_field(const http::head_common& res, std::string_view name, std::string_view targeted_field) {
    using http::name_equals;
    if (http::is_hop_by_hop(res, name)) return true;
    if (name_equals(name, "content-length") || name_equals(name, "transfer-encoding") || name_equals(name, "age") ||
        name_equals(name, "cdn-cache-control") || name_equals(name, "set-cookie"))
        return true;
    return !targeted_field.empty() && name_equals(name, targeted_field);
}

namespace {

std::string with_meta(entry_meta m, std::string_view head) {
    m.head_len = static_cast<std::uint32_t>(head.size());
    std::string blob(sizeof m, '\0');
    std::memcpy(blob.data(), &m, sizeof m);
    blob.append(head);
    return blob;
}

}  // namespace

std::string encode_response_text(const stored_times& t, bool shared_ok, std::string_view head_text) {
    entry_meta m;
    m.set_times(t);
    m.shared_ok = shared_ok;
    return with_meta(m, head_text);
}

std::string encode_response(const stored_times& t, bool shared_ok, const http::response_head& res,
                            std::string_view targeted_field) {
    std::string head = "HTTP/1.1 ";
    char num[8];
    auto r = std::to_chars(num, num + sizeof num, res.status);
    head.append(num, r.ptr);
    head.push_back(' ');
    head.append(res.reason.empty() ? http::reason_phrase(res.status) : res.reason);
    head.append("\r\n");
    for (const http::field& f : res) {
        if (unstored_field(res, f.name, targeted_field)) continue;
        head.append(f.name);
        head.append(": ");
        head.append(f.value);
        head.append("\r\n");
    }
    head.append("\r\n");
    return encode_response_text(t, shared_ok, head);
}

std::string encode_vary_marker(const std::vector<std::string>& fields) {
    entry_meta m;
    m.kind = entry_kind::vary_marker;
    std::string names;
    for (const auto& f : fields) {
        if (!names.empty()) names.push_back('\n');
        names.append(f);
    }
    return with_meta(m, names);
}

std::optional<decoded_entry> decode(std::string_view blob) {
    decoded_entry d;
    if (blob.size() < sizeof d.meta) return std::nullopt;
    std::memcpy(&d.meta, blob.data(), sizeof d.meta);
    if (d.meta.magic != entry_meta::magic_value || d.meta.version != 1) return std::nullopt;
    if (d.meta.kind != entry_kind::response && d.meta.kind != entry_kind::vary_marker) return std::nullopt;
    if (d.meta.head_len != blob.size() - sizeof d.meta) return std::nullopt;
    d.head = blob.substr(sizeof d.meta);
    return d;
}

std::vector<std::string> marker_fields(std::string_view head) {
    std::vector<std::string> out;
    while (!head.empty()) {
        auto nl = head.find('\n');
        out.emplace_back(head.substr(0, nl));
        head = nl == std::string_view::npos ? std::string_view{} : head.substr(nl + 1);
    }
    return out;
}

}  // namespace bulwark::cache
