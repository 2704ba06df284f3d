// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "output.h"

#include "args.h"
#include "common/states.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <unistd.h>

namespace rpmsgctl {

namespace rc = rpmsgd::client;

void out(const std::string& s) {
    std::fwrite(s.data(), 1, s.size(), stdout);
}

void outLine(const std::string& s) {
    out(s);
    out("\n");
}

void printJson(const nlohmann::json& j) {
    outLine(j.dump(2));
}

// Streams flush every line; a reader that went away (rpmsgctl recv -n 100 | head -1) ends the
// stream with an I/O error instead of going on unseen.
void flushStream() {
    if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
        throw rc::Error(rc::ErrorCode::IoError,
                        std::string("writing to stdout failed: ") + std::strerror(errno));
    }
}

void printJsonLine(const nlohmann::json& j) {
    outLine(j.dump());
    flushStream();
}

std::string orDash(const std::string& s) {
    return s.empty() ? "-" : s;
}

std::string joined(const std::vector<std::string>& v, const char* sep) {
    std::string s;
    for (const auto& x : v) {
        s.append(s.empty() ? "" : sep).append(x);
    }
    return s;
}

bool colourEnabled(bool disabledByFlag) {
    if (disabledByFlag || ::isatty(STDOUT_FILENO) == 0) {
        return false;
    }
    if (const char* v = std::getenv("NO_COLOR"); v != nullptr && *v != '\0') {
        return false;
    }
    const char* term = std::getenv("TERM");
    return term == nullptr || std::strcmp(term, "dumb") != 0;
}

namespace {
std::string wrap(bool on, const char* code, const std::string& s) {
    if (!on || s.empty()) {
        return s;
    }
    std::string out = "\033[";
    out.append(code).append("m").append(s).append("\033[0m");
    return out;
}
} // namespace

std::string Style::bold(const std::string& s) const {
    return wrap(on, "1", s);
}
std::string Style::dim(const std::string& s) const {
    return wrap(on, "2", s);
}
std::string Style::red(const std::string& s) const {
    return wrap(on, "31", s);
}
std::string Style::state(const std::string& s) const {
    using rpmsgd::ProcessorState;
    const auto state = rpmsgd::processorStateFromString(s);
    if (!state) {
        return wrap(on, "33", s); // a word this table does not know yet: an in-between
    }
    switch (*state) {
    case ProcessorState::Running:
    case ProcessorState::Attached:
        return wrap(on, "32", s);
    case ProcessorState::Crashed:
    case ProcessorState::Invalid:
    case ProcessorState::Deleted:
        return wrap(on, "1;31", s);
    case ProcessorState::Offline:
        return s;
    case ProcessorState::Suspended:
    case ProcessorState::Detached:
        return wrap(on, "33", s);
    }
    return wrap(on, "33", s);
}

void Table::add(std::vector<std::string> cells, std::vector<std::string> styled) {
    if (styled.size() != cells.size()) {
        styled = cells;
    }
    rows_.push_back(std::move(cells));
    styled_.push_back(std::move(styled));
}

void Table::print(const Style& style) const {
    std::vector<size_t> width(header_.size());
    for (size_t c = 0; c < header_.size(); ++c) {
        width[c] = header_[c].size();
        for (const auto& r : rows_) {
            width[c] = std::max(width[c], r[c].size());
        }
    }
    auto line = [&](const std::vector<std::string>& plain, const std::vector<std::string>& shown,
                    bool header) {
        std::string out;
        for (size_t c = 0; c < plain.size(); ++c) {
            out.append(header ? style.bold(shown[c]) : shown[c]);
            if (c + 1 < plain.size()) {
                out.append(width[c] - plain[c].size() + 2, ' ');
            }
        }
        out.push_back('\n');
        std::fputs(out.c_str(), stdout);
    };
    line(header_, header_, true);
    for (size_t r = 0; r < rows_.size(); ++r) {
        line(rows_[r], styled_[r], false);
    }
}

std::string toHex(std::string_view bytes) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    for (size_t i = 0; i < bytes.size(); ++i) {
        const auto b = static_cast<unsigned char>(bytes[i]);
        if (i != 0) {
            out.push_back(' ');
        }
        out.push_back(digits[b >> 4]);
        out.push_back(digits[b & 15]);
    }
    return out;
}

