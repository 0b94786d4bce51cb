// process/child_init: HUP, USR1, USR2, WINCH are the master's; children ignore them (they get their
// orders over the channel), and PIPE is ignored because peers vanish.
#include "process/child_init.hpp"

#include <csignal>
#include <sys/prctl.h>
#include <unistd.h>

#include "core/log.hpp"

namespace bulwark::process {

bool init_child(std::string_view log_role, const char* process_name, pid_t master_pid) {
    log::set_role(log_role);
    ::prctl(PR_SET_NAME, process_name);
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != master_pid) return false;
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig : {SIGHUP, SIGUSR1, SIGUSR2, SIGWINCH, SIGPIPE}) ::signal(sig, SIG_IGN);
    ::signal(SIGCHLD, SIG_DFL);
    return true;
}

}  // namespace bulwark::process
