// http/headers: serialization is plain appends into a reserved string: no allocation once warm.
#include "http/headers.hpp"

#include <charconv>

#include "core/strings.hpp"
#include "http/parser.hpp"

namespace bulwark::http {
namespace {

bool listed_in_connection(std::string_view name, std::string_view connection) {
    return any_list_item(connection, [name](std::string_view tok) { return iequals(tok, name); });
}

void append_field(std::string& out, std::string_view name, std::string_view value) {
    out.append(name);
    out.append(": ");
    out.append(value);
    out.append("\r\n");
}

void append_number(std::string& out, unsigned long long v) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, static_cast<std::size_t>(r.ptr - buf));
}

}  // namespace

bool is_hop_by_hop(std::string_view name, std::string_view connection_value) {
    switch (name.size()) {
    case 4: if (name_equals(name, "host")) return false; break;
    case 14: if (name_equals(name, "content-length")) return false; break;
    case 17: if (name_equals(name, "transfer-encoding")) return false; break;
    case 2: if (name_equals(name, "te")) return true; break;
    case 7: if (name_equals(name, "upgrade")) return true; break;
    case 10:
        if (name_equals(name, "connection") || name_equals(name, "keep-alive")) return true;
        break;
    case 16: if (name_equals(name, "proxy-connection")) return true; break;
    case 18: if (name_equals(name, "proxy-authenticate")) return true; break;
    case 19: if (name_equals(name, "proxy-authorization")) return true; break;
    default: break;
    }
    return !connection_value.empty() && listed_in_connection(name, connection_value);
}

bool is_hop_by_hop(const head_common& head, std::string_view name) {
    if (!head.several_connection_fields) return is_hop_by_hop(name, head.connection);
    if (is_hop_by_hop(name, {})) return true;
    if (name_equals(name, "host") || name_equals(name, "content-length") || name_equals(name, "transfer-encoding"))
        return false;
    for (const field& f : head)
        if (name_equals(f.name, "connection") && listed_in_connection(name, f.value)) return true;
    return false;
}

namespace {

// X-Forwarded-For / Forwarded from a trusted proxy are extended; from anyone else they are replaced,
// since a client could otherwise claim any address.
void append_forwarding(const request_head& req, const forward_info& fwd, std::string& out) {
    out.append("X-Forwarded-For: ");
    if (fwd.trusted_client) {
        for (const field& f : req)
            if (name_equals(f.name, "x-forwarded-for") && !f.value.empty()) {
                out.append(f.value);
                out.append(", ");
            }
    }
    out.append(fwd.client_address);
    out.append("\r\n");
    append_field(out, "X-Forwarded-Proto", fwd.scheme);
    if (fwd.add_forwarded) {
        out.append("Forwarded: ");
        if (fwd.trusted_client) {
            for (const field& f : req)
                if (name_equals(f.name, "forwarded") && !f.value.empty()) {
                    out.append(f.value);
                    out.append(", ");
                }
        }
        bool v6 = fwd.client_address.find(':') != std::string_view::npos;
        out.append(v6 ? "for=\"[" : "for=");
        out.append(fwd.client_address);
        out.append(v6 ? "]\";proto=" : ";proto=");
        out.append(fwd.scheme);
        if (!req.host.empty()) {
            out.append(";host=\"");
            out.append(req.host);
            out.push_back('"');
        }
        out.append("\r\n");
    }
    if (fwd.add_via) out.append(req.version_minor == 0 ? "Via: 1.0 bulwark\r\n" : "Via: 1.1 bulwark\r\n");
    if (!fwd.request_id.empty()) append_field(out, "X-Request-Id", fwd.request_id);
}

}  // namespace

