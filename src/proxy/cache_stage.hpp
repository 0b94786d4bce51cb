// proxy/cache_stage: the state one exchange keeps while it uses the shared cache: the key, what was
// found (and whether it may serve, must be validated, or may only save us after an origin error),
// and, on a miss, the object being written as the response streams to the client.
//
//   lookup ──fresh──────────────────────────────► serve stored (HIT)
//     │ ──stale, within stale-while-revalidate──► serve stored (STALE) ──► refresh once (silent)
//     │ ──stale / no-cache──► conditional request ──304──► refresh head, serve stored (REVALIDATED)
//     │                                           ──5xx / unreachable + stale-if-error──► (STALE)
//     │                                           ──200──► relay + store (MISS)
//     └──absent──► fill lock? ──no: wait for the filler (lock_timeout), then HIT or go on──► origin
//                             ──yes──► origin ──storable──► relay + store (MISS) ──► unlock
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "cache/entry.hpp"
#include "cache/policy.hpp"
#include "cache/store.hpp"
#include "config/model.hpp"
#include "http/chunked.hpp"

namespace bulwark::proxy {

enum class cache_status { none, hit, miss, stale, revalidated, bypass };
std::string_view cache_status_text(cache_status s);

struct cache_context {
    cache_context(cache::store& st, const config::route_cache& r, const config::cache_settings& s)
        : store(st), route(r), settings(s) {}

    cache::store& store;
    const config::route_cache& route;
    const config::cache_settings& settings;
    cache::route_cache_settings policy;

    std::string key;         // primary key (the Vary marker lives here)
    std::string object_key;  // the response's own key (primary, or the variant's)
    std::string variant_prefix;  // primary + marker nonce, when the response varies
    std::string blob;        // the stored head blob, when one was found
    cache::entry_ref found;
    cache::decoded_entry entry;
    bool has_entry = false;

    cache::cache_control request_cc;
    bool pragma_no_cache = false;
    std::int64_t request_time = 0;

    cache_status status = cache_status::none;
    bool revalidating = false;    // the request upstream carries our validators
    bool stale_on_error = false;  // the stored response may answer if the origin fails
    bool fill_locked = false;     // this exchange fills `key` for every worker
    bool silent = false;          // background refresh: nothing goes to the client
    bool fetch_whole = false;     // going upstream to fill: the client's preconditions stay here
    std::string validators;       // If-None-Match / If-Modified-Since lines

    cache::object_writer writer;  // the response being stored
    bool filling = false;
    http::chunked_decoder dechunk;  // the payload of a chunked origin body, for the store
    std::string status_line;        // "X-Cache: MISS\r\n" for write_client_response
};

}  // namespace bulwark::proxy
