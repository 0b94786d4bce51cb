// config/validate: raw entries → typed config. Collects every error (not just the first) with the file
// and line it comes from, so `bulwark -t` shows an operator all that is wrong in one run.
#include "config/loader.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <unistd.h>

#include "config/schema.hpp"
#include "config/values.hpp"
#include "core/units.hpp"

namespace bulwark::config {
namespace {

struct section_group {
    const section_spec* spec;
    std::string label;
    int line;
    std::vector<const raw_entry*> entries;
};

class validator {
public:
    explicit validator(const raw_config& raw) : raw_(raw) {
        // Relative paths resolve against the config file's directory, made absolute now because the
        // daemon changes its working directory to /.
        auto slash = raw.file.rfind('/');
        base_dir_ = (slash == std::string::npos) ? "" : raw.file.substr(0, slash);
        if (base_dir_.empty() && slash == 0) base_dir_ = "/";
        if (base_dir_.empty() || base_dir_[0] != '/') {
            char cwd[4096];
            std::string here = ::getcwd(cwd, sizeof cwd) ? cwd : ".";
            base_dir_ = base_dir_.empty() ? here : here + "/" + base_dir_;
        }
        if (base_dir_.size() > 1 && base_dir_.back() == '/') base_dir_.pop_back();
    }

    load_result run() {
        group_sections();
        group_entries();
        check_keys();
        // Building goes on despite errors so that reference and bind errors are reported in the same
        // run; entries that failed their value check are skipped (value_of falls back to defaults).
        auto cfg = std::make_shared<config>();
        cfg->file = raw_.file;
        build_global(*cfg);
        for (auto& g : groups_) {
            if (g.spec->name == "upstream") build_upstream(*cfg, g);
            else if (g.spec->name == "limit") build_limit(*cfg, g);
            else if (g.spec->name == "tls") build_tls(*cfg, g);
            else if (g.spec->name == "listener") cfg->listeners.push_back({g.label, {}, -1});
        }
        for (auto& g : groups_) {
            if (g.spec->name == "listener") {
                build_listener(*cfg, g);
                build_listener_switches(cfg->listeners[static_cast<std::size_t>(find_index(cfg->listeners, g.label))], g);
            }
            else if (g.spec->name == "route") build_route(*cfg, g);
        }
        build_cache(*cfg);
        if (cfg->listeners.empty())
            error(1, "no [listener:NAME] section: bulwark would accept no connection");
        if (!errors_.empty()) return fail();
        return {std::move(cfg), {}};
    }

private:
    void error(int line, std::string msg) { errors_.push_back({raw_.file, line, std::move(msg)}); }
    load_result fail() {
        std::stable_sort(errors_.begin(), errors_.end(),
                         [](const diagnostic& a, const diagnostic& b) { return a.line < b.line; });
        return {nullptr, std::move(errors_)};
    }

    static std::string section_list() {
        std::string out;
        for (const auto& s : sections()) {
            if (!out.empty()) out += ", ";
            out += s.named ? std::string(s.name) + ":NAME" : std::string(s.name);
        }
        return out;
    }

    void group_sections() {
        for (const auto& s : raw_.sections) {
            const section_spec* spec = find_section(s.section);
            if (!spec) {
                error(s.line, "unknown section [" + s.section + "] (allowed: " + section_list() + ")");
                continue;
            }
            if (spec->named && s.label.empty()) {
                error(s.line, "section [" + s.section + "] needs a name: [" + s.section + ":NAME]");
                continue;
            }
            if (!spec->named && !s.label.empty()) {
                error(s.line, "section [" + s.section + "] takes no name");
                continue;
            }
            if (find_group(s.section, s.label)) {
                error(s.line, "section [" + s.section + (s.label.empty() ? "" : ":" + s.label) +
                                  "] defined twice");
                continue;
            }
            groups_.push_back({spec, s.label, s.line, {}});
        }
    }

