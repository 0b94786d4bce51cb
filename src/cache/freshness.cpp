// cache/freshness: may a response be stored (RFC 9111 §3), how long it stays fresh (§4.2.1, §4.2.2),
// its age (§4.2.3), and whether it may answer now (§4.2, §4.2.4, RFC 5861). Pure: time comes in.
#include "cache/policy.hpp"

#include <algorithm>

#include "cache/syntax.hpp"

namespace bulwark::cache {
namespace {

// RFC 9110 §15.3.4 and friends: the status codes whose caching rules this cache implements; 206 and
// 304 are excluded (never stored here).
bool status_understood(int s) {
    switch (s) {
    case 200: case 201: case 202: case 203: case 204: case 205:
    case 300: case 301: case 302: case 303: case 305: case 307: case 308:
    case 400: case 401: case 402: case 403: case 404: case 405: case 406: case 407: case 408: case 409:
    case 410: case 411: case 412: case 413: case 414: case 415: case 416: case 417: case 421: case 422:
    case 426:
    case 500: case 501: case 502: case 503: case 504: case 505:
        return true;
    default:
        return false;
    }
}

// RFC 9110 §15.1: "heuristically cacheable" status codes (206 left out: partial content is not stored).
bool heuristically_cacheable(int s) {
    switch (s) {
    case 200: case 203: case 204: case 300: case 301: case 308: case 404: case 405: case 410: case 414:
    case 501:
        return true;
    default:
        return false;
    }
}

bool has_field(const http::head_common& h, std::string_view lower_name) {
    return syntax::count_fields(h, lower_name) > 0;
}

// A field that must not repeat (Expires, Last-Modified): its date, or why there is none.
struct single_date {
    bool present = false;
    std::optional<std::int64_t> time;  // nullopt: invalid, or lines that disagree (§4.2.1: "stale")
};

single_date date_field(const http::head_common& h, std::string_view lower_name) {
    single_date d;
    std::string_view first;
    bool conflict = false;
    syntax::for_each_field(h, lower_name, [&](std::string_view v) {
        if (d.present && v != first) conflict = true;
        if (!d.present) first = v;
        d.present = true;
    });
    if (d.present && !conflict) d.time = parse_http_date(first);
    return d;
}

std::int64_t clamp_lifetime(std::int64_t v) { return std::clamp<std::int64_t>(v, 0, syntax::delta_seconds_max); }

// §4.2.1: s-maxage (shared cache), then max-age, then Expires - Date. nullopt: nothing explicit.
std::optional<std::int64_t> explicit_lifetime(const http::response_head& res, const cache_control& cc,
                                              std::int64_t date) {
    if (cc.s_maxage) return *cc.s_maxage;
    if (cc.max_age) return *cc.max_age;
    auto expires = date_field(res, "expires");
    if (!expires.present) return std::nullopt;
    if (!expires.time) return 0;  // §5.3: an invalid Expires (including "0") means already expired
    return clamp_lifetime(*expires.time - date);
}

// §4.2.2: the route's cache_valid for this status (exact, then "any"), else a fraction of the time
// since Last-Modified. Only for heuristically cacheable statuses or a public response.
std::optional<std::int64_t> heuristic_lifetime(const http::response_head& res, const cache_control& cc,
                                               const route_cache_settings& settings, std::int64_t date) {
    if (!heuristically_cacheable(res.status) && !cc.public_) return std::nullopt;
    const std::pair<int, std::int64_t>* any = nullptr;
    for (const auto& v : settings.valid) {
        if (v.first == res.status) return clamp_lifetime(v.second);
        if (v.first == 0 && !any) any = &v;
    }
    if (any) return clamp_lifetime(any->second);
    if (!(settings.heuristic_lm_fraction > 0)) return std::nullopt;  // also refuses NaN
    auto lm = date_field(res, "last-modified").time;
    if (!lm || *lm >= date) return std::nullopt;
    double secs = static_cast<double>(date - *lm) * std::min(settings.heuristic_lm_fraction, 1.0);
    if (secs >= static_cast<double>(syntax::delta_seconds_max)) return syntax::delta_seconds_max;
    return clamp_lifetime(static_cast<std::int64_t>(secs));  // in range: the cast is defined
}

stored_times base_times(const http::response_head& res, std::int64_t request_time, std::int64_t now) {
    stored_times t;
    t.request_time = request_time;
    t.response_time = now;
    auto date = parse_http_date(res.get("date"));
    t.date = date ? *date : now;  // RFC 9110 §6.6.1: a response without a valid Date is dated on receipt
    auto age = syntax::parse_delta_seconds(trim(res.get("age")));
    t.age = age ? *age : 0;  // §5.1: an invalid Age is ignored
    return t;
}

store_decision refuse(std::string_view why) {
    store_decision d;
    d.reason = why;
    return d;
}

}  // namespace

bool method_cacheable(std::string_view method, const route_cache_settings& settings) {
    for (auto m : settings.methods)  // methods are case-sensitive (RFC 9110 §9.1)
        if (m == method) return true;
    return false;
}

store_decision decide_store(const http::request_head& req, const http::response_head& res,
                            const route_cache_settings& settings, std::int64_t request_time, std::int64_t now) {
    if (!method_cacheable(req.method, settings)) return refuse("method not cacheable");
    if (res.status < 200) return refuse("interim response");
    if (res.status == 206) return refuse("partial content is not stored");
    if (res.status == 304) return refuse("304 updates a stored response, it is not stored");
    if (parse_cache_control(req).no_store) return refuse("request no-store");  // §5.2.1.5
    const cache_control cc = response_cache_control(res, settings);
    if (cc.malformed) return refuse("malformed cache-control");
    const bool understood = status_understood(res.status);
    if (cc.must_understand && !understood) return refuse("must-understand with a status not understood");
    if (cc.no_store && !cc.must_understand) return refuse("no-store");  // §5.2.2.3 overrides no-store
    if (cc.private_) return refuse("private");                          // §5.2.2.7, shared cache
    const bool shared_ok = cc.public_ || cc.s_maxage || cc.must_revalidate;
    if (has_field(req, "authorization") && !shared_ok) return refuse("authorization");  // §3.5
    if (!settings.store_set_cookie && has_field(res, "set-cookie")) return refuse("set-cookie");
    auto vary = parse_vary(res);
    if (!vary) return refuse("malformed vary");
    if (vary->size() == 1 && vary->front() == "*") return refuse("vary *");  // §4.1: never matches

    store_decision d;
    d.times = base_times(res, request_time, now);
    auto lifetime = explicit_lifetime(res, cc, d.times.date);
    if (!lifetime) lifetime = heuristic_lifetime(res, cc, settings, d.times.date);
    if (!lifetime) return refuse("no explicit freshness and no heuristic");

    stored_times& t = d.times;
    t.lifetime = *lifetime;
    t.no_cache = cc.no_cache;
    t.shared_ok = shared_ok;
    const bool revalidate = cc.must_revalidate || cc.proxy_revalidate;
    t.must_revalidate = revalidate || cc.s_maxage.has_value();  // §5.2.2.10: s-maxage implies proxy-revalidate
    t.stale_while_revalidate = revalidate ? 0 : cc.stale_while_revalidate.value_or(0);
    t.stale_if_error = revalidate ? 0 : cc.stale_if_error.value_or(0);

    const bool validator = has_field(res, "etag") || has_field(res, "last-modified");
    if (t.no_cache && !validator) return refuse("no-cache without a validator");
    if (t.lifetime == 0 && !validator && t.stale_while_revalidate == 0 && t.stale_if_error == 0)
        return refuse("zero freshness lifetime and no validator");
    d.store = true;
    return d;
}

std::int64_t current_age(const stored_times& t, std::int64_t now) {
    // §4.2.3, term by term; a clock that went backwards gives no negative delay or residence.
    const std::int64_t apparent_age = std::max<std::int64_t>(0, t.response_time - t.date);
    const std::int64_t response_delay = std::max<std::int64_t>(0, t.response_time - t.request_time);
    const std::int64_t corrected_age_value = t.age + response_delay;
    const std::int64_t corrected_initial_age = std::max(apparent_age, corrected_age_value);
    const std::int64_t resident_time = std::max<std::int64_t>(0, now - t.response_time);
    return corrected_initial_age + resident_time;
}

usability evaluate(const stored_times& t, const cache_control& request_cc, bool request_pragma_no_cache,
                   std::int64_t now) {
    // A request directive we cannot read is taken as the strictest one.
    if (request_cc.malformed || request_cc.no_cache) return usability::must_validate;  // §5.2.1.4
    if (!request_cc.present && request_pragma_no_cache) return usability::must_validate;  // §5.4
    if (t.no_cache) return usability::must_validate;                                   // §5.2.2.4
    const std::int64_t age = current_age(t, now);
    if (request_cc.max_age && age > *request_cc.max_age) return usability::must_validate;  // §5.2.1.1
    if (t.lifetime > age) {                                                                // §4.2
        if (request_cc.min_fresh && t.lifetime - age < *request_cc.min_fresh)             // §5.2.1.3
            return usability::must_validate;
        return usability::fresh;
    }
    if (request_cc.min_fresh) return usability::must_validate;
    const std::int64_t staleness = age - t.lifetime;
    // §5.2.1.2: the client accepts this much staleness, unless the origin forbade it (§5.2.2.2).
    if (!t.must_revalidate && (request_cc.max_stale_any ||
                               (request_cc.max_stale && staleness <= *request_cc.max_stale)))
        return usability::fresh;
    if (staleness <= t.stale_while_revalidate && t.stale_while_revalidate > 0)  // RFC 5861 §3
        return usability::stale_revalidate_bg;
    return usability::must_validate;
}

bool usable_on_error(const stored_times& t, const cache_control& request_cc, std::int64_t now) {
    const std::int64_t age = current_age(t, now);
    if (t.lifetime > age && !t.no_cache) return true;
    const std::int64_t staleness = std::max<std::int64_t>(0, age - t.lifetime);
    if (t.stale_if_error > 0 && staleness <= t.stale_if_error) return true;  // RFC 5861 §4, response
    if (t.must_revalidate || t.no_cache || request_cc.malformed) return false;  // §5.2.2.2: answer 504
    if (request_cc.stale_if_error && staleness <= *request_cc.stale_if_error) return true;  // RFC 5861 §4
    return request_cc.max_stale_any || (request_cc.max_stale && staleness <= *request_cc.max_stale);
}

bool may_serve_authorized(bool shared_ok) { return shared_ok; }

}  // namespace bulwark::cache
