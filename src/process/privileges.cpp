// process/privileges: setgroups → setgid → setuid, then a check that setuid(0) now fails.
#include "process/privileges.hpp"

#include <cerrno>
#include <cstring>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

namespace bulwark::process {

bool resolve_identity(const config::global_settings& g, identity& out, std::string& error) {
    out = {};
    if (::geteuid() != 0) return true;  // an ordinary user runs everything as itself
    passwd* pw = ::getpwnam(g.user.c_str());
    if (!pw) {
        error = "user \"" + g.user + "\" does not exist (set [global] user)";
        return false;
    }
    out.drop = true;
    out.user = g.user;
    out.uid = pw->pw_uid;
    out.gid = pw->pw_gid;
    if (!g.group.empty()) {
        group* gr = ::getgrnam(g.group.c_str());
        if (!gr) {
            error = "group \"" + g.group + "\" does not exist (set [global] group)";
            return false;
        }
        out.gid = gr->gr_gid;
    }
    return true;
}

bool drop_privileges(const identity& id, std::string& error) {
    if (!id.drop) return true;
    if (::setgroups(0, nullptr) != 0 || ::setgid(id.gid) != 0 || ::setuid(id.uid) != 0) {
        error = std::string("cannot drop privileges to ") + id.user + ": " + std::strerror(errno);
        return false;
    }
    if (id.uid != 0 && ::setuid(0) == 0) {
        error = "privileges could be regained after dropping them";
        return false;
    }
    return true;
}

}  // namespace bulwark::process