    section_group* find_group(std::string_view section, std::string_view label) {
        for (auto& g : groups_)
            if (g.spec->name == section && g.label == label) return &g;
        return nullptr;
    }

    void group_entries() {
        for (const auto& e : raw_.entries) {
            // Entries are matched to the group opened at their section line; a rejected section has
            // already been reported once and its keys are not reported again.
            for (auto& g : groups_)
                if (g.line == e.section_line) g.entries.push_back(&e);
        }
    }

    void check_keys() {
        for (auto& g : groups_) {
            std::map<std::string, int> seen;
            for (const raw_entry* e : g.entries) {
                const key_spec* key = find_key(g.spec->name, e->key);
                if (!key) {
                    error(e->line, "unknown key '" + e->key + "' in [" + std::string(g.spec->name) +
                                       "] (allowed: " + key_list(g.spec->name) + ")");
                    continue;
                }
                if (!key->repeatable && seen.count(e->key))
                    error(e->line, "'" + e->key + "' given twice (first at line " +
                                       std::to_string(seen[e->key]) + ")");
                seen.emplace(e->key, e->line);
                std::string why = check_value(*key, e->value);
                if (!why.empty()) {
                    error(e->line, e->key + " = " + e->value + ": " + why);
                    bad_.insert(e);
                }
            }
            for (const auto& key : keys())
                if (key.section == g.spec->name && key.required && !seen.count(std::string(key.name)))
                    error(g.line, "[" + std::string(g.spec->name) + ":" + g.label + "] needs '" +
                                      std::string(key.name) + "'");
        }
    }

    static std::string key_list(std::string_view section) {
        std::string out;
        for (const auto& k : keys())
            if (k.section == section) out += (out.empty() ? "" : ", ") + std::string(k.name);
        return out;
    }

    // The value the operator wrote, or the schema's default.
    std::string value_of(const section_group* g, std::string_view section, std::string_view key) const {
        if (g)
            for (const raw_entry* e : g->entries)
                if (e->key == key && !bad_.count(e)) return e->value;
        return std::string(find_key(section, key)->default_value);
    }

    std::string resolve_path(const std::string& p) const {
        if (p.empty() || p[0] == '/' || p == "stderr" || p == "off") return p;
        return base_dir_ == "/" ? "/" + p : base_dir_ + "/" + p;
    }

    void build_global(config& cfg) {
        const section_group* g = find_group("global", "");
        auto& gl = cfg.global;
        auto v = [&](std::string_view k) { return value_of(g, "global", k); };
        std::string workers = v("workers");
        if (workers == "auto") {
            long n = ::sysconf(_SC_NPROCESSORS_ONLN);
            gl.workers = n > 0 ? static_cast<unsigned>(n) : 1;
        } else {
            gl.workers = static_cast<unsigned>(*parse_uint(workers));
        }
        gl.user = v("user");
        gl.group = v("group");
        gl.pid_file = resolve_path(v("pid_file"));
        gl.error_log = resolve_path(v("error_log"));
        log::parse_level(v("log_level"), gl.log_level);
        gl.shutdown_timeout = *parse_duration(v("shutdown_timeout"));
        gl.upgrade_timeout = *parse_duration(v("upgrade_timeout"));
        gl.client_header_timeout = *parse_duration(v("client_header_timeout"));
        gl.client_body_timeout = *parse_duration(v("client_body_timeout"));
        gl.keepalive_timeout = *parse_duration(v("keepalive_timeout"));
        gl.upstream_connect_timeout = *parse_duration(v("upstream_connect_timeout"));
        gl.upstream_timeout = *parse_duration(v("upstream_timeout"));
        gl.max_header_size = static_cast<std::size_t>(*parse_size(v("max_header_size")));
        gl.max_headers = static_cast<std::size_t>(*parse_uint(v("max_headers")));
        gl.max_uri_size = static_cast<std::size_t>(*parse_size(v("max_uri_size")));
        gl.max_body_size = *parse_size(v("max_body_size"));
        gl.max_connections = static_cast<std::size_t>(*parse_uint(v("max_connections")));
        gl.tunnel_timeout = *parse_duration(v("tunnel_timeout"));
        gl.state_dir = resolve_path(v("state_dir"));
        if (gl.state_dir.empty()) {
            auto slash = gl.pid_file.rfind('/');
            gl.state_dir = slash == std::string::npos ? base_dir_ : gl.pid_file.substr(0, std::max<std::size_t>(slash, 1));
        }
        gl.shm_size = *parse_size(v("shm_size"));
        cfg.log.access_log = resolve_path(value_of(find_group("log", ""), "log", "access_log"));
    }

