// health/passive: passive checks over shm::backend_table; see passive.hpp for the state rules.
#include "health/passive.hpp"

#include <algorithm>
#include <string>

#include "core/log.hpp"

namespace bulwark::health {
namespace {

using shm::backend_state;

std::string duration_text(std::chrono::milliseconds d) {
    auto ms = d.count();
    if (ms != 0 && ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
    return std::to_string(ms) + "ms";
}

}  // namespace

outcome on_success(shm::backend_table& table, shm::backend_handle h, std::uint64_t now_ms) noexcept {
    backend_state st = table.state(h);
    if (st != backend_state::down) return {false, st};  // up or draining: nothing to write
    // Down: either an exchange that started before it went down, or (down_until passed) the trial
    // request that brings it back. With active checks down_until is `never` and only the monitor decides.
    if (now_ms < table.down_until(h)) return {false, st};
    if (!table.transition(h, backend_state::down, backend_state::up, now_ms)) return {false, table.state(h)};
    table.reset_passive(h);
    return {true, backend_state::up};
}

outcome on_failure(shm::backend_table& table, shm::backend_handle h, const config::upstream& up,
                   std::uint64_t now_ms) noexcept {
    backend_state st = table.state(h);
    if (up.max_fails == 0 || st == backend_state::draining) return {false, st};
    auto fail_timeout = static_cast<std::uint64_t>(std::max<std::int64_t>(up.fail_timeout.count(), 0));
    std::uint64_t until = up.health.enabled ? never : now_ms + fail_timeout;
    if (st == backend_state::down) {
        // A failed trial (or a late failure of an exchange started earlier): nginx keeps the server
        // out for another fail_timeout. A server held down by the monitor keeps `never`.
        if (!up.health.enabled && table.down_until(h) != never) table.set_down_until(h, until);
        return {false, st};
    }
    // Up.
    if (table.passive_failure(h, now_ms, fail_timeout) < up.max_fails) return {false, st};
    // down_until is written before the state so that nobody sees "down" with a stale (passed) deadline.
    table.set_down_until(h, until);
    if (!table.transition(h, backend_state::up, backend_state::down, now_ms)) return {false, table.state(h)};
    table.reset_passive(h);
    // The monitor needs health_rise fresh successes to bring it back: zero its success streak.
    if (up.health.enabled) table.record_failure(h);
    return {true, backend_state::down};
}

bool available(const shm::backend_table& table, shm::backend_handle h, std::uint64_t now_ms) noexcept {
    switch (table.state(h)) {
    case backend_state::up:
        return true;
    case backend_state::down:
        return now_ms >= table.down_until(h);
    case backend_state::draining:
        return false;
    }
    return false;
}

double ramp(const shm::backend_table& table, shm::backend_handle h, std::chrono::milliseconds slow_start,
            std::uint64_t now_ms) noexcept {
    if (slow_start.count() <= 0 || table.state(h) != backend_state::up) return 1.0;
    std::uint64_t since = table.state_since_ms(h);
    if (since == 0) return 1.0;  // up since the table was made: not a recovery
    if (now_ms <= since) return min_ramp;
    double f = static_cast<double>(now_ms - since) / static_cast<double>(slow_start.count());
    return std::clamp(f, min_ramp, 1.0);
}

void log_change(const config::upstream& up, std::string_view address, const outcome& o, std::string_view reason) {
    if (o.state == backend_state::down) {
        std::string for_how_long = up.health.enabled ? "until the health check passes"
                                                     : "for " + duration_text(up.fail_timeout);
        BW_LOG(warn, "upstream \"%s\" server %.*s is down %s (%u failures within %s, last: %.*s)", up.name.c_str(),
               static_cast<int>(address.size()), address.data(), for_how_long.c_str(), up.max_fails,
               duration_text(up.fail_timeout).c_str(), static_cast<int>(reason.size()), reason.data());
    } else {
        BW_LOG(notice, "upstream \"%s\" server %.*s is up (%.*s)", up.name.c_str(), static_cast<int>(address.size()),
               address.data(), static_cast<int>(reason.size()), reason.data());
    }
}

}  // namespace bulwark::health
