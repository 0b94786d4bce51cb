// core/log: formats "YYYY/MM/DD HH:MM:SS [level] pid role: message" and writes it in one call.
#include "core/log.hpp"

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <string>
#include <unistd.h>

namespace bulwark::log {
namespace {

level g_level = level::info;
int g_fd = 2;
char g_role[32] = "bulwark";

constexpr std::string_view names[] = {"debug", "info", "notice", "warn", "error", "crit"};

}  // namespace

bool parse_level(std::string_view text, level& out) {
    for (std::size_t i = 0; i < std::size(names); ++i)
        if (text == names[i]) {
            out = static_cast<level>(i);
            return true;
        }
    return false;
}

std::string_view level_name(level l) { return names[static_cast<int>(l)]; }
void set_level(level l) { g_level = l; }
level current_level() { return g_level; }
int fd() { return g_fd; }

void set_role(std::string_view role) {
    std::size_t n = std::min(role.size(), sizeof g_role - 1);
    std::memcpy(g_role, role.data(), n);
    g_role[n] = '\0';
}

bool open(std::string_view path, std::string& error) {
    if (path == "stderr") {
        g_fd = 2;
        return true;
    }
    std::string p(path);
    int fd = ::open(p.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) {
        error = "cannot open log file " + p + ": " + std::strerror(errno);
        return false;
    }
    adopt_fd(fd);
    return true;
}

void adopt_fd(int fd) {
    if (g_fd == 2 || g_fd == fd) {
        g_fd = fd;
        return;
    }
    ::dup3(fd, g_fd, O_CLOEXEC);
    ::close(fd);
}

void write(level l, const char* fmt, ...) {
    char line[2048];
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    ::localtime_r(&now, &tm);
    int n = static_cast<int>(std::strftime(line, sizeof line, "%Y/%m/%d %H:%M:%S", &tm));
    n += std::snprintf(line + n, sizeof line - static_cast<std::size_t>(n), " [%s] %d %s: ",
                       names[static_cast<int>(l)].data(), static_cast<int>(::getpid()), g_role);
    va_list ap;
    va_start(ap, fmt);
    int m = std::vsnprintf(line + n, sizeof line - static_cast<std::size_t>(n) - 1, fmt, ap);
    va_end(ap);
    n = (m < 0) ? n : std::min(n + m, static_cast<int>(sizeof line) - 2);
    line[n++] = '\n';
    [[maybe_unused]] auto r = ::write(g_fd, line, static_cast<std::size_t>(n));
}

}  // namespace bulwark::log
