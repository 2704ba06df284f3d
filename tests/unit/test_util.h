// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// Helpers shared by the unit tests: per-test temporary directories (the harness's) and small file
// utilities.

#include "sim_harness.h"

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

namespace unit {

/// @brief The harness's temporary directory, with paths as std::filesystem::path.
class TempDir : public simtest::TempDir {
public:
    TempDir() : simtest::TempDir("rpmsgd-unit") {}
    /// @brief The directory.
    std::filesystem::path path() const { return simtest::TempDir::path(); }
    /// @brief A path inside the directory.
    std::string file(const std::string& name) const { return (path() / name).string(); }
};

/// @brief Writes @p bytes to @p path (throws on failure).
inline void writeFile(const std::string& path, const std::vector<uint8_t>& bytes) {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
    if (!out) {
        throw std::runtime_error("cannot write " + path);
    }
}

/// @brief Writes @p text to @p path (throws on failure).
inline void writeText(const std::string& path, const std::string& text) {
    writeFile(path, std::vector<uint8_t>(text.begin(), text.end()));
}

/// @brief Reads a whole file (throws on failure).
inline std::vector<uint8_t> readFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw std::runtime_error("cannot read " + path);
    }
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

} // namespace unit
