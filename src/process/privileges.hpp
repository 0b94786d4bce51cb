// process/privileges: who the workers run as. Resolved by the master (as root) before forking so a
// missing user is a start-up error, not a crash loop of workers.
#pragma once

#include <string>
#include <sys/types.h>

#include "config/model.hpp"

namespace bulwark::process {

struct identity {
    bool drop = false;  // only when started as root
    uid_t uid = 0;
    gid_t gid = 0;
    std::string user;
};

/// Looks up user/group from the config; error names what is missing.
bool resolve_identity(const config::global_settings& g, identity& out, std::string& error);

/// In the child: no supplementary groups, then gid, then uid (order matters: after setuid the rest
/// is no longer permitted). Verifies that root cannot be regained. Returns false with `error` set.
bool drop_privileges(const identity& id, std::string& error);

}  // namespace bulwark::process
