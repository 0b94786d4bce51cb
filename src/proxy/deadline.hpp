// proxy/deadline: per-socket deadlines checked by one sweep timer per worker instead of a timer re-armed
// per operation (BENCHMARKING.md: +800 instructions per re-arm). Expiry cancels the socket's pending
// operations (they complete with operation_aborted) and sets `expired`, so the owner can still answer
// (408, 504) before closing.
#pragma once

#include <chrono>

#include <boost/intrusive/list.hpp>

#include "core/asio.hpp"

namespace bulwark::proxy {

using time_point = std::chrono::steady_clock::time_point;

struct deadline_entry
    : boost::intrusive::list_base_hook<boost::intrusive::link_mode<boost::intrusive::auto_unlink>> {
    time_point at = time_point::max();
    bool expired = false;
    tcp_socket* socket = nullptr;

    void arm(time_point t) {
        at = t;
        expired = false;
    }
    void disarm() { at = time_point::max(); }
};

class deadline_list {
public:
    void add(deadline_entry& e) { list_.push_back(e); }
    /// Cancels the pending operations of every socket whose deadline has passed.
    void sweep(time_point now) {
        for (auto& e : list_) {
            if (e.at <= now && e.socket) {
                e.expired = true;
                e.at = time_point::max();
                error_code ignored;
                e.socket->cancel(ignored);
            }
        }
    }

private:
    boost::intrusive::list<deadline_entry, boost::intrusive::constant_time_size<false>> list_;
};

}  // namespace bulwark::proxy
