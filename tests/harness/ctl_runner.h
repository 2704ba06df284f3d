// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// Runs rpmsgctl (or any program) for the tests: as root or as another user, with stdin text,
// environment changes, stdout/stderr captured, or in the background reading its output line by
// line.

#include "bus_client.h"
#include "fd_io.h"
#include "nobody.h"

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

#include <nlohmann/json.hpp>

namespace ctltest {

using namespace std::chrono_literals;

/// @brief The rpmsgctl binary: $RPMSGCTL, else the path meson configured.
std::string rpmsgctlBinary();

/// @brief A PATH with rpmsgctl's directory first (that of its world-readable copy for
/// @p otherUser), then /usr/bin:/bin.
std::string pathWithRpmsgctl(bool otherUser = false);

/// @brief How to run a program.
struct RunOptions {
    /// @brief Switch to this user (null stays root); it runs world-readable copies of the
    /// project's files in argv (harness::forOtherUser), from /.
    const itest::Cred* cred = nullptr;
    std::string input;                                     ///< written to stdin, then closed
    std::map<std::string, std::optional<std::string>> env; ///< set (value) or unset (nullopt)
    std::chrono::milliseconds timeout = 60s;               ///< SIGKILL after this
};

/// @brief What a run gave.
struct Result {
    int code = -1; ///< exit code; 128+N when killed by signal N; -1 if it could not start
    std::string out;
    std::string err;
    bool timedOut = false;
    /// @brief For failure messages.
    std::string str() const;
    /// @brief stdout as JSON (a test failure, and null, when it is not JSON).
    nlohmann::json json() const;
    /// @brief stdout as JSON Lines.
    std::vector<nlohmann::json> jsonLines() const;
    /// @brief stderr has exactly one line.
    bool oneErrorLine() const;
};

/// @brief Runs @p argv (argv[0] a path) and waits for it.
Result run(const std::vector<std::string>& argv, const RunOptions& options = {});
/// @brief Runs rpmsgctl with @p args.
Result ctl(const std::vector<std::string>& args, const RunOptions& options = {});

/// @brief A program in the background whose stdout is read line by line.
class Background : simtest::NonCopyable {
public:
    Background(const std::vector<std::string>& argv, const RunOptions& options = {});
    ~Background();

    /// @brief The next stdout line; nullopt on EOF or timeout.
    std::optional<std::string> readLine(std::chrono::milliseconds timeout = 20s);
    /// @brief Reads lines until one satisfies @p pred; nullopt (and all lines in @p seen).
    std::optional<std::string> readUntil(const std::function<bool(const std::string&)>& pred,
                                         std::vector<std::string>& seen,
                                         std::chrono::milliseconds timeout = 20s);
    /// @brief Sends @p sig and waits for the exit; the exit code (128+N for signal N) or -1.
    int stop(int sig, std::chrono::milliseconds timeout = 20s);
    /// @brief Everything it wrote to stderr (after it exited).
    std::string errors() const;

private:
    pid_t pid_ = -1;
    int out_ = -1;
    std::string errPath_;
    harness::LineReader lines_;
};

} // namespace ctltest
