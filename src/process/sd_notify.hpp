// process/sd_notify: the sd_notify(3) protocol without libsystemd: one datagram to $NOTIFY_SOCKET. Lets
// bulwark run as Type=notify (with NotifyAccess=all, so that the master started by a live upgrade can
// announce itself with MAINPID=). Does nothing when systemd did not start us.
#pragma once

#include <string_view>

namespace bulwark::process {

void notify_systemd(std::string_view state);

}  // namespace bulwark::process
