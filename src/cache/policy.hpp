// cache/policy: what RFC 9111 (and RFC 9213, targeted cache control) says about one request and one
// response, as pure functions over parsed heads: may it be stored, for how long is it fresh, may a
// stored response serve this request, which stored entries does an unsafe method invalidate. No I/O,
// no clock reads (callers pass "now"), no Asio: unit-tested and fuzzed on its own.
// Times are unix seconds (int64); durations are seconds. A malformed directive makes the response
// uncacheable rather than guessing (issue 11: malformed cache headers never poison the cache).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/message.hpp"

namespace bulwark::cache {

// ---- dates (RFC 9110 §5.6.7) -----------------------------------------------------------------------
/// IMF-fixdate, and the obsolete RFC 850 and asctime forms; nullopt when invalid. Case-sensitive as
/// §5.6.7 says; the day name must be one but is not checked against the date; RFC 850's two-digit
/// years 70-99 are 19xx and 00-69 are 20xx (the 50-year rule would need a clock).
std::optional<std::int64_t> parse_http_date(std::string_view text);
/// IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT" (29 bytes).
std::string format_http_date(std::int64_t unix_seconds);

// ---- Cache-Control (RFC 9111 §5.2) -----------------------------------------------------------------
struct cache_control {
    bool present = false;
    bool malformed = false;        // a directive with a bad argument, or a duplicate with another value
    bool no_store = false, no_cache = false, private_ = false, public_ = false;
    bool must_revalidate = false, proxy_revalidate = false, no_transform = false, immutable = false;
    bool only_if_cached = false;   // request
    bool must_understand = false;  // response, §5.2.2.3: no-store is ignored when the status is understood
    bool no_cache_fields = false;  // no-cache="field": treated as no-cache (allowed by §5.2.2.4)
    bool private_fields = false;   // private="field": treated as private for a shared cache
    std::optional<std::int64_t> max_age, s_maxage, stale_while_revalidate, stale_if_error;
    std::optional<std::int64_t> max_stale;  // request; max_stale_any when "max-stale" has no value
    bool max_stale_any = false;
    std::optional<std::int64_t> min_fresh;  // request
};
/// Parses every field named `name` in `head` (lower-case name; several fields are one list).
/// "cache-control" (and "pragma") use the §5.2 grammar; any other name is a targeted field (RFC 9213
/// §2.1): an RFC 8941 Dictionary, where a parse error sets `malformed` (the field is then ignored, not
/// the response refused), a value of the wrong type drops only that directive, the last duplicate
/// wins, and an empty field is as if absent (`present` false).
cache_control parse_cache_control(const http::head_common& head, std::string_view name = "cache-control");

// ---- storing (RFC 9111 §3) -------------------------------------------------------------------------
struct route_cache_settings {
    std::vector<std::string_view> methods{"GET", "HEAD"};  // cache_methods
    /// cache_valid: (status, seconds) used as heuristic freshness when the response gives none;
    /// status 0 means "any". Without a match, no heuristic unless heuristic_lm_fraction > 0.
    std::vector<std::pair<int, std::int64_t>> valid;
    double heuristic_lm_fraction = 0;  // e.g. 0.1: 10 % of (Date - Last-Modified), §4.2.2
    /// Extra targeted CC field, e.g. "bulwark-cache-control" (lower-case). It is the more specific one,
    /// so it is consulted before cdn-cache-control (RFC 9213 §2.2's example order).
    std::string_view targeted_field;
    bool store_set_cookie = false;     // off (nginx, Varnish): a response with Set-Cookie is not stored
};

/// What the response's freshness comes from, computed once when it is stored.
struct stored_times {
    std::int64_t request_time = 0;   // when the request went upstream (unix s)
    std::int64_t response_time = 0;  // when the response head arrived
    std::int64_t date = 0;           // Date field, or response_time when absent/invalid
    std::int64_t age = 0;            // Age field (0 when absent/invalid)
    std::int64_t lifetime = 0;       // freshness lifetime (§4.2.1), after heuristics
    std::int64_t stale_while_revalidate = 0;
    std::int64_t stale_if_error = 0;
    bool must_revalidate = false;    // must-revalidate or proxy-revalidate or s-maxage (§3.2, §4.2.4)
    bool no_cache = false;           // stored, but every use needs validation (§5.2.2.4)
    /// §3.5: public, s-maxage or must-revalidate: may answer a request carrying Authorization.
    bool shared_ok = false;
};

struct store_decision {
    bool store = false;
    std::string_view reason;  // why not (for logs/debug), a static string
    stored_times times;
};

/// The response directives this cache obeys (RFC 9213 §2.2): the first of settings.targeted_field,
/// cdn-cache-control that is present and parses, else Cache-Control.
cache_control response_cache_control(const http::response_head& res, const route_cache_settings& settings);

/// §3: may the response to `req` be stored, and with what freshness. `now` is response_time.
/// Targeted fields (RFC 9213: settings.targeted_field, then cdn-cache-control) take precedence over
/// Cache-Control for this cache when present and valid. stale_while_revalidate / stale_if_error are
/// the windows this cache may use: 0 under must-revalidate or proxy-revalidate (§5.2.2.2 forbids
/// stale reuse even when disconnected); an origin's explicit windows survive s-maxage's implied
/// proxy-revalidate, which still refuses a client's max-stale. Refused (reason set) for: a method
/// not in settings.methods, 1xx/206/304, request or response no-store (unless must-understand with an
/// understood status), private, Authorization without public/s-maxage/must-revalidate, Set-Cookie
/// (unless settings.store_set_cookie), Vary * or a malformed Vary, a malformed Cache-Control, no
/// explicit freshness and no heuristic (heuristics only for §4.2.2 statuses or public), no-cache
/// without a validator, and a zero lifetime with neither a validator nor a stale window.
store_decision decide_store(const http::request_head& req, const http::response_head& res,
                            const route_cache_settings& settings, std::int64_t request_time, std::int64_t now);

/// Whether the request is eligible for the cache at all (method listed; §3.5 Authorization is
/// handled in decide_store and may_serve).
bool method_cacheable(std::string_view method, const route_cache_settings& settings);

// ---- serving (RFC 9111 §4) -------------------------------------------------------------------------
/// §4.2.3 current age of a stored response at `now`.
std::int64_t current_age(const stored_times& t, std::int64_t now);

enum class usability {
    fresh,                 // serve as HIT
    stale_revalidate_bg,   // stale, within stale-while-revalidate: serve STALE, refresh in background
    must_validate,         // stale (or no-cache): validate with the origin before use
};
/// §4.2, §4.2.4, §5.2.1 (request max-age, max-stale, min-fresh, no-cache; Pragma: no-cache when
/// there is no Cache-Control, §5.4). A stale response the client accepts through max-stale is `fresh`
/// (serve it) unless t.must_revalidate; a malformed request Cache-Control means must_validate.
/// stale_revalidate_bg only when the client set no max-age/min-fresh that the response fails.
usability evaluate(const stored_times& t, const cache_control& request_cc, bool request_pragma_no_cache,
                   std::int64_t now);
/// §4.2.4 / RFC 5861: a stale response may answer after an origin error (5xx or unreachable): within
/// the response's stale-if-error window, or (not under must-revalidate / no-cache) the request's
/// stale-if-error or max-stale. A fresh one always may.
bool usable_on_error(const stored_times& t, const cache_control& request_cc, std::int64_t now);

/// §3.5: a response stored for a request without Authorization may serve one with it only when the
/// stored response allowed it (public, s-maxage, must-revalidate). `shared_ok` is that flag, which
/// decide_store records in the stored head.
bool may_serve_authorized(bool shared_ok);

// ---- variants (§4.1) -------------------------------------------------------------------------------
/// Lower-cased, sorted, deduplicated field names of every Vary field; "*" alone when any is "*".
/// nullopt when malformed or longer than `max_fields` names.
std::optional<std::vector<std::string>> parse_vary(const http::head_common& res, std::size_t max_fields = 16);
/// The secondary key for `req` under `vary_fields`: name=normalized value pairs joined with '\n'
/// (values: all fields of that name combined, whitespace around commas removed; Accept-Encoding
/// reduced to the codings the proxy can tell apart: gzip, br, zstd, identity, with q=0 dropped).
std::string variant_key(const http::request_head& req, const std::vector<std::string>& vary_fields);

// ---- validation (RFC 9110 §13, RFC 9111 §4.3) ------------------------------------------------------
/// Precondition evaluation of a client's conditional GET/HEAD against a stored response (§13.2.2:
/// If-None-Match wins over If-Modified-Since; weak comparison for If-None-Match).
bool not_modified(const http::request_head& req, std::string_view etag, std::string_view last_modified);
/// True when `etag` (an entity-tag as sent) weakly matches an element of the If-None-Match list, or
/// the list is "*". A malformed list or stored tag never matches (the client gets a full response).
bool if_none_match_matches(std::string_view if_none_match, std::string_view etag);
/// §3.2: the fields a 304 carries replace the stored ones, except those describing the body
/// (Content-Length, Content-Encoding, Transfer-Encoding, Content-Range) and hop-by-hop ones. Returns
/// the merged field list as "Name: value\r\n" lines: the stored lines not replaced, in order, then the
/// 304's. All lines of a name are replaced together. The stored Age is always dropped (it dated the
/// old response; the 304's Age, if any, comes in), so re-running decide_store on the merged head with
/// the 304's request/response times gives the refreshed stored_times (§4.3.4).
std::string merge_304_fields(const http::head_common& stored, const http::head_common& not_modified);

// ---- invalidation (§4.4) ---------------------------------------------------------------------------
/// Targets an unsafe request's non-error (2xx, 3xx) response invalidates: the request target as sent,
/// plus Location and Content-Location when they name the same host (absolute, "//host", path-only or
/// relative, resolved per RFC 3986 §5.2 without the fragment), as paths ("/a?b"); no duplicates.
std::vector<std::string> invalidation_targets(const http::request_head& req, const http::response_head& res);
bool is_unsafe_method(std::string_view method);

// ---- ranges (RFC 9110 §14) -------------------------------------------------------------------------
struct byte_range {
    std::uint64_t first = 0, last = 0;  // inclusive
};
enum class range_result { none, satisfiable, unsatisfiable, ignored };
/// Parses a Range field against a representation of `length` bytes. `none`: empty value (no Range);
/// `ignored`: not a bytes range or malformed (serve 200); `unsatisfiable`: answer 416. Overlapping or
/// too many (> max_ranges) range-specs are `ignored` (§14.2 allows it); unsatisfiable members next to
/// satisfiable ones are dropped; `out` keeps the request's order. A suffix range on an empty
/// representation is `ignored` (the whole, empty, 200 answers it).
range_result parse_range(std::string_view value, std::uint64_t length, std::vector<byte_range>& out,
                         std::size_t max_ranges = 16);
/// If-Range (§13.1.5): true when the range may be applied to the stored representation.
bool if_range_allows(std::string_view if_range, std::string_view etag, std::string_view last_modified);

}  // namespace bulwark::cache
