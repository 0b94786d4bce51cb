// process/pidfile: written via a temporary file and rename, so a reader never sees half a number.
#include "process/pidfile.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

namespace bulwark::process {

bool write_pid_file(const std::string& path, pid_t pid, std::string& error) {
    auto slash = path.rfind('/');
    if (slash != std::string::npos && slash > 0) ::mkdir(path.substr(0, slash).c_str(), 0755);
    std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << pid << '\n';
        if (!out) {
            error = "cannot write pid file " + path + ": " + std::strerror(errno);
            return false;
        }
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        error = "cannot write pid file " + path + ": " + std::strerror(errno);
        ::unlink(tmp.c_str());
        return false;
    }
    return true;
}

pid_t read_pid_file(const std::string& path, std::string& error) {
    std::ifstream in(path);
    long pid = 0;
    if (!in) {
        error = "cannot open pid file " + path + ": " + std::strerror(errno) + " (is bulwark running?)";
        return -1;
    }
    if (!(in >> pid) || pid <= 1) {
        error = "pid file " + path + " holds no valid pid";
        return -1;
    }
    if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) {
        error = "pid file " + path + " names process " + std::to_string(pid) + ", which is not running";
        return -1;
    }
    return static_cast<pid_t>(pid);
}

void remove_pid_file(const std::string& path, pid_t expected) {
    std::string ignored;
    if (read_pid_file(path, ignored) == expected) ::unlink(path.c_str());
}

}  // namespace bulwark::process
