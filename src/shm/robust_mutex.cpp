// shm/robust_mutex: pthread robust mutex with EOWNERDEAD recovery.
#include "shm/robust_mutex.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>

#include "shm/atomic.hpp"

namespace bulwark::shm {
namespace {

void check(int rc, const char* what) {
    if (rc != 0) throw std::system_error(rc, std::generic_category(), what);
}

std::uint32_t self_pid() { return static_cast<std::uint32_t>(::getpid()); }

}  // namespace

void robust_mutex::init(robust_mutex_data& data) {
    std::memset(&data, 0, sizeof data);
    pthread_mutexattr_t attr;
    check(pthread_mutexattr_init(&attr), "pthread_mutexattr_init");
    int rc = pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    if (rc == 0) rc = pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    if (rc == 0) rc = pthread_mutex_init(&data.native, &attr);
    pthread_mutexattr_destroy(&attr);
    check(rc, "robust mutex init");
    store(data.ready, robust_mutex_ready);
}

robust_mutex::robust_mutex(robust_mutex_data& data) : data_(&data) {
    if (load(data.ready) != robust_mutex_ready) throw std::logic_error("robust mutex used before init()");
}

robust_mutex::outcome robust_mutex::finish_lock(int rc, repair_fn repair, void* context) {
    outcome result = outcome::acquired;
    if (rc == EOWNERDEAD) {
        // We hold the lock; the data it guards may be half-updated by the dead owner.
        result = outcome::recovered;
        add(data_->recoveries, std::uint64_t{1});
        if (repair != nullptr) repair(context);
        rc = pthread_mutex_consistent(&data_->native);
        if (rc != 0) {
            pthread_mutex_unlock(&data_->native);
            check(rc, "pthread_mutex_consistent");
        }
    } else {
        check(rc, "robust mutex lock");
    }
    store(data_->owner_pid, self_pid(), std::memory_order_relaxed);
    return result;
}

robust_mutex::outcome robust_mutex::lock(repair_fn repair, void* context) {
    return finish_lock(pthread_mutex_lock(&data_->native), repair, context);
}

bool robust_mutex::try_lock(outcome* result, repair_fn repair, void* context) {
    int rc = pthread_mutex_trylock(&data_->native);
    if (rc == EBUSY) return false;
    outcome o = finish_lock(rc, repair, context);
    if (result != nullptr) *result = o;
    return true;
}

void robust_mutex::unlock() noexcept {
    store(data_->owner_pid, std::uint32_t{0}, std::memory_order_relaxed);
    pthread_mutex_unlock(&data_->native);
}

std::uint32_t robust_mutex::owner_pid() const noexcept { return load(data_->owner_pid, std::memory_order_relaxed); }

std::uint64_t robust_mutex::recoveries() const noexcept { return load(data_->recoveries, std::memory_order_relaxed); }

}  // namespace bulwark::shm
