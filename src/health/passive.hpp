// health/passive: what a worker records after each upstream attempt, as pure functions over the shared
// backend table. `max_fails` failures within `fail_timeout` (counted by all workers together) take a
// server down; the CAS on the state word lets exactly one caller see each change, so it is logged once.
//
// Down servers carry `down_until`: without active checks it is now + fail_timeout, after which the
// server is available again for live requests (nginx semantics: a success brings it up, a failure
// keeps it down for another fail_timeout). With active checks configured it is `never`: only the
// monitor (health/monitor) brings the server back, after `health_rise` passed probes.
#pragma once

#include <cstdint>
#include <limits>
#include <string_view>

#include "config/model.hpp"
#include "shm/backend_table.hpp"

namespace bulwark::health {

/// down_until of a server that only the monitor may bring back up.
inline constexpr std::uint64_t never = std::numeric_limits<std::uint64_t>::max();
/// Smallest weight factor of a server that has just come back (slow_start).
inline constexpr double min_ramp = 0.1;

struct outcome {
    bool changed = false;  // this caller made the state change: it (and nobody else) logs it
    shm::backend_state state = shm::backend_state::up;  // the state after the call
};

/// A request to the server succeeded. A down server whose down_until has passed (a trial request,
/// passive checks only) comes back up. Read-only for a server that is up (the common case).
outcome on_success(shm::backend_table& table, shm::backend_handle h, std::uint64_t now_ms) noexcept;

/// A request to the server failed (refused, timed out, or a status counted as failure). Counts it in
/// the shared window; at `up.max_fails` (> 0) the server goes down until now + fail_timeout (or until
/// the monitor sees it healthy when `up.health.enabled`). A failed trial of an expired down server
/// keeps it down for another fail_timeout.
outcome on_failure(shm::backend_table& table, shm::backend_handle h, const config::upstream& up,
                   std::uint64_t now_ms) noexcept;

/// Whether a balancer may pick the server: up, or down with down_until passed (never with active
/// checks). Draining servers take no new requests.
bool available(const shm::backend_table& table, shm::backend_handle h, std::uint64_t now_ms) noexcept;

/// Weight factor in [min_ramp, 1] of a server that came up `now - state_since` ago: linear over
/// `slow_start`, 1 when slow_start is 0, when the ramp is over, or when the server was up from the
/// start (state_since 0).
double ramp(const shm::backend_table& table, shm::backend_handle h, std::chrono::milliseconds slow_start,
            std::uint64_t now_ms) noexcept;

/// Logs a change returned by on_success/on_failure (only call it when `o.changed`): e.g.
/// `upstream "app" server 127.0.0.1:9001 is down for 10s (3 failures within 10s, last: connection refused)`.
void log_change(const config::upstream& up, std::string_view address, const outcome& o, std::string_view reason);

}  // namespace bulwark::health