    void build_upstream(config& cfg, const section_group& g) {
        upstream u;
        u.name = g.label;
        for (const raw_entry* e : g.entries) {
            if (bad_.count(e)) continue;
            if (e->key == "server") {
                server s;
                parse_server(e->value, s);
                u.servers.push_back(s);
            }
        }
        const std::string keepalive = value_of(&g, "upstream", "keepalive");
        u.keepalive = keepalive == "auto" ? upstream::keepalive_auto : static_cast<unsigned>(*parse_uint(keepalive));
        build_upstream_policy(u, g);
        cfg.upstreams.push_back(std::move(u));
    }

    int find_index(const auto& items, const std::string& name) const {
        for (std::size_t i = 0; i < items.size(); ++i)
            if (items[i].name == name) return static_cast<int>(i);
        return -1;
    }

    int reference(const config& cfg, const raw_entry* e, std::string_view kind) {
        int idx = kind == "upstream" ? find_index(cfg.upstreams, e->value)
                : kind == "limit"    ? find_index(cfg.limits, e->value)
                : kind == "tls"      ? find_index(cfg.tls, e->value)
                                     : find_index(cfg.listeners, e->value);
        if (idx < 0)
            error(e->line, std::string(e->key) + " = " + e->value + ": no [" + std::string(kind) + ":" +
                               e->value + "] section is defined");
        return idx;
    }

    void build_listener(config& cfg, const section_group& g) {
        listener& l = cfg.listeners[static_cast<std::size_t>(find_index(cfg.listeners, g.label))];
        for (const raw_entry* e : g.entries) {
            if (bad_.count(e)) continue;
            if (e->key == "bind") {
                endpoint ep;
                parse_endpoint(e->value, ep);
                if (bound_.count(ep.text()))
                    error(e->line, "bind = " + e->value + ": already bound at line " +
                                       std::to_string(bound_[ep.text()]));
                bound_.emplace(ep.text(), e->line);
                l.binds.push_back(ep);
            } else if (e->key == "upstream") {
                l.default_upstream = reference(cfg, e, "upstream");
            } else if (e->key == "trusted_proxies") {
                l.trusted_proxies.push_back(*cidr::parse(e->value));
            } else if (e->key == "limit") {
                if (int idx = reference(cfg, e, "limit"); idx >= 0) l.limits.push_back(idx);
            } else if (e->key == "tls") {
                if (int idx = reference(cfg, e, "tls"); idx >= 0) l.tls.push_back(idx);
            } else if (e->key == "allow" || e->key == "deny") {
                l.acl.push_back({e->key == "allow", *cidr::parse(e->value)});
            }
        }
    }

    void build_listener_switches(listener& l, const section_group& g) {
        l.max_conns_per_ip = static_cast<unsigned>(*parse_uint(value_of(&g, "listener", "max_conns_per_ip")));
        l.forwarded = value_of(&g, "listener", "forwarded") == "on";
        l.via = value_of(&g, "listener", "via") == "on";
        l.request_id = value_of(&g, "listener", "request_id") == "on";
        l.defer_accept = value_of(&g, "listener", "defer_accept") == "on";
        l.redirect_https = value_of(&g, "listener", "redirect_https") == "on";
        l.hsts = value_of(&g, "listener", "hsts");
        if (l.redirect_https && !l.tls.empty())
            error(entry_of(g, "redirect_https")->line, "redirect_https = on: the listener already serves TLS");
        if (!l.hsts.empty() && l.tls.empty())
            error(entry_of(g, "hsts")->line, "hsts: browsers ignore it over plain HTTP; set it on a TLS listener");
    }

