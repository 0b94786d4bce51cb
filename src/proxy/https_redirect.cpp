// proxy/https_redirect: redirect_https = on: every request on a plain listener gets 308 (RFC 9110
// §15.4.9, method and body kept) to the same target on https, at the host the client asked for.
#include "proxy/client_session.hpp"
#include "proxy/exchange.hpp"

namespace bulwark::proxy {

task<bool> exchange::redirect_to_https() {
    status_ = 308;
    std::string_view host = req_.host;
    if (!host.empty() && host.front() == '[') host = host.substr(0, host.find(']') + 1);  // [v6]:port
    else host = host.substr(0, host.find(':'));
    if (host.empty()) co_return co_await respond_error(400);  // RFC 9112 §3.2: HTTP/1.1 needs a Host
    bool close = client_wants_close() || rt_.draining() || !discard_buffered_body();
    std::string_view target = req_.target;
    if (!target.starts_with('/')) target = "/";  // absolute-form: its path is in the host's URL anyway
    auto& out = s_.out_;
    out.assign("HTTP/1.1 308 Permanent Redirect\r\nServer: bulwark\r\nLocation: https://");
    out.append(host);
    out.append(target);
    out.append("\r\nContent-Length: 0\r\n");
    if (close) out.append("Connection: close\r\n");
    out.append("\r\n");
    error_code ec = co_await send_to_client(out.data(), out.size(), nullptr, 0);
    co_return !ec && !close;
}

}  // namespace bulwark::proxy
