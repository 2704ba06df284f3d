// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// Files the daemon owns: saved core files under the state directory (with a retention limit)
// and uploaded firmware under <firmware dir>/rpmsgd/. Every write is atomic (temporary file,
// fsync, rename), so a crash or a full disk never leaves a half-written file under a real name.

#include <cstdint>
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

    /// @brief Stores uploaded firmware as <firmware>/rpmsgd/<name>; returns the name relative
    /// to the firmware directory ("rpmsgd/<name>"). @p name must be a plain file name.
    std::string storeFirmware(const std::string& name, std::span<const uint8_t> data);

    /// @brief True if @p name is acceptable for storeFirmware (1..200 of [A-Za-z0-9._-], not
    /// starting with '.').
    static bool validUploadName(const std::string& name);

    const std::string& coredumpDir() const { return coreDir_; }

private:
    static void writeAtomically(const std::string& dir, const std::string& file,
                                std::span<const uint8_t> data, uint32_t mode);
    std::string coreDir_, uploadDir_;
    uint64_t counter_ = 0;
};

} // namespace rpmsgd
