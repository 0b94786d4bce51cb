// tls/resumption: session resumption whichever worker takes the connection. Ticket keys and the
// session cache live in `state_dir`/tls.shm (shm/tls_table), a file of its own beside bulwark.shm so
// its size follows session_cache and neither layout constrains the other; the master creates it
// before forking, a live upgrade maps it again by path, so tickets and sessions survive both.
#pragma once

#include <chrono>
#include <string>

#include "config/model.hpp"
#include "shm/tls_table.hpp"

struct ssl_ctx_st;

namespace bulwark::tls {

/// Master, before forking: maps (or creates) tls.shm sized for the largest session_cache and makes
/// the first ticket key if there is none. Does nothing when no [tls:NAME] exists. Throws on I/O errors.
void open_shared_table(const config::config& cfg, std::string& notes);
/// The table every process of this master uses; null without TLS (OpenSSL's per-process defaults).
shm::tls_table* shared_table();

/// Master, from its loop: a fresh ticket key once the shortest ticket_key_rotation has passed.
void rotate_ticket_keys_if_due(const config::config& cfg);

struct handshake_counts {
    std::uint64_t handshakes = 0, resumed = 0, failed = 0, timed_out = 0;
};
/// `bulwark -s status`: the counters of a running bulwark's tls.shm (false when there is none).
bool read_handshake_counts(const std::string& state_dir, handshake_counts& out);

/// Tickets (keys from the shared table) and the shared session cache for one context.
void configure_resumption(ssl_ctx_st* ctx, const config::tls_settings& t);

}  // namespace bulwark::tls
