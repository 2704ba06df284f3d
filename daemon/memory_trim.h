// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// Gives the allocator's free pages back to the kernel once a burst of work is over.
//
// glibc's malloc returns memory to the kernel only from the top of an arena; the free chunks a
// burst of clients leaves in the middle of the heap stay resident. The soak measured it
// (docs/performance.md, "The soak"): after ten minutes of clients opening, killed and crashing
// remotes, the bytes in use were back where they started, and the resident growth was the main
// arena's free chunks. So after activity, once the daemon has been quiet for a moment,
// malloc_trim(0) releases them (MADV_DONTNEED on every free page). Nothing is armed while the
// daemon is idle: no wakeup is added.

#include "common/scheduler.h"

#include <cstdint>

namespace rpmsgd {

class MemoryTrim {
public:
    static constexpr uint64_t QuietMs = 3000; ///< how long after the first activity it trims

    explicit MemoryTrim(Scheduler& scheduler, uint64_t quietMs = QuietMs)
        : scheduler_(scheduler), quietMs_(quietMs) {}

    /// @brief Something allocated and freed (a client left, a call was served): trims
    ///        QuietMs later, once per burst.
    void noteActivity();
    /// @brief How many trims ran (diagnostics and tests).
    unsigned trims() const { return trims_; }
    /// @brief True while a trim is armed.
    bool pending() const { return timer_.pending(); }

private:
    Scheduler& scheduler_;
    uint64_t quietMs_;
    Timer timer_;
    unsigned trims_ = 0;
};

} // namespace rpmsgd