    const raw_entry* entry_of(const section_group& g, std::string_view key) const {
        for (const raw_entry* e : g.entries)
            if (e->key == key && !bad_.count(e)) return e;
        return nullptr;
    }

    // Applies a text-form parser to a key's entry, reporting its message at the entry's line.
    template <class Parse>
    void parse_entry(const section_group& g, std::string_view key, Parse parse) {
        if (const raw_entry* e = entry_of(g, key)) {
            std::string why = parse(e->value);
            if (!why.empty()) error(e->line, e->key + " = " + e->value + ": " + why);
        }
    }

    void build_upstream_policy(upstream& u, const section_group& g) {
        auto v = [&](std::string_view k) { return value_of(&g, "upstream", k); };
        static constexpr std::string_view balances[] = {"round_robin", "least_conn", "ip_hash", "hash", "random_two"};
        for (std::size_t i = 0; i < std::size(balances); ++i)
            if (v("balance") == balances[i]) u.balance = static_cast<balance_kind>(i);
        parse_entry(g, "hash_key", [&](const std::string& t) { return parse_request_key(t, false, u.hash_key); });
        parse_entry(g, "health_check", [&](const std::string& t) { return parse_health_request(t, u.health); });
        parse_entry(g, "health_status", [&](const std::string& t) {
            return parse_status_range(t, u.health.status_low, u.health.status_high);
        });
        u.health.interval = *parse_duration(v("health_interval"));
        u.health.timeout = *parse_duration(v("health_timeout"));
        u.health.rise = static_cast<unsigned>(*parse_uint(v("health_rise")));
        u.health.fall = static_cast<unsigned>(*parse_uint(v("health_fall")));
        u.max_fails = static_cast<unsigned>(*parse_uint(v("max_fails")));
        u.fail_timeout = *parse_duration(v("fail_timeout"));
        u.slow_start = *parse_duration(v("slow_start"));
        u.tls_verify = v("tls_verify") == "on";
        u.tls_sni = v("tls_sni");
        if (const raw_entry* e = entry_of(g, "tls_ca")) u.tls_ca = resolve_path(e->value), u.tls_ca_line = e->line;
        if (const raw_entry* e = entry_of(g, "tls_certificate"))
            u.tls_certificate = resolve_path(e->value), u.tls_certificate_line = e->line;
        if (const raw_entry* e = entry_of(g, "tls_key")) u.tls_key = resolve_path(e->value), u.tls_key_line = e->line;
        if (u.tls_certificate.empty() != u.tls_key.empty())
            error(g.line, "[upstream:" + u.name + "] needs both tls_certificate and tls_key, or neither");
        bool any_primary = false;
        for (const auto& srv : u.servers) any_primary |= !srv.backup;
        if (!u.servers.empty() && !any_primary) error(g.line, "[upstream:" + u.name + "] has only backup servers");
    }

    void build_limit(config& cfg, const section_group& g) {
        limit l;
        l.name = g.label;
        auto v = [&](std::string_view k) { return value_of(&g, "limit", k); };
        parse_entry(g, "key", [&](const std::string& t) { return parse_request_key(t, true, l.key); });
        parse_entry(g, "rate", [&](const std::string& t) { return parse_rate(t, l.rate_per_sec); });
        parse_entry(g, "on_status", [&](const std::string& t) { return parse_status_list(t, l.on_status); });
        l.burst = static_cast<unsigned>(*parse_uint(v("burst")));
        l.nodelay = v("nodelay") == "on";
        l.max_responses = static_cast<unsigned>(*parse_uint(v("max_responses")));
        l.window = *parse_duration(v("window"));
        l.block_for = *parse_duration(v("block_for"));
        if (!entry_of(g, "rate") && !entry_of(g, "on_status"))
            error(g.line, "[limit:" + l.name + "] needs 'rate' (or 'on_status' for a brute-force guard)");
        cfg.limits.push_back(std::move(l));
    }

