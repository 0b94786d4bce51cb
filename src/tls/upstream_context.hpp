// tls/upstream_context: the client-side SSL_CTX of one upstream whose servers are marked `tls`:
// verification against tls_ca (bytes the master read) or the system store (loaded once per
// snapshot, never per handshake), SNI, a client certificate, and one resumable session kept per
// server and worker.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/loader.hpp"
#include "config/model.hpp"

struct ssl_st;
struct ssl_ctx_st;
struct ssl_session_st;

namespace bulwark::tls {

/// Where a server's latest session is kept between connections (the worker's pool of that server).
struct session_slot {
    ssl_session_st* session = nullptr;
    ~session_slot();
};

class upstream_context {
public:
    static std::unique_ptr<upstream_context> build(const config::config& cfg, const config::upstream& u,
                                                   std::vector<config::diagnostic>& errors);
    ~upstream_context();
    upstream_context(const upstream_context&) = delete;
    upstream_context& operator=(const upstream_context&) = delete;

    /// A client-side SSL for a connection to `address` (the IP verified when tls_sni is empty),
    /// resuming the session in `slot`, which receives the new ones.
    ssl_st* new_connection(const std::string& address, session_slot& slot) const;

private:
    upstream_context() = default;
    ssl_ctx_st* ctx_ = nullptr;
    std::string sni_;
    bool verify_ = true;
};

/// Why verification failed, for the log ("" when it did not).
std::string verify_failure(ssl_st* ssl);

}  // namespace bulwark::tls
