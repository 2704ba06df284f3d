// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "log.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <vector>

#include <systemd/sd-journal.h>

namespace rpmsgd::log {

namespace {

Level maxLevel = std::getenv("RPMSGD_DEBUG") ? Level::Debug : Level::Info;

bool journalAvailable() {
    static const bool available = access("/run/systemd/journal/socket", W_OK) == 0;
    return available;
}

/// True when stderr is already the journal (JOURNAL_STREAM names its device and inode), so
/// writing there as well would log everything twice.
bool stderrIsJournal() {
    static const bool is = [] {
        const char* js = std::getenv("JOURNAL_STREAM");
        struct stat st {};
        if (!js || fstat(STDERR_FILENO, &st) != 0) {
            return false;
        }
        unsigned long long dev = 0, ino = 0;
        if (sscanf(js, "%llu:%llu", &dev, &ino) != 2) {
            return false;
        }
        return dev == st.st_dev && ino == st.st_ino;
    }();
    return is;
}

const char* levelName(Level l) {
    switch (l) {
    case Level::Error:
        return "error";
    case Level::Warning:
        return "warning";
    case Level::Notice:
        return "notice";
    case Level::Info:
        return "info";
    case Level::Debug:
        return "debug";
    }
    return "info";
}

} // namespace

void setMaxLevel(Level level) {
    maxLevel = level;
}

namespace {

void send(const char* identifier, Level level, const std::string& message, Fields fields,
          bool remote) {
    if (int(level) > int(maxLevel)) {
        return;
    }
    if (journalAvailable()) {
        std::vector<std::string> items;
        items.reserve(fields.size() + 3);
        items.push_back("MESSAGE=" + message);
        items.push_back("PRIORITY=" + std::to_string(int(level)));
        items.push_back(std::string("SYSLOG_IDENTIFIER=") + identifier);
        for (const Field& f : fields) {
            items.push_back(std::string(f.key) + "=" + std::string(f.value));
        }
        std::vector<iovec> iov;
        for (auto& s : items) {
            iov.push_back({s.data(), s.size()});
        }
        sd_journal_sendv(iov.data(), int(iov.size()));
        if (stderrIsJournal() || !isatty(STDERR_FILENO)) {
            return;
        }
    }
    std::string line = identifier;
    if (!remote) {
        line += '[';
        line += levelName(level);
        line += ']';
    }
    line += ": ";
    line += message;
    if (fields.size() != 0) {
        line += " (";
        const char* separator = "";
        for (const Field& f : fields) {
            line += separator;
            line += f.key;
            line += '=';
            line += f.value;
            separator = " ";
        }
        line += ')';
    }
    line += '\n';
    fputs(line.c_str(), stderr);
}

} // namespace

void write(Level level, const std::string& message, Fields fields) {
    send("rpmsgd", level, message, fields, false);
}

void remote(const std::string& line, Fields fields) {
    send("rpmsgd-remote", Level::Info, line, fields, true);
}

} // namespace rpmsgd::log