    void build_route(config& cfg, const section_group& g) {
        route r;
        r.name = g.label;
        for (const raw_entry* e : g.entries) {
            if (bad_.count(e)) continue;
            if (e->key == "listener") r.listener = reference(cfg, e, "listener");
            else if (e->key == "upstream") r.upstream = reference(cfg, e, "upstream");
            else if (e->key == "host") {
                if (e->value.find(':') != std::string::npos && e->value[0] != '[')
                    error(e->line, "host = " + e->value + ": give the name without a port (the port is ignored)");
                r.host = e->value;
                std::transform(r.host.begin(), r.host.end(), r.host.begin(),
                               [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
            } else if (e->key == "path_prefix") {
                r.path_prefix = e->value;
            } else if (e->key == "limit") {
                if (int idx = reference(cfg, e, "limit"); idx >= 0) r.limits.push_back(idx);
            } else if (e->key == "allow" || e->key == "deny") {
                r.acl.push_back({e->key == "allow", *cidr::parse(e->value)});
            }
        }
        build_route_cache(r.cache, g);
        cfg.routes.push_back(std::move(r));
    }

    void build_route_cache(route_cache& c, const section_group& g) {
        auto v = [&](std::string_view k) { return value_of(&g, "route", k); };
        c.enabled = v("cache") == "on";
        c.key = v("cache_key");
        c.min_uses = static_cast<unsigned>(*parse_uint(v("cache_min_uses")));
        parse_entry(g, "cache_key", [&](const std::string& t) { return check_cache_key(t); });
        parse_entry(g, "cache_methods", [&](const std::string& t) { return parse_cache_methods(t, c.methods); });
        for (const raw_entry* e : g.entries) {
            if (e->key != "cache_valid" || bad_.count(e)) continue;
            std::string why = parse_cache_valid(e->value, c.valid);
            if (!why.empty()) error(e->line, e->key + " = " + e->value + ": " + why);
        }
    }

    void build_cache(config& cfg) {
        const section_group* g = find_group("cache", "");
        auto& c = cfg.cache;
        auto v = [&](std::string_view k) { return value_of(g, "cache", k); };
        c.path = resolve_path(v("path"));
        c.size = *parse_size(v("size"));
        c.max_object_size = *parse_size(v("max_object_size"));
        c.min_compress_size = static_cast<std::size_t>(*parse_size(v("min_compress_size")));
        c.max_compress_size = *parse_size(v("max_compress_size"));
        c.lock_timeout = *parse_duration(v("lock_timeout"));
        auto field = [&](std::string_view key, std::string& out, bool lower) {
            std::string value = v(key);
            if (g) parse_entry(*g, key, [](const std::string& t) { return check_field_name(t); });
            out = value == "off" ? std::string() : value;
            if (lower) std::transform(out.begin(), out.end(), out.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
        };
        field("status_header", c.status_header, false);
        field("targeted_control", c.targeted_field, true);
        if (g)
            for (const raw_entry* e : g->entries)
                if (e->key == "purge_allow" && !bad_.count(e)) c.purge_allow.push_back(*cidr::parse(e->value));
        for (const auto& r : cfg.routes) c.used |= r.cache.enabled;
    }
    void build_tls(config& cfg, const section_group& g);

    const raw_config& raw_;
    std::string base_dir_;
    std::vector<section_group> groups_;
    std::map<std::string, int> bound_;
    std::set<const raw_entry*> bad_;  // entries whose value failed its check
    std::vector<diagnostic> errors_;
};

}  // namespace

// [tls:NAME]: certificate and key pair up by position; files are read and checked later by the master
// (tls/material), which reports at these lines.
void validator::build_tls(config& cfg, const section_group& g) {
    tls_settings t;
    t.name = g.label;
    t.line = g.line;
    std::vector<const raw_entry*> certs, keys;
    for (const raw_entry* e : g.entries) {
        if (bad_.count(e)) continue;
        if (e->key == "certificate") certs.push_back(e);
        else if (e->key == "key") keys.push_back(e);
        else if (e->key == "server_name") {
            std::string n = e->value;
            std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
            if (n.find('*') != std::string::npos && (!n.starts_with("*.") || n.find('*', 1) != std::string::npos))
                error(e->line, "server_name = " + e->value + ": a wildcard is allowed only as the first label (*.example.com)");
            t.server_names.push_back(std::move(n));
        }
    }
    if (certs.size() != keys.size())
        error(g.line, "[tls:" + t.name + "] has " + std::to_string(certs.size()) + " certificate(s) and " +
                          std::to_string(keys.size()) + " key(s): give one key per certificate, in the same order");
    for (std::size_t i = 0; i < std::min(certs.size(), keys.size()); ++i)
        t.certificates.push_back({resolve_path(certs[i]->value), resolve_path(keys[i]->value), certs[i]->line, keys[i]->line});
    auto v = [&](std::string_view k) { return value_of(&g, "tls", k); };
    t.tls12 = t.tls13 = false;
    for (std::size_t at = 0; at < v("protocols").size();) {
        std::string p = v("protocols");
        std::size_t sp = p.find(' ', at);
        std::string word = p.substr(at, sp == std::string::npos ? std::string::npos : sp - at);
        at = sp == std::string::npos ? p.size() : sp + 1;
        if (word.empty()) continue;
        if (word == "TLSv1.2") t.tls12 = true;
        else if (word == "TLSv1.3") t.tls13 = true;
        else error(entry_of(g, "protocols")->line, "protocols: " + word + " is not supported (allowed: TLSv1.2 TLSv1.3)");
    }
    if (!t.tls12 && !t.tls13 && entry_of(g, "protocols")) error(entry_of(g, "protocols")->line, "protocols: none given");
    t.ciphers = v("ciphers");
    t.ciphersuites = v("ciphersuites");
    t.groups = v("groups");
    t.handshake_timeout = *parse_duration(v("handshake_timeout"));
    if (std::string sc = v("session_cache"); sc == "off") {
        t.session_cache = 0;
    } else if (auto n = parse_size(sc)) {
        t.session_cache = *n;
    } else {
        error(entry_of(g, "session_cache")->line, "session_cache = " + sc + ": give a size (4m) or off");
    }
    t.session_tickets = v("session_tickets") == "on";
    t.ticket_key_rotation = *parse_duration(v("ticket_key_rotation"));
    if (t.ticket_key_rotation.count() < 1000)
        error(entry_of(g, "ticket_key_rotation")->line, "ticket_key_rotation: at least 1s");
    if (const raw_entry* e = entry_of(g, "ocsp_response")) t.ocsp_response = resolve_path(e->value), t.ocsp_line = e->line;
    if (const raw_entry* e = entry_of(g, "client_ca")) t.client_ca = resolve_path(e->value), t.client_ca_line = e->line;
    std::string verify = v("verify_client");
    t.verify = verify == "require" ? verify_client::require : verify == "optional" ? verify_client::optional : verify_client::off;
    if (t.verify != verify_client::off && t.client_ca.empty())
        error(entry_of(g, "verify_client")->line, "verify_client = " + verify + " needs client_ca");
    t.client_cert_header = v("client_cert_header");
    t.client_fingerprint_header = v("client_fingerprint_header");
    cfg.tls.push_back(std::move(t));
}

load_result validate(const raw_config& raw) { return validator(raw).run(); }

}  // namespace bulwark::config
