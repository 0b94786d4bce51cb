// shm/robust_mutex: a process-shared mutex that survives its owner's death (DESIGN.md §5b, STYLE.md
// lesson 5). Boost 1.74's interprocess_mutex is not robust: a worker SIGKILLed while holding it would
// deadlock every other process. This one is PTHREAD_PROCESS_SHARED + PTHREAD_MUTEX_ROBUST: when the
// owner dies, the kernel hands the lock to the next locker with EOWNERDEAD; lock() then runs the
// caller's repair callback (which must put the guarded data back into a consistent state and must not
// throw) and marks the mutex consistent. If the repairer dies too, the next locker repairs again.
//
// Only the control plane takes it (startup, reload); hot paths are lock-free (shm/atomic.hpp).
#pragma once

#include <concepts>
#include <cstdint>
#include <type_traits>

#include "shm/layout.hpp"

namespace bulwark::shm {

class robust_mutex {
public:
    using repair_fn = void (*)(void* context) noexcept;
    enum class outcome { acquired, recovered };  // recovered: the previous owner died, repair ran

    /// Initialises the mutex in place. Only the creator of the memory calls it, once, while no other
    /// process uses it. Throws std::system_error.
    static void init(robust_mutex_data& data);

    /// A view of an initialised mutex (throws std::logic_error when `data` was never init()ed: zeroed
    /// memory would otherwise act as a non-robust mutex).
    explicit robust_mutex(robust_mutex_data& data);

    /// Blocks until acquired. `repair(context)` runs, with the lock held, only when the previous owner
    /// died holding it. Throws std::system_error on an unrecoverable mutex (never left so by us).
    outcome lock(repair_fn repair = nullptr, void* context = nullptr);

    template <class F>
        requires std::invocable<F&>
    outcome lock(F&& repair) {
        using fn_type = std::remove_reference_t<F>;
        return lock([](void* c) noexcept { (*static_cast<fn_type*>(c))(); },
                    const_cast<void*>(static_cast<const void*>(&repair)));
    }

    /// Like lock() but returns false at once when another live process holds it.
    bool try_lock(outcome* result = nullptr, repair_fn repair = nullptr, void* context = nullptr);

    void unlock() noexcept;

    /// Pid of the current holder (0 when free); for diagnostics, may be stale.
    std::uint32_t owner_pid() const noexcept;
    /// How many times a dead owner's lock was recovered.
    std::uint64_t recoveries() const noexcept;

private:
    outcome finish_lock(int rc, repair_fn repair, void* context);
    robust_mutex_data* data_;
};

/// Scoped lock: unlocks on destruction.
class robust_lock {
public:
    explicit robust_lock(robust_mutex mutex, robust_mutex::repair_fn repair = nullptr, void* context = nullptr)
        : mutex_(mutex), outcome_(mutex_.lock(repair, context)) {}
    ~robust_lock() { mutex_.unlock(); }
    robust_lock(const robust_lock&) = delete;
    robust_lock& operator=(const robust_lock&) = delete;

    bool recovered() const noexcept { return outcome_ == robust_mutex::outcome::recovered; }

private:
    robust_mutex mutex_;
    robust_mutex::outcome outcome_;
};

}  // namespace bulwark::shm
