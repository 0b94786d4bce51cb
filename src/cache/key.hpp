// cache/key: the key a response is stored under, built from the route's cache_key template
// ($scheme://$host$request_uri by default, as nginx's proxy_cache_key), plus the variant suffix that
// Vary selects. Keys look like URLs by default so that `bulwark -s purge URL` and prefix purges work.
#pragma once

#include <string>
#include <string_view>

#include "http/message.hpp"

namespace bulwark::cache {

struct key_inputs {
    std::string_view scheme;  // "http" or "https"
    const http::request_head* req;
    std::string_view target = {};  // instead of req->target (invalidating another URL)
};

/// Appends the expanded template to `out` (cleared first). $host is lower-cased, without its port.
void build_key(std::string_view tmpl, const key_inputs& in, std::string& out);

/// The key of one variant: the primary key, a separator no URL contains, and variant_key()'s text.
inline std::string variant_entry_key(std::string_view primary, std::string_view variant) {
    std::string k;
    k.reserve(primary.size() + 1 + variant.size());
    k.append(primary);
    k.push_back('\x1f');
    k.append(variant);
    return k;
}

}  // namespace bulwark::cache