std::string fromHex(const std::string& text) {
    std::string digits;
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == ' ' || c == '\t' || c == ':' || c == ',' || c == '\r') {
            continue;
        }
        if (c == '0' && i + 1 < text.size() && (text[i + 1] == 'x' || text[i + 1] == 'X')) {
            ++i; // 0x prefix
            continue;
        }
        if (!std::isxdigit(static_cast<unsigned char>(c))) {
            throw UsageError("'" + text + "' is not hex: '" + std::string(1, c) +
                             "' is not a hex digit");
        }
        digits.push_back(c);
    }
    if (digits.size() % 2 != 0) {
        throw UsageError("'" + text + "' is not hex: odd number of digits");
    }
    std::string out;
    for (size_t i = 0; i < digits.size(); i += 2) {
        out.push_back(static_cast<char>(std::stoi(digits.substr(i, 2), nullptr, 16)));
    }
    return out;
}

bool printable(std::string_view bytes) {
    return std::all_of(bytes.begin(), bytes.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return (u >= 0x20 && u < 0x7f) || c == '\n' || c == '\t';
    });
}

nlohmann::json toJson(const rc::ProcessorInfo& p) {
    return {
        {"id", p.id},
        {"name", p.name},
        {"state", p.state},
        {"firmware", p.firmware},
        {"recovery", p.recovery},
        {"coredump", p.coredump},
        {"crash_count", p.crashCount},
        {"last_error", p.lastError},
        {"last_coredump", p.lastCoredump},
        {"channels", p.channels},
        {"path", p.path},
    };
}

nlohmann::json toJson(const rc::ChannelInfo& c) {
    return {
        {"name", c.name},
        {"processor", c.processor},
        {"remote_address", c.remoteAddress},
        {"device", c.device},
        {"mtu", c.mtu},
        {"endpoints", c.endpoints},
        {"path", c.path},
    };
}

nlohmann::json toJson(const rc::Event& e) {
    nlohmann::json j = {{"event", rc::eventTypeName(e.type)}};
    if (!e.processor.empty()) {
        j["processor"] = e.processor;
    }
    if (!e.channel.empty()) {
        j["channel"] = e.channel;
    }
    if (e.type == rc::Event::Type::ProcessorChanged) {
        j["property"] = e.property;
        j["value"] = e.value;
    }
    if (e.type == rc::Event::Type::ProcessorAdded) {
        j["state"] = e.value;
    }
    if (e.type == rc::Event::Type::Crashed) {
        j["crash_count"] = e.crashCount;
        j["coredump"] = e.coredump;
    }
    if (e.type == rc::Event::Type::TraceLines) {
        j["trace"] = e.traceIndex;
        j["lines"] = e.lines;
    }
    if (!e.path.empty()) {
        j["path"] = e.path;
    }
    return j;
}

nlohmann::json messageJson(std::string_view bytes) {
    nlohmann::json j = {{"size", bytes.size()}, {"hex", toHex(bytes)}};
    if (printable(bytes)) {
        j["text"] = std::string(bytes);
    }
    return j;
}

std::string describe(const rc::Event& e) {
    using T = rc::Event::Type;
    std::string s = rc::eventTypeName(e.type);
    switch (e.type) {
    case T::ProcessorAdded:
        return s + " " + e.processor + " (" + e.value + ")";
    case T::ProcessorRemoved:
        return s + " " + e.processor;
    case T::ProcessorChanged:
        return s + " " + e.processor + " " + e.property + "=" + e.value;
    case T::Crashed:
        return s + " " + e.processor + " count=" + std::to_string(e.crashCount) +
               (e.coredump.empty() ? std::string() : " coredump=" + e.coredump);
    case T::ChannelAdded:
    case T::ChannelRemoved:
    case T::EndpointOpened:
        return s + " " + e.channel + " on " + e.processor;
    case T::EndpointClosed:
        return s + " " + e.channel + (e.processor.empty() ? "" : " on " + e.processor);
    case T::DaemonStarted:
    case T::DaemonStopped:
        return s;
    case T::TraceLines: {
        std::string text = s + " " + e.processor + " trace" + std::to_string(e.traceIndex) + ":";
        for (const auto& line : e.lines) {
            text += "\n  " + line;
        }
        return text;
    }
    }
    return s;
}

} // namespace rpmsgctl
