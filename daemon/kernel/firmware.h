// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// Where the kernel's firmware loader would find a firmware name, and the checks its generic ELF
// loader makes, done before the kernel sees the file so that errors name the problem
// ("no .resource_table section") instead of `write error: Invalid argument`.
// Search order: docs/kernel-abi.md §1.12.

#include "common/firmware_image.h"
#include "daemon/kernel/paths.h"

#include <cstddef>
#include <optional>
#include <string>

namespace rpmsgd::kernel {

/// @brief The file request_firmware() would load for @p name, trying in order the
/// firmware_class.path parameter, <firmware>/updates/<release>, <firmware>/updates,
/// <firmware>/<release> and <firmware>; nullopt when none exists. @p name must be relative,
/// without "." or ".." components (else InvalidArgument).
std::optional<std::string> locateFirmware(const Paths& paths, const std::string& name);

/// @brief A firmware file that passed the checks.
struct CheckedFirmware {
    std::string path; ///< where it was found
    fw::Image image;  ///< what it holds
};

/// @brief Locates and validates @p name: NotFound (KernelError ENOENT) when no file exists,
/// InvalidFirmware with the parser's sentence ("m4.elf: no .resource_table section") when the
/// kernel would refuse it, InvalidArgument for a bad name, KernelError for read failures or a
/// file larger than @p maxBytes (EFBIG).
CheckedFirmware checkFirmware(const Paths& paths, const std::string& name,
                              size_t maxBytes = 64 * 1024 * 1024);

} // namespace rpmsgd::kernel
