// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// Errors of the kernel layer. KernelError carries the errno and a message naming the file the
// way an operator would look for it: a short relative name for sysfs ("remoteproc0/state"),
// the full path for /dev and debugfs. StateError is the refusal to make a kernel write that
// would be wrong in the processor's current state (e.g. `start` while crashed).

#include "dbus/errors.h"

#include <string>

namespace rpmsgd::kernel {

/// @brief The kernel (or the file system under a root) refused an operation.
class KernelError : public rpmsgd::Error {
public:
    /// @brief "<what>: <strerror> (<ENAME>)", e.g. "read remoteproc0/state: No such file or
    /// directory (ENOENT)"; code KernelError.
    KernelError(const std::string& what, int err);
    /// @brief A custom sentence for an errno (e.g. "remoteproc0 has no trace buffer 1"), with
    /// the domain code the caller should report (NotFound for a missing trace buffer).
    KernelError(int err, const std::string& message, ErrorCode code);

    /// @brief The errno (positive).
    int error() const noexcept { return error_; }

private:
    int error_;
};

/// @brief A lifecycle request refused without touching the kernel because of the processor's
/// state; code InvalidState.
class StateError : public rpmsgd::Error {
public:
    /// @brief @p message names the processor, the state and what to do instead.
    StateError(const std::string& processor, const std::string& state, const std::string& message);

    /// @brief The processor id (remoteprocN).
    const std::string& processor() const noexcept { return processor_; }
    /// @brief The state that was read (e.g. "crashed").
    const std::string& state() const noexcept { return state_; }

private:
    std::string processor_;
    std::string state_;
};

} // namespace rpmsgd::kernel
