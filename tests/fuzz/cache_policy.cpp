// fuzz/cache_policy: cache/policy on arbitrary heads. Input: byte 0 = settings bits (bit 0 store
// Set-Cookie, bit 1 Last-Modified heuristic, bit 2 cache_valid "any", bit 3 targeted field, bits 4-7
// pick the representation length for Range); then a request head, a response head right after it, and
// whatever follows is used as a raw value (Range, dates, entity-tags). Beyond "no crash": a decision
// always explains a refusal, lifetimes and windows stay within [0, 2^31], age never goes back in time,
// fresh really means lifetime > age, Vary names are sorted/unique/lower-case and keys deterministic, a
// merged 304 head re-parses, invalidation yields paths, satisfiable ranges lie inside the
// representation without overlap, and any date that parses formats back to itself.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cache/policy.hpp"
#include "fuzz_check.hpp"
#include "http/message.hpp"
#include "http/parser.hpp"

namespace cache = bulwark::cache;
namespace http = bulwark::http;

namespace {

constexpr std::size_t big_head = 1 << 20;
constexpr std::int64_t max_delta = std::int64_t{1} << 31;
constexpr std::int64_t now = 1767225600;  // 2026-01-01

void check_times(const cache::store_decision& d) {
    if (!d.store) {
        FUZZ_CHECK(!d.reason.empty());
        return;
    }
    const cache::stored_times& t = d.times;
    FUZZ_CHECK(t.lifetime >= 0 && t.lifetime <= max_delta);
    FUZZ_CHECK(t.stale_while_revalidate >= 0 && t.stale_while_revalidate <= max_delta);
    FUZZ_CHECK(t.stale_if_error >= 0 && t.stale_if_error <= max_delta);
    FUZZ_CHECK(t.age >= 0 && t.age <= max_delta);
    std::int64_t a0 = cache::current_age(t, now), a1 = cache::current_age(t, now + 100);
    FUZZ_CHECK(a0 >= 0 && a1 >= a0);
    cache::cache_control none;
    if (cache::evaluate(t, none, false, now) == cache::usability::fresh) FUZZ_CHECK(t.lifetime > a0 && !t.no_cache);
    if (cache::evaluate(t, none, false, now) != cache::usability::fresh) FUZZ_CHECK(t.lifetime <= a0 || t.no_cache);
}

void check_vary(const http::request_head& req, const http::response_head& res) {
    auto vary = cache::parse_vary(res);
    if (!vary) return;
    FUZZ_CHECK(vary->size() <= 16);
    for (std::size_t i = 0; i < vary->size(); ++i) {
        FUZZ_CHECK(!(*vary)[i].empty());
        for (char c : (*vary)[i]) FUZZ_CHECK(!(c >= 'A' && c <= 'Z'));
        if (i > 0) FUZZ_CHECK((*vary)[i - 1] < (*vary)[i]);
    }
    FUZZ_CHECK(cache::variant_key(req, *vary) == cache::variant_key(req, *vary));
}

void check_merge(const http::response_head& stored, const http::response_head& nm) {
    std::string merged = "HTTP/1.1 200 OK\r\n" + cache::merge_304_fields(stored, nm) + "\r\n";
    http::response_head again;
    auto r = http::parse_response(merged, big_head, false, again);
    // Every line came from a parsed head and none is added, so the merged head parses again.
    FUZZ_CHECK(r.status == http::parse_status::complete);
    FUZZ_CHECK(again.field_count <= stored.field_count + nm.field_count);
}

void check_range(std::string_view value, std::uint64_t length) {
    std::vector<cache::byte_range> out;
    auto r = cache::parse_range(value, length, out, 4);
    if (r != cache::range_result::satisfiable) {
        FUZZ_CHECK(out.empty());
        return;
    }
    FUZZ_CHECK(!out.empty() && out.size() <= 4);
    for (std::size_t i = 0; i < out.size(); ++i) {
        FUZZ_CHECK(out[i].first <= out[i].last && out[i].last < length);
        for (std::size_t j = i + 1; j < out.size(); ++j)
            FUZZ_CHECK(out[i].last < out[j].first || out[j].last < out[i].first);
    }
}

void check_date(std::string_view value) {
    auto t = cache::parse_http_date(value);
    if (!t) return;
    FUZZ_CHECK(*t >= -62167219200 && *t <= 253402300800);  // years 0000 .. 9999 (+ leap second)
    if (*t >= 0 && *t <= 253402300799) FUZZ_CHECK(cache::parse_http_date(cache::format_http_date(*t)) == *t);
}

void check_values(std::string_view v, std::uint64_t length) {
    check_range(v, length);
    check_date(v);
    (void)cache::if_none_match_matches(v, v);
    (void)cache::if_range_allows(v, v, v);
    (void)cache::is_unsafe_method(v);
}

void check_pair(const http::request_head& req, const http::response_head& res, std::uint8_t bits,
                std::uint64_t length) {
    cache::route_cache_settings s;
    s.store_set_cookie = bits & 1;
    if (bits & 2) s.heuristic_lm_fraction = 0.1;
    if (bits & 4) s.valid = {{404, 30}, {0, 60}};
    if (bits & 8) s.targeted_field = "bulwark-cache-control";
    auto d = cache::decide_store(req, res, s, now - 1, now);
    check_times(d);
    auto req_cc = cache::parse_cache_control(req);
    (void)cache::evaluate(d.times, req_cc, !req.get("pragma").empty(), now + 5);
    (void)cache::usable_on_error(d.times, req_cc, now + 5);
    check_vary(req, res);
    (void)cache::not_modified(req, res.get("etag"), res.get("last-modified"));
    check_merge(res, res);
    for (const std::string& t : cache::invalidation_targets(req, res)) FUZZ_CHECK(!t.empty() && t.front() == '/');
    for (const http::field& f : res) check_values(f.value, length);
    for (const http::field& f : req) check_values(f.value, length);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
    if (size == 0) return 0;
    const std::uint8_t bits = bytes[0];
    constexpr std::uint64_t lengths[] = {0, 1, 2, 10, 100, 1000, 65536, UINT64_MAX};
    const std::uint64_t length = lengths[(bits >> 4) & 7];
    std::string_view data(reinterpret_cast<const char*>(bytes) + 1, size - 1);
    http::request_head req;
    auto rq = http::parse_request(data, big_head, req);
    if (rq.status != http::parse_status::complete) {
        check_values(data, length);
        return 0;
    }
    std::string_view rest = data.substr(req.head_size);
    http::response_head res;
    auto rs = http::parse_response(rest, big_head, req.is_head, res);
    if (rs.status != http::parse_status::complete) {
        check_values(rest, length);
        return 0;
    }
    check_pair(req, res, bits, length);
    check_values(rest.substr(res.head_size), length);
    return 0;
}
