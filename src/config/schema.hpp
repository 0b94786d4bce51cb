// config/schema: the single table of sections and keys. Validation, `bulwark --list-keys`, the
// documentation test (man page and example config) and defaults all read it; nothing else lists keys.
#pragma once

#include <span>
#include <string_view>

namespace bulwark::config {

enum class value_type {
    count,          // unsigned integer within [min, max]
    count_or_auto,  // "auto" or a count
    size,           // 64k, 1m
    duration,       // 500ms, 30s
    text,           // free-form word (user name, host name)
    phrase,         // words separated by spaces (a request line)
    path,           // file path; relative paths resolve against the config file's directory
    log_target,     // path, "stderr", or "off" where allowed
    choice,         // one of `allowed` ("a|b|c")
    endpoint,       // host:port or [v6]:port
    server,         // endpoint followed by options (weight=N)
    reference,      // name of another section (upstream, listener)
    url_prefix,     // path starting with "/"
    cidr,           // 10.0.0.0/8, 2001:db8::/32, or a single address
};

struct section_spec {
    std::string_view name;  // "global", or "listener" for [listener:NAME]
    bool named;             // true when written [name:LABEL]
    std::string_view doc;
};

struct key_spec {
    std::string_view section;
    std::string_view name;
    value_type type;
    std::string_view default_value;  // as written in the config; empty means none
    std::string_view allowed;        // choices "a|b", or range "1..1024", or referenced section
    bool repeatable;
    bool required;
    std::string_view doc;
};

std::span<const section_spec> sections();
std::span<const key_spec> keys();

const section_spec* find_section(std::string_view name);
const key_spec* find_key(std::string_view section, std::string_view name);

/// Human-readable type name used in error messages and --list-keys ("duration", "size", ...).
std::string_view type_name(value_type t);

}  // namespace bulwark::config
