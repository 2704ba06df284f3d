// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// Serves a Vfs over FUSE (libfuse3 low-level API) from the sd-event loop: one thread, every
// request answered now or later through the Request interface, never blocking the loop.

#include "scheduler.h"
#include "vfs.h"

#include <memory>
#include <string>

typedef struct sd_event sd_event;

namespace rpmsgsim {

class FuseServer {
public:
    FuseServer(Vfs& vfs, Scheduler& scheduler, sd_event* event);
    ~FuseServer();
    FuseServer(const FuseServer&) = delete;
    FuseServer& operator=(const FuseServer&) = delete;

    /// @brief Mounts at @p mountpoint (allow_other, default_permissions, auto_unmount) and starts
    /// serving; false with @p error on failure.
    bool mount(const std::string& mountpoint, std::string& error);
    /// @brief Unmounts and closes the session (idempotent).
    void unmount();

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

} // namespace rpmsgsim
