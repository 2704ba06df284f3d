// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// Logging: structured journal entries (named fields) when journald is there, stderr otherwise
// (sd_journal_send drops messages silently without journald).

#include <initializer_list>
#include <string>
#include <string_view>

namespace rpmsgd::log {

/// @brief One journal field: its KEY (upper case) and value, both borrowed for the call.
struct Field {
    std::string_view key;
    std::string_view value;
};
/// @brief The fields of one entry, written in place at the call (nothing is allocated there).
using Fields = std::initializer_list<Field>;

enum class Level { Error = 3, Warning = 4, Notice = 5, Info = 6, Debug = 7 };

/// @brief Logs @p message at @p level with extra journal fields (KEY names in upper case).
void write(Level level, const std::string& message, Fields fields = {});

inline void error(const std::string& m, Fields f = {}) {
    write(Level::Error, m, f);
}
inline void warning(const std::string& m, Fields f = {}) {
    write(Level::Warning, m, f);
}
inline void notice(const std::string& m, Fields f = {}) {
    write(Level::Notice, m, f);
}
inline void info(const std::string& m, Fields f = {}) {
    write(Level::Info, m, f);
}
inline void debug(const std::string& m, Fields f = {}) {
    write(Level::Debug, m, f);
}

/// @brief Logs one line a remote processor wrote (its trace), as SYSLOG_IDENTIFIER=rpmsgd-remote
///        at level Info with @p fields (the caller names them in full, e.g. RPMSGD_PROCESSOR);
///        on stderr as "rpmsgd-remote: <line> (FIELDS)".
void remote(const std::string& line, Fields fields);

/// @brief Messages above this level are dropped (default Info; RPMSGD_DEBUG=1 enables Debug).
void setMaxLevel(Level level);

} // namespace rpmsgd::log
