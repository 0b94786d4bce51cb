// config/schema: every section and key bulwark accepts, with its type, default, allowed values and doc.
// Adding a key here makes `--list-keys` show it and the documentation test require it in
// man/bulwark.ini.5 and conf/bulwark.ini.
#include "config/schema.hpp"

#include <array>

namespace bulwark::config {
namespace {

using enum value_type;

constexpr std::array section_table{
    section_spec{"global", false, "process model, privileges, files and timeouts"},
    section_spec{"listener", true, "a set of addresses accepting client connections"},
    section_spec{"upstream", true, "a group of backend servers and how to reach them"},
    section_spec{"route", true, "sends requests matching a host and path prefix to an upstream"},
    section_spec{"limit", true, "a request-rate limit or brute-force guard shared by all workers"},
    section_spec{"cache", false, "the HTTP cache shared by every worker (file, size, status header, purge)"},
    section_spec{"tls", true, "certificates and TLS settings, referenced by a listener's tls key"},
    section_spec{"log", false, "access logging"},
};

#ifndef BULWARK_LOCALSTATEDIR
#define BULWARK_LOCALSTATEDIR "/var"
#endif
#define BW_STATE BULWARK_LOCALSTATEDIR

constexpr std::array key_table{
    // [global]
    key_spec{"global", "workers", count_or_auto, "auto", "1..512", false, false,
             "number of worker processes; auto starts one per CPU core"},
    key_spec{"global", "user", text, "bulwark", "", false, false,
             "user the workers run as when bulwark is started as root"},
    key_spec{"global", "group", text, "", "", false, false,
             "group the workers run as when started as root; default: the user's primary group"},
    key_spec{"global", "pid_file", path, BW_STATE "/run/bulwark/bulwark.pid", "", false, false,
             "file holding the master's process id, read by bulwark -s"},
    key_spec{"global", "error_log", log_target, BW_STATE "/log/bulwark/error.log", "path|stderr", false,
             false, "error log file, or stderr"},
    key_spec{"global", "log_level", choice, "info", "debug|info|notice|warn|error|crit", false, false,
             "least severe level written to the error log"},
    key_spec{"global", "shutdown_timeout", duration, "30s", "", false, false,
             "how long a graceful stop waits for in-flight requests before closing them"},
    key_spec{"global", "upgrade_timeout", duration, "30s", "", false, false,
             "how long a live upgrade waits for the new binary to become ready before rolling back"},
    key_spec{"global", "client_header_timeout", duration, "60s", "", false, false,
             "time a client has to send a complete request head"},
    key_spec{"global", "client_body_timeout", duration, "60s", "", false, false,
             "longest pause between two reads of a request body"},
    key_spec{"global", "keepalive_timeout", duration, "75s", "", false, false,
             "how long an idle client keep-alive connection stays open"},
    key_spec{"global", "upstream_connect_timeout", duration, "5s", "", false, false,
             "time allowed to establish a connection to a backend server (then 504)"},
    key_spec{"global", "upstream_timeout", duration, "60s", "", false, false,
             "longest wait for a backend's response or between two reads of it (then 504)"},
    key_spec{"global", "max_header_size", size, "32k", "1k..1m", false, false,
             "largest request or response head accepted (request line and all fields)"},
    key_spec{"global", "max_headers", count, "100", "1..256", false, false,
             "most header fields accepted in a request or response head (then 431 or 502)"},
    key_spec{"global", "max_uri_size", size, "8k", "256..1m", false, false,
             "longest request target accepted (then 414)"},
    key_spec{"global", "max_body_size", size, "0", "", false, false,
             "largest request body accepted, 0 for no limit (then 413)"},
    key_spec{"global", "max_connections", count, "10000", "1..1000000", false, false,
             "client connections one worker serves at once; beyond it new connections wait in the queue"},
    key_spec{"global", "tunnel_timeout", duration, "1h", "", false, false,
             "how long an upgraded (WebSocket) connection may stay silent in both directions"},
    key_spec{"global", "state_dir", path, "", "", false, false,
             "directory of the shared-memory segment (backend state, limits); default: the pid file's directory"},
    key_spec{"global", "shm_size", size, "16m", "1m..4g", false, false,
             "size of the shared-memory segment; limit tables take what the backend table leaves"},
    // [listener:NAME]
    key_spec{"listener", "bind", endpoint, "", "", true, true,
             "address and port to accept on, e.g. 0.0.0.0:80 or [::]:80; repeat for several"},
    key_spec{"listener", "upstream", reference, "", "upstream", false, false,
             "upstream for requests that match no route; without it they get 404"},
    key_spec{"listener", "trusted_proxies", cidr, "", "", true, false,
             "address ranges (CIDR) of proxies in front of bulwark whose X-Forwarded-For is kept and extended"},
    key_spec{"listener", "forwarded", choice, "off", "on|off", false, false,
             "add a Forwarded field (RFC 7239) to requests sent upstream"},
    key_spec{"listener", "via", choice, "on", "on|off", false, false,
             "add a Via field (RFC 9110) to requests sent upstream"},
    key_spec{"listener", "request_id", choice, "on", "on|off", false, false,
             "give each request an X-Request-Id when it has none, forward it and log it"},
    key_spec{"listener", "limit", reference, "", "limit", true, false,
             "a [limit:NAME] applied to every request on this listener; repeatable"},
    key_spec{"listener", "allow", cidr, "", "", true, false,
             "client addresses allowed; allow and deny rules are tried in file order, the first match wins"},
    key_spec{"listener", "deny", cidr, "", "", true, false,
             "client addresses refused with 403; see allow"},
    key_spec{"listener", "max_conns_per_ip", count, "0", "0..1000000", false, false,
             "open connections one client address may hold across all workers, 0 for no limit"},
    key_spec{"listener", "defer_accept", choice, "on", "on|off", false, false,
             "hand a connection to a worker only once the client has sent its first bytes (TCP_DEFER_ACCEPT)"},
    key_spec{"listener", "tls", reference, "", "tls", true, false,
             "a [tls:NAME] terminating TLS on this listener; repeat for SNI, the first is the default"},
    key_spec{"listener", "redirect_https", choice, "off", "on|off", false, false,
             "answer every request on this (plain) listener with 308 to the same URL on https"},
    key_spec{"listener", "hsts", phrase, "", "max-age=N[; includeSubDomains]", false, false,
             "Strict-Transport-Security value added to responses on this TLS listener"},
    // [upstream:NAME]
    key_spec{"upstream", "server", server, "", "weight=1..1000 max_conns=N backup tls", true, true,
             "backend address and port, then options weight=N (default 1), max_conns=N, backup, tls; repeat per server"},
    key_spec{"upstream", "keepalive", count_or_auto, "auto", "0..65535", false, false,
             "most idle connections kept open per worker to each server; auto keeps what recent traffic needed"},
    key_spec{"upstream", "balance", choice, "round_robin", "round_robin|least_conn|ip_hash|hash|random_two", false,
             false, "how a server is chosen for each request"},
    key_spec{"upstream", "hash_key", text, "uri", "uri|client_ip|header:NAME", false, false,
             "what balance = hash hashes"},
    key_spec{"upstream", "health_check", phrase, "", "METHOD /path", false, false,
             "active health check request sent by the monitor process; no active checks without it"},
    key_spec{"upstream", "health_interval", duration, "2s", "", false, false, "time between two active checks of a server"},
    key_spec{"upstream", "health_timeout", duration, "1s", "", false, false, "time an active check may take"},
    key_spec{"upstream", "health_rise", count, "2", "1..100", false, false,
             "consecutive successful checks that bring a server up"},
    key_spec{"upstream", "health_fall", count, "3", "1..100", false, false,
             "consecutive failed checks that take a server down"},
    key_spec{"upstream", "health_status", text, "200-399", "LOW-HIGH", false, false,
             "status codes an active check accepts"},
    key_spec{"upstream", "max_fails", count, "1", "0..1000", false, false,
             "failed requests within fail_timeout that mark a server down (0 disables passive checks)"},
    key_spec{"upstream", "fail_timeout", duration, "10s", "", false, false,
             "window for max_fails, and how long a server then stays down"},
    key_spec{"upstream", "slow_start", duration, "0s", "", false, false,
             "time over which a server that came back up ramps from little to its full weight"},
    key_spec{"upstream", "tls_ca", path, "", "", false, false,
             "PEM CAs that servers marked tls must chain to; default: the system store (read by the master)"},
    key_spec{"upstream", "tls_sni", text, "", "host name", false, false,
             "server name sent (SNI) and verified on TLS servers; default: none sent, the address is verified"},
    key_spec{"upstream", "tls_verify", choice, "on", "on|off", false, false,
             "verify TLS servers' certificates (off: any certificate is accepted)"},
    key_spec{"upstream", "tls_certificate", path, "", "", false, false,
             "PEM client certificate presented to TLS servers (mutual TLS), with tls_key"},
    key_spec{"upstream", "tls_key", path, "", "", false, false, "PEM private key of tls_certificate"},
    // [route:NAME]
    key_spec{"route", "listener", reference, "", "listener", false, false,
             "listener this route applies to; default: every listener"},
    key_spec{"route", "host", text, "", "", false, false,
             "Host the request must carry (case-insensitive, port ignored); default: any"},
    key_spec{"route", "path_prefix", url_prefix, "/", "", false, false,
             "path the request target must start with; the longest matching prefix wins"},
    key_spec{"route", "upstream", reference, "", "upstream", false, true,
             "upstream that serves the matching requests"},
    key_spec{"route", "limit", reference, "", "limit", true, false,
             "a [limit:NAME] applied to requests of this route; repeatable"},
    key_spec{"route", "allow", cidr, "", "", true, false, "client addresses allowed on this route (see listener allow)"},
    key_spec{"route", "deny", cidr, "", "", true, false, "client addresses refused on this route with 403"},
    key_spec{"route", "cache", choice, "off", "on|off", false, false,
             "store and serve this route's responses in the shared cache (RFC 9111)"},
    key_spec{"route", "cache_key", text, "$scheme://$host$request_uri", "$scheme $host $request_uri $uri $args $method $http_NAME",
             false, false, "template of the key responses are stored under; text between variables is kept as written"},
    key_spec{"route", "cache_methods", phrase, "GET HEAD", "GET HEAD", false, false,
             "request methods answered from the cache (a HEAD is answered from a stored GET)"},
    key_spec{"route", "cache_min_uses", count, "1", "1..1000", false, false,
             "requests for a key (across workers, within 10 minutes) before its response is stored"},
    key_spec{"route", "cache_valid", phrase, "", "[STATUS...|any] DURATION", true, false,
             "freshness for responses that carry none (no max-age, s-maxage or Expires), e.g. 200 301 10m; repeatable"},
    // [limit:NAME]
    key_spec{"limit", "key", text, "client_ip", "client_ip|route|header:NAME", false, false,
             "what requests are counted by"},
    key_spec{"limit", "rate", text, "", "N/s|N/m", false, false,
             "sustained request rate allowed per key (required unless on_status is set)"},
    key_spec{"limit", "burst", count, "0", "0..1000000", false, false,
             "requests allowed above the rate before limiting starts"},
    key_spec{"limit", "nodelay", choice, "off", "on|off", false, false,
             "on: requests within the burst pass at once; off: they are delayed to the rate (nginx's default)"},
    key_spec{"limit", "on_status", text, "", "CODE[,CODE...]", false, false,
             "makes this a brute-force guard counting responses with these statuses instead of requests"},
    key_spec{"limit", "max_responses", count, "5", "1..1000000", false, false,
             "responses with on_status within window that block the key"},
    key_spec{"limit", "window", duration, "60s", "", false, false, "the brute-force guard's counting window"},
    key_spec{"limit", "block_for", duration, "10m", "", false, false, "how long a key caught by the guard is refused (403)"},
    // [cache]
    key_spec{"cache", "path", path, BW_STATE "/cache/bulwark/cache", "", false, false,
             "file holding the cache (index and objects); created by the master, kept across restarts"},
    key_spec{"cache", "size", size, "256m", "1m..1024g", false, false,
             "size of the cache file; cannot change by reload"},
    key_spec{"cache", "max_object_size", size, "32m", "1k..1024g", false, false,
             "largest response body stored; larger ones pass through uncached"},
    key_spec{"cache", "min_compress_size", size, "512", "0..1g", false, false,
             "bodies at least this large are stored lz4-compressed (unless already encoded)"},
    key_spec{"cache", "max_compress_size", size, "64k", "0..1g", false, false,
             "bodies larger than this (or of unknown length) are stored raw and sent straight from the cache file"},
    key_spec{"cache", "status_header", text, "X-Cache", "NAME|off", false, false,
             "response field telling HIT, MISS, STALE, REVALIDATED or BYPASS; off for none"},
    key_spec{"cache", "targeted_control", text, "Bulwark-Cache-Control", "NAME|off", false, false,
             "field that, like CDN-Cache-Control (RFC 9213), overrides Cache-Control for this cache and is not passed to clients"},
    key_spec{"cache", "lock_timeout", duration, "5s", "", false, false,
             "how long concurrent misses for one key wait for the first one's response before going to the origin themselves"},
    key_spec{"cache", "purge_allow", cidr, "", "", true, false,
             "client addresses allowed to send PURGE; others get 403; repeatable"},
    // [tls:NAME]
    key_spec{"tls", "certificate", path, "", "", true, true,
             "PEM certificate chain (leaf first); repeat with a key each for ECDSA and RSA side by side"},
    key_spec{"tls", "key", path, "", "", true, true,
             "PEM private key of the certificate given in the same position"},
    key_spec{"tls", "server_name", text, "", "NAME|*.DOMAIN", true, false,
             "SNI names this section answers (exact or *.example.com); default: the listener's default"},
    key_spec{"tls", "protocols", phrase, "TLSv1.2 TLSv1.3", "TLSv1.2 TLSv1.3", false, false,
             "protocol versions accepted"},
    key_spec{"tls", "ciphers", text,
             "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
             "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
             "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305",
             "OpenSSL cipher list", false, false, "TLS 1.2 cipher list (default: Mozilla intermediate)"},
    key_spec{"tls", "ciphersuites", text, "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256",
             "OpenSSL ciphersuites", false, false, "TLS 1.3 cipher suites"},
    key_spec{"tls", "groups", text, "X25519:P-256:P-384", "OpenSSL group list", false, false,
             "key exchange groups, in order of preference"},
    key_spec{"tls", "handshake_timeout", duration, "10s", "", false, false,
             "time a client has to complete the TLS handshake"},
    key_spec{"tls", "session_cache", text, "4m", "SIZE|off", false, false,
             "size of the session cache shared by all workers (resumption by session id); fixed at start"},
    key_spec{"tls", "session_tickets", choice, "on", "on|off", false, false,
             "issue session tickets (keys shared by all workers, generated and rotated by the master)"},
    key_spec{"tls", "ticket_key_rotation", duration, "12h", "", false, false,
             "how often the master makes a new ticket key (the previous one still decrypts); the shortest wins"},
    key_spec{"tls", "ocsp_response", path, "", "", false, false,
             "DER OCSP response about the first certificate, stapled; refreshed by the operator, re-read on reload"},
    key_spec{"tls", "client_ca", path, "", "", false, false,
             "PEM CA certificates that client certificates must chain to (with verify_client)"},
    key_spec{"tls", "verify_client", choice, "off", "off|optional|require", false, false,
             "ask clients for a certificate; require refuses the handshake without a valid one"},
    key_spec{"tls", "client_cert_header", text, "", "header name", false, false,
             "header carrying the verified client certificate's subject to the backend (incoming copies removed)"},
    key_spec{"tls", "client_fingerprint_header", text, "", "header name", false, false,
             "header carrying the verified client certificate's SHA-256 fingerprint (incoming copies removed)"},
    // [log]
    key_spec{"log", "access_log", log_target, BW_STATE "/log/bulwark/access.log", "path|stderr|off",
             false, false, "access log in combined format, stderr, or off"},
};

}  // namespace

std::span<const section_spec> sections() { return section_table; }
std::span<const key_spec> keys() { return key_table; }

const section_spec* find_section(std::string_view name) {
    for (const auto& s : section_table)
        if (s.name == name) return &s;
    return nullptr;
}

const key_spec* find_key(std::string_view section, std::string_view name) {
    for (const auto& k : key_table)
        if (k.section == section && k.name == name) return &k;
    return nullptr;
}

std::string_view type_name(value_type t) {
    switch (t) {
    case count: return "number";
    case count_or_auto: return "number|auto";
    case size: return "size";
    case duration: return "duration";
    case text: return "string";
    case phrase: return "text";
    case path: return "path";
    case log_target: return "log target";
    case choice: return "choice";
    case endpoint: return "address:port";
    case server: return "address:port [weight=N]";
    case reference: return "name";
    case url_prefix: return "path";
    case cidr: return "address/prefix";
    }
    return "value";
}

}  // namespace bulwark::config
