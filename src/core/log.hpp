// core/log: the error log shared by master and children; one write(2) per line on an O_APPEND fd, so
// lines from several processes never interleave. The fd number is stable: reopen dup2()s onto it.
#pragma once

#include <string_view>

namespace bulwark::log {

enum class level { debug, info, notice, warn, error, crit };

/// Parses "debug|info|notice|warn|error|crit".
bool parse_level(std::string_view text, level& out);
std::string_view level_name(level l);

void set_level(level l);
level current_level();
inline bool enabled(level l) { return l >= current_level(); }

/// Opens `path` ("stderr" keeps fd 2) and makes it the log; returns an errno-style message on failure.
bool open(std::string_view path, std::string& error);
/// Replaces the log's target by `fd` (taken over) keeping the fd number others hold.
void adopt_fd(int fd);
int fd();
/// Process tag printed in every line, e.g. "master" or "worker 1".
void set_role(std::string_view role);

void write(level l, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

}  // namespace bulwark::log

#define BW_LOG(lvl, ...)                                                       \
    do {                                                                       \
        if (::bulwark::log::enabled(::bulwark::log::level::lvl))               \
            ::bulwark::log::write(::bulwark::log::level::lvl, __VA_ARGS__);    \
    } while (0)
