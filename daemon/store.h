// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// Files the daemon owns: saved core files under the state directory (with a retention limit)
// and uploaded firmware under <firmware dir>/rpmsgd/. Every write is atomic (temporary file,
// fsync, rename), so a crash or a full disk never leaves a half-written file under a real name.

#include <cstdint>
#include <functional>
#include <span>
#include <string>

namespace rpmsgd {

class Store {
public:
    Store(std::string stateDir, std::string firmwareDir);

    /// @brief Saves a core of @p processorId and deletes the oldest beyond @p keep (0 = keep
    /// none: nothing is written). Returns the path, or "" if nothing was kept. Throws
    /// rpmsgd::Error (Internal) naming the file and errno on failure.
    std::string saveCoredump(const std::string& processorId, std::span<const uint8_t> data,
                             uint32_t keep);

    /// @brief What storeFirmwareFrom() asks to fill: the temporary file (open for reading and
    /// writing, empty) and the path it becomes, for messages.
    using Fill = std::function<void(int fd, const std::string& target)>;
    /// @brief Stores uploaded firmware as <firmware>/rpmsgd/<name> (@p name a plain file name),
    /// atomically, with the bytes @p fill writes; returns the name relative to the firmware
    /// directory ("rpmsgd/<name>"). What @p fill throws leaves nothing behind and is rethrown.
    /// Touches nothing but the file system: safe off the loop.
    std::string storeFirmwareFrom(const std::string& name, const Fill& fill);

    /// @brief True if @p name is acceptable for storeFirmware (1..200 of [A-Za-z0-9._-], not
    /// starting with '.').
    static bool validUploadName(const std::string& name);

    const std::string& coredumpDir() const { return coreDir_; }

private:
    static void writeAtomically(const std::string& dir, const std::string& file,
                                std::span<const uint8_t> data, uint32_t mode);
    static void writeAtomically(const std::string& dir, const std::string& file, uint32_t mode,
                                const Fill& fill);
    std::string coreDir_, uploadDir_;
    uint64_t counter_ = 0;
};

} // namespace rpmsgd
