// config/model: the typed, validated configuration. Immutable once built; processes share it as
// std::shared_ptr<const config> so a reload can swap snapshots while requests finish on the old one.
#pragma once

#include <chrono>
#include <climits>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/cidr.hpp"
#include "core/log.hpp"

namespace bulwark::config {

using milliseconds = std::chrono::milliseconds;

/// A numeric address and port, kept free of socket headers so config/ stays light.
struct endpoint {
    std::string host;  // numeric IPv4 or IPv6 (without brackets)
    std::uint16_t port = 0;
    bool ipv6 = false;
    std::string text() const { return ipv6 ? "[" + host + "]:" + std::to_string(port) : host + ":" + std::to_string(port); }
    bool operator==(const endpoint&) const = default;
};

struct global_settings {
    unsigned workers = 1;  // "auto" resolved to the core count
    std::string user;
    std::string group;
    std::string pid_file;
    std::string error_log;
    log::level log_level = log::level::info;
    milliseconds shutdown_timeout{30'000};
    milliseconds upgrade_timeout{30'000};
    milliseconds client_header_timeout{60'000};
    milliseconds client_body_timeout{60'000};
    milliseconds keepalive_timeout{75'000};
    milliseconds upstream_connect_timeout{5'000};
    milliseconds upstream_timeout{60'000};
    std::size_t max_header_size = 32 * 1024;
    std::size_t max_headers = 100;
    std::size_t max_uri_size = 8 * 1024;
    std::uint64_t max_body_size = 0;  // 0: unlimited
    std::size_t max_connections = 10'000;
    milliseconds tunnel_timeout{3'600'000};
    std::string state_dir;
    std::uint64_t shm_size = 16 * 1024 * 1024;
};

struct server {
    endpoint address;
    unsigned weight = 1;
    unsigned max_conns = 0;  // 0: no limit
    bool backup = false;     // used only when every other server is down
    bool tls = false;        // connect with TLS (the upstream's tls_* keys)
};

enum class balance_kind { round_robin, least_conn, ip_hash, hash, random_two };

/// What a hash-based choice (balance = hash, limit key) is computed from.
struct request_key {
    enum class kind { uri, client_ip, header, route } what = kind::client_ip;
    std::string header;  // for kind::header, lower-case
};

struct health_check {
    bool enabled = false;
    std::string method = "GET";
    std::string path = "/";
    milliseconds interval{2'000};
    milliseconds timeout{1'000};
    unsigned rise = 2;
    unsigned fall = 3;
    int status_low = 200;
    int status_high = 399;
};

struct upstream {
    std::string name;
    std::vector<server> servers;
    /// keepalive = auto: idle connections follow recent traffic (proxy/pool_window.hpp), bounded by
    /// max_connections and the server's max_conns; a number caps them.
    static constexpr unsigned keepalive_auto = UINT_MAX;
    unsigned keepalive = keepalive_auto;
    balance_kind balance = balance_kind::round_robin;
    request_key hash_key{request_key::kind::uri, {}};
    health_check health;
    unsigned max_fails = 1;
    milliseconds fail_timeout{10'000};
    milliseconds slow_start{0};
    // TLS to servers marked `tls`. The CA file (or the system bundle) and the client pair are read by
    // the master (config::tls_files) like the listener side's files.
    std::string tls_ca;  // empty: the system store
    int tls_ca_line = 0;
    std::string tls_sni;  // also the name verified; empty: no SNI, the server's IP address is verified
    bool tls_verify = true;
    std::string tls_certificate, tls_key;
    int tls_certificate_line = 0, tls_key_line = 0;
};

struct acl_rule {
    bool allow = true;
    cidr range;
};

struct limit {
    std::string name;
    request_key key;
    double rate_per_sec = 0;  // 0 for a pure brute-force guard
    unsigned burst = 0;
    bool nodelay = false;
    std::vector<int> on_status;  // non-empty: brute-force guard over these response statuses
    unsigned max_responses = 5;
    milliseconds window{60'000};
    milliseconds block_for{600'000};
};

/// One certificate and its key, in the order given ([tls:NAME] certificate/key pairs).
struct tls_certificate {
    std::string certificate;
    std::string key;
    int certificate_line = 0;
    int key_line = 0;
};

enum class verify_client { off, optional, require };

struct tls_settings {
    std::string name;
    int line = 0;
    std::vector<tls_certificate> certificates;
    std::vector<std::string> server_names;  // lower-case; "*.example.com" matches one label
    bool tls12 = true;
    bool tls13 = true;
    std::string ciphers;
    std::string ciphersuites;
    std::string groups;
    milliseconds handshake_timeout{10'000};
    std::uint64_t session_cache = 4 * 1024 * 1024;  // bytes, 0: off
    bool session_tickets = true;
    milliseconds ticket_key_rotation{12 * 3'600'000};
    std::string ocsp_response;
    int ocsp_line = 0;
    std::string client_ca;
    int client_ca_line = 0;
    verify_client verify = verify_client::off;
    std::string client_cert_header;         // empty: not sent
    std::string client_fingerprint_header;  // empty: not sent
};

struct listener {
    std::string name;
    std::vector<endpoint> binds;
    int default_upstream = -1;  // index into config::upstreams, -1 answers 404
    std::vector<cidr> trusted_proxies;
    bool forwarded = false;
    bool via = true;
    bool request_id = true;
    std::vector<int> limits;  // indexes into config::limits
    std::vector<acl_rule> acl;
    unsigned max_conns_per_ip = 0;
    bool defer_accept = true;  // TCP_DEFER_ACCEPT on its listening sockets
    std::vector<int> tls;      // indexes into config::tls; empty: plain; the first is the SNI default
    bool redirect_https = false;
    std::string hsts;          // Strict-Transport-Security value, empty: none
};

/// A route's use of the shared cache ([route:NAME] cache_* keys).
struct route_cache {
    bool enabled = false;
    std::string key = "$scheme://$host$request_uri";  // template of the cache key
    std::vector<std::string> methods{"GET", "HEAD"};
    unsigned min_uses = 1;
    /// cache_valid: freshness for responses that give none, by status (0: any status).
    std::vector<std::pair<int, std::int64_t>> valid;  // (status, seconds)
};

struct route {
    std::string name;
    int listener = -1;  // index into config::listeners, -1 means every listener
    std::string host;   // lower-case, empty matches any
    std::string path_prefix = "/";
    int upstream = -1;  // index into config::upstreams
    std::vector<int> limits;
    std::vector<acl_rule> acl;
    route_cache cache;
};

/// [cache]: the one shared cache file every cached route uses.
struct cache_settings {
    std::string path;
    std::uint64_t size = 256ull * 1024 * 1024;
    std::uint64_t max_object_size = 32ull * 1024 * 1024;
    std::size_t min_compress_size = 512;
    std::uint64_t max_compress_size = 64 * 1024;
    std::string status_header = "X-Cache";                 // empty: none added
    std::string targeted_field = "bulwark-cache-control";  // lower-case; empty: CDN-Cache-Control only
    milliseconds lock_timeout{5'000};
    std::vector<cidr> purge_allow;
    bool used = false;  // some route has cache = on: the master maps the file
};

struct log_settings {
    std::string access_log;  // path, "stderr" or "off"
};

struct config {
    std::string file;  // the file it was read from
    global_settings global;
    std::vector<listener> listeners;
    std::vector<upstream> upstreams;
    std::vector<route> routes;
    std::vector<limit> limits;
    cache_settings cache;
    std::vector<tls_settings> tls;
    log_settings log;
    /// Certificate, key, CA and OCSP files by path, read by the master as root (tls/material) and
    /// handed to the workers, which never open them.
    std::map<std::string, std::string> tls_files;
};

using snapshot = std::shared_ptr<const config>;

}  // namespace bulwark::config
