// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "daemon/kernel/error.h"

namespace rpmsgd::kernel {

KernelError::KernelError(const std::string& what, int err)
    : rpmsgd::Error(ErrorCode::KernelError, kernelErrorMessage(what, err)),
      error_(err < 0 ? -err : err) {}

KernelError::KernelError(int err, const std::string& message, ErrorCode code)
    : rpmsgd::Error(code, message), error_(err < 0 ? -err : err) {}

StateError::StateError(const std::string& processor, const std::string& state,
                       const std::string& message)
    : rpmsgd::Error(ErrorCode::InvalidState, message), processor_(processor), state_(state) {}

} // namespace rpmsgd::kernel