void write_upstream_request(const request_head& req, const forward_info& fwd, std::string& out) {
    out.clear();
    out.append(req.method);
    out.push_back(' ');
    out.append(req.target);
    out.append(" HTTP/1.1\r\n");
    bool host_written = false;
    for (const field& f : req) {
        if (fwd.upgrade && name_equals(f.name, "upgrade")) {
            append_field(out, "Upgrade", f.value);
            continue;
        }
        if (is_hop_by_hop(req, f.name)) continue;
        if ((!fwd.client_cert_header.empty() && iequals(f.name, fwd.client_cert_header)) ||
            (!fwd.client_fingerprint_header.empty() && iequals(f.name, fwd.client_fingerprint_header)))
            continue;  // only the proxy vouches for a client certificate
        switch (f.name.size()) {
        case 4:
            if (name_equals(f.name, "host")) {
                // An absolute-form target's authority wins over the Host field (RFC 9112 §3.2.2).
                append_field(out, "Host", req.host);
                host_written = true;
                continue;
            }
            break;
        case 6:
            if (name_equals(f.name, "expect")) continue;  // the proxy answers 100-continue itself
            break;
        case 5:
            if (fwd.drop_conditionals && name_equals(f.name, "range")) continue;
            break;
        case 8:
            if (fwd.drop_conditionals && name_equals(f.name, "if-range")) continue;
            break;
        case 13:
            if (fwd.drop_conditionals && name_equals(f.name, "if-none-match")) continue;
            break;
        case 9:
            if (name_equals(f.name, "forwarded")) continue;  // rewritten by append_forwarding
            break;
        case 15:
            if (name_equals(f.name, "x-forwarded-for")) continue;
            break;
        case 17:
            if (name_equals(f.name, "x-forwarded-proto")) continue;
            if (fwd.drop_conditionals && name_equals(f.name, "if-modified-since")) continue;
            break;
        default:
            break;
        }
        append_field(out, f.name, f.value);
    }
    if (!host_written) append_field(out, "Host", req.host.empty() ? fwd.default_host : req.host);
    append_forwarding(req, fwd, out);
    if (!fwd.client_cert.empty()) append_field(out, fwd.client_cert_header, fwd.client_cert);
    if (!fwd.client_fingerprint.empty()) append_field(out, fwd.client_fingerprint_header, fwd.client_fingerprint);
    out.append(fwd.extra_fields);
    if (fwd.upgrade) out.append("Connection: upgrade\r\n");
    out.append("\r\n");
}

void write_client_response(const response_head& res, const response_info& info, std::string& out) {
    out.clear();
    out.append("HTTP/1.1 ");
    append_number(out, static_cast<unsigned>(res.status));
    out.push_back(' ');
    out.append(res.reason.empty() ? reason_phrase(res.status) : res.reason);
    out.append("\r\n");
    bool has_request_id = false;
    bool has_hsts = false;
    for (const field& f : res) {
        if (info.upgrade && name_equals(f.name, "upgrade")) {
            append_field(out, "Upgrade", f.value);
            continue;
        }
        if (is_hop_by_hop(res, f.name)) continue;
        if (info.mode == response_body_mode::close_delimited && name_equals(f.name, "transfer-encoding")) continue;
        if (f.name.size() == 12 && name_equals(f.name, "x-request-id")) has_request_id = true;
        if (!info.drop_targeted.empty() &&
            (name_equals(f.name, "cdn-cache-control") || name_equals(f.name, info.drop_targeted)))
            continue;
        if (!info.hsts.empty() && name_equals(f.name, "strict-transport-security")) has_hsts = true;
        append_field(out, f.name, f.value);
    }
    if (!has_hsts && !info.hsts.empty()) append_field(out, "Strict-Transport-Security", info.hsts);
    out.append(info.extra_fields);
    if (!has_request_id && !info.request_id.empty()) append_field(out, "X-Request-Id", info.request_id);
    if (info.mode == response_body_mode::add_chunked) out.append("Transfer-Encoding: chunked\r\n");
    if (info.upgrade) out.append("Connection: upgrade\r\n");
    else if (info.close) out.append("Connection: close\r\n");
    else if (info.client_http10) out.append("Connection: keep-alive\r\n");
    out.append("\r\n");
}

void write_error_response(int status, bool close, std::string& out) {
    std::string_view reason = reason_phrase(status);
    out.clear();
    out.append("HTTP/1.1 ");
    append_number(out, static_cast<unsigned>(status));
    out.push_back(' ');
    out.append(reason);
    out.append("\r\nServer: bulwark\r\nContent-Type: text/plain\r\nContent-Length: ");
    append_number(out, 4 + reason.size() + 1);
    out.append(close ? "\r\nConnection: close\r\n\r\n" : "\r\n\r\n");
    append_number(out, static_cast<unsigned>(status));
    out.push_back(' ');
    out.append(reason);
    out.push_back('\n');
}

std::string_view reason_phrase(int status) {
    switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return status < 200 ? "Informational" : status < 300 ? "OK" : status < 400 ? "Redirect"
                  : status < 500 ? "Client Error" : "Server Error";
    }
}

}  // namespace bulwark::http
