// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "config.h"

#include "common/json_path.h"
#include "strict_json.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fnmatch.h>
#include <initializer_list>
#include <map>
#include <set>
#include <string_view>
#include <system_error>
#include <unistd.h>
#include <utility>

#include <nlohmann/json.hpp>

namespace rpmsgd::config {

namespace {

using Json = nlohmann::json;

// Bounds of the numeric keys (config/README.md).
constexpr uint64_t MinIntervalMs = 10;
constexpr uint64_t MaxIntervalMs = 3600000;
constexpr uint64_t MaxEndpoints = 65536;
constexpr uint64_t MinFirmwareBytes = 4096;
constexpr uint64_t MaxFirmwareBytes = 1024ull * 1024 * 1024;
constexpr uint64_t MaxCoredumpsKept = 1000;
constexpr uint64_t MaxWaitsPerClient = 1024;
constexpr uint64_t MaxCallsPerClient = 4096;
constexpr uint64_t MinKernelWriteTimeoutMs = 100;
constexpr uint64_t MaxKernelWriteTimeoutMs = 3600000;
constexpr uint64_t MaxCrashes = 1000;
constexpr uint64_t MaxWindowS = 31536000; // a year
constexpr size_t MaxFirmwareNameBytes = 255;
constexpr size_t MaxQuotedChars = 80;

// Concatenation by append: chained operator+ on temporaries trips GCC 12's -Wrestrict.
template <typename... Parts>
std::string cat(const Parts&... parts) {
    std::string s;
    (s.append(std::string_view(parts)), ...);
    return s;
}

using json_path::child;

// How a bad value is quoted in a message.
std::string describe(const Json& v) {
    return json_path::describe(v, MaxQuotedChars);
}

std::string joined(std::initializer_list<const char*> words) {
    std::string out;
    for (const char* w : words) {
        if (!out.empty()) {
            out += ", ";
        }
        out += w;
    }
    return out;
}

// `"a" or "b"`, `"a", "b" or "c"`.
std::string alternatives(const std::vector<std::string_view>& words) {
    std::string out;
    for (size_t i = 0; i < words.size(); ++i) {
        if (i > 0) {
            out += i + 1 == words.size() ? " or " : ", ";
        }
        out += cat("\"", words[i], "\"");
    }
    return out;
}

// Empty when @p glob is valid fnmatch syntax for us, else the reason.
std::string globProblem(const std::string& glob) {
    for (size_t i = 0; i < glob.size(); ++i) {
        const char c = glob[i];
        if (c == '\\') {
            if (++i == glob.size()) {
                return "dangling '\\' at the end of glob pattern";
            }
        } else if (c == '[') {
            size_t j = i + 1;
            if (j < glob.size() && (glob[j] == '!' || glob[j] == '^')) {
                ++j;
            }
            if (j < glob.size() && glob[j] == ']') { // a leading ']' is a member
                ++j;
            }
            bool closed = false;
            while (j < glob.size()) {
                if (glob[j] == '[' && j + 1 < glob.size() &&
                    (glob[j + 1] == ':' || glob[j + 1] == '.' || glob[j + 1] == '=')) {
                    const char kind = glob[j + 1];
                    const size_t end = glob.find(std::string{kind, ']'}, j + 2);
                    if (end == std::string::npos) {
                        return cat("unbalanced '[", std::string(1, kind), "' in glob pattern");
                    }
                    j = end + 2;
                    continue;
                }
                if (glob[j] == ']') {
                    closed = true;
                    break;
                }
                ++j;
            }
            if (!closed) {
                return "unbalanced '[' in glob pattern";
            }
            i = j;
        }
    }
    return {};
}

bool isNameChar(unsigned char c) {
    return c > 0x20 && c != 0x7f;
}

using BadPointers = std::set<std::string>;

// Validates one document against the schema and extracts what is valid into a Config. Run on
// each file's own document (errors reported under its name) and on the merged document.
class Walker {
public:
    Walker(std::string file, std::vector<std::string>& errors, BadPointers& bad)
        : file_(std::move(file)), errors_(errors), bad_(bad) {}

    Config walk(const Json& root) {
        Config c;
        if (!object(root, "",
                    {"authorization", "paths", "watch", "managers", "channels", "processors",
                     "limits"})) {
            return c;
        }
        choice(root, "", "authorization",
               {{"groups", Authorization::Groups},
                {"polkit", Authorization::Polkit},
                {"auto", Authorization::Auto}},
               c.authorization);
        if (const Json* v = member(root, "paths")) {
            paths(*v, "/paths", c.paths);
        }
        if (const Json* v = member(root, "watch")) {
            watch(*v, "/watch", c.watch);
        }
        if (const Json* v = member(root, "managers")) {
            managers(*v, "/managers", c.managers);
        }
        if (const Json* v = member(root, "channels")) {
            channels(*v, "/channels", c.channels);
        }
        if (const Json* v = member(root, "processors")) {
            processors(*v, "/processors", c.processors);
        }
        if (const Json* v = member(root, "limits")) {
            limits(*v, "/limits", c.limits);
        }
        return c;
    }

private:
    void error(const std::string& pointer, const std::string& reason) {
        bad_.insert(pointer);
        errors_.push_back(cat(file_, ": ", pointer.empty() ? "/" : pointer, ": ", reason));
    }

    void expected(const std::string& pointer, std::string_view what, const Json& got) {
        error(pointer, cat("expected ", what, ", got ", describe(got)));
    }

    static const Json* member(const Json& obj, const char* key) {
        if (!obj.is_object()) {
            return nullptr;
        }
        auto it = obj.find(key);
        return it == obj.end() ? nullptr : &*it;
    }

    // True when @p v is an object; every key not in @p allowed is reported.
    bool object(const Json& v, const std::string& pointer,
                std::initializer_list<const char*> allowed) {
        if (!v.is_object()) {
            expected(pointer, "an object", v);
            return false;
        }
        for (const auto& [key, value] : v.items()) {
            // key by an init-capture: clang 14 (the fuzz build) cannot capture a structured
            // binding.
            const bool known = std::any_of(allowed.begin(), allowed.end(),
                                           [&k = key](const char* a) { return k == a; });
            if (!known) {
                error(child(pointer, key), cat("unknown key (allowed: ", joined(allowed), ")"));
            }
        }
        return true;
    }

    bool string(const Json& v, const std::string& pointer, std::string_view what,
                std::string& out) {
        if (!v.is_string()) {
            expected(pointer, what, v);
            return false;
        }
        out = v.get<std::string>();
        return true;
    }

    void absolutePath(const Json& obj, const std::string& base, const char* key, std::string& out) {
        const Json* v = member(obj, key);
        if (!v) {
            return;
        }
        const std::string pointer = child(base, key);
        if (!v->is_string() || v->get_ref<const std::string&>().empty() ||
            v->get_ref<const std::string&>().front() != '/') {
            expected(pointer, "an absolute path", *v);
            return;
        }
        out = v->get<std::string>();
    }

    template <typename T>
    void integer(const Json& obj, const std::string& base, const char* key, uint64_t min,
                 uint64_t max, T& out) {
        const Json* v = member(obj, key);
        if (!v) {
            return;
        }
        bool inRange = false;
        if (v->is_number_unsigned()) {
            const auto n = v->get<uint64_t>();
            inRange = n >= min && n <= max;
        } else if (v->is_number_integer()) {
            const auto n = v->get<int64_t>();
            inRange = n >= 0 && static_cast<uint64_t>(n) >= min && static_cast<uint64_t>(n) <= max;
        }
        if (!inRange) {
            expected(child(base, key),
                     cat("an integer from ", std::to_string(min), " to ", std::to_string(max)), *v);
            return;
        }
        out = static_cast<T>(v->get<uint64_t>());
    }

    template <typename E>
    void choice(const Json& obj, const std::string& base, const char* key,
                std::initializer_list<std::pair<std::string_view, E>> options, E& out) {
        const Json* v = member(obj, key);
        if (!v) {
            return;
        }
        if (v->is_string()) {
            for (const auto& [name, value] : options) {
                if (v->get_ref<const std::string&>() == name) {
                    out = value;
                    return;
                }
            }
        }
        std::vector<std::string_view> names;
        for (const auto& option : options) {
            names.push_back(option.first);
        }
        expected(child(base, key), alternatives(names), *v);
    }

    template <typename E>
    void optionalChoice(const Json& obj, const std::string& base, const char* key,
                        std::initializer_list<std::pair<std::string_view, E>> options,
                        std::optional<E>& out) {
        if (!member(obj, key)) {
            return;
        }
        E value = options.begin()->second;
        const size_t before = errors_.size();
        choice(obj, base, key, options, value);
        if (errors_.size() == before) {
            out = value;
        }
    }

    void glob(const Json& obj, const std::string& base, const char* key, std::string& out) {
        const Json* v = member(obj, key);
        if (!v) {
            return;
        }
        const std::string pointer = child(base, key);
        if (!v->is_string() || v->get_ref<const std::string&>().empty()) {
            expected(pointer, "a non-empty glob pattern", *v);
            return;
        }
        const std::string problem = globProblem(v->get_ref<const std::string&>());
        if (!problem.empty()) {
            error(pointer, cat(problem, " ", describe(*v)));
            return;
        }
        out = v->get<std::string>();
    }

    // A user or group name: a non-empty string without whitespace or control characters.
    void names(const Json& obj, const std::string& base, const char* key, std::string_view kind,
               std::vector<std::string>& out) {
        const Json* v = member(obj, key);
        if (!v) {
            return;
        }
        const std::string pointer = child(base, key);
        if (!v->is_array()) {
            expected(pointer, cat("an array of ", kind, " names"), *v);
            return;
        }
        std::vector<std::string> result;
        bool good = true;
        for (size_t i = 0; i < v->size(); ++i) {
            const Json& item = (*v)[i];
            const bool valid = item.is_string() && !item.get_ref<const std::string&>().empty() &&
                               std::all_of(item.get_ref<const std::string&>().begin(),
                                           item.get_ref<const std::string&>().end(),
                                           [](char c) { return isNameChar(c); });
            if (!valid) {
                expected(child(pointer, i),
                         cat("a ", kind, " name (a non-empty string without whitespace)"), item);
                good = false;
                continue;
            }
            result.push_back(item.get<std::string>());
        }
        if (good) {
            out = std::move(result);
        }
    }

    void firmware(const Json& obj, const std::string& base, const char* key,
                  std::optional<std::string>& out) {
        const Json* v = member(obj, key);
        if (!v) {
            return;
        }
        const std::string pointer = child(base, key);
        if (!v->is_string() || v->get_ref<const std::string&>().empty()) {
            expected(pointer, "a firmware file name", *v);
            return;
        }
        const auto& name = v->get_ref<const std::string&>();
        if (name.front() == '/') {
            expected(pointer, "a file name relative to paths.firmware", *v);
            return;
        }
        if (std::any_of(name.begin(), name.end(),
                        [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; })) {
            error(pointer,
                  cat("firmware name must not contain control characters, got ", describe(*v)));
            return;
        }
        for (size_t start = 0; start <= name.size();) {
            size_t end = name.find('/', start);
            if (end == std::string::npos) {
                end = name.size();
            }
            if (name.compare(start, end - start, "..") == 0) {
                error(pointer,
                      cat("firmware name must not contain a \"..\" component, got ", describe(*v)));
                return;
            }
            start = end + 1;
        }
        if (name.size() > MaxFirmwareNameBytes) {
            error(pointer,
                  cat("firmware name is ", std::to_string(name.size()), " bytes long, at most ",
                      std::to_string(MaxFirmwareNameBytes), " are allowed"));
            return;
        }
        out = name;
    }

    void boolean(const Json& obj, const std::string& base, const char* key,
                 std::optional<bool>& out) {
        const Json* v = member(obj, key);
        if (!v) {
            return;
        }
        if (!v->is_boolean()) {
            expected(child(base, key), "true or false", *v);
            return;
        }
        out = v->get<bool>();
    }

    void paths(const Json& v, const std::string& pointer, Paths& out) {
        if (!object(v, pointer, {"sysfs", "dev", "debugfs", "firmware", "state"})) {
            return;
        }
        absolutePath(v, pointer, "sysfs", out.sysfs);
        absolutePath(v, pointer, "dev", out.dev);
        absolutePath(v, pointer, "debugfs", out.debugfs);
        absolutePath(v, pointer, "firmware", out.firmware);
        absolutePath(v, pointer, "state", out.state);
    }

    void watch(const Json& v, const std::string& pointer, Watch& out) {
        if (!object(v, pointer,
                    {"mode", "poll_interval_ms", "state_interval_ms", "trace_interval_ms"})) {
            return;
        }
        choice(v, pointer, "mode", {{"udev", WatchMode::Udev}, {"poll", WatchMode::Poll}},
               out.mode);
        integer(v, pointer, "poll_interval_ms", MinIntervalMs, MaxIntervalMs, out.pollIntervalMs);
        integer(v, pointer, "state_interval_ms", MinIntervalMs, MaxIntervalMs, out.stateIntervalMs);
        // 0 turns following off; otherwise the same range as the other intervals.
        if (const Json* t = member(v, "trace_interval_ms")) {
            const bool whole =
                t->is_number_unsigned() || (t->is_number_integer() && t->get<int64_t>() >= 0);
            const uint64_t n = whole ? t->get<uint64_t>() : 0;
            if (!whole || (n != 0 && (n < MinIntervalMs || n > MaxIntervalMs))) {
                expected(child(pointer, "trace_interval_ms"),
                         cat("0 (not followed) or an integer from ", std::to_string(MinIntervalMs),
                             " to ", std::to_string(MaxIntervalMs)),
                         *t);
            } else {
                out.traceIntervalMs = static_cast<uint32_t>(n);
            }
        }
    }

    void managers(const Json& v, const std::string& pointer, Managers& out) {
        if (!object(v, pointer, {"users", "groups"})) {
            return;
        }
        names(v, pointer, "users", "user", out.users);
        names(v, pointer, "groups", "group", out.groups);
    }

    void channels(const Json& v, const std::string& pointer, std::vector<ChannelRule>& out) {
        if (!v.is_array()) {
            expected(pointer, "an array of channel rules", v);
            return;
        }
        out.clear();
        for (size_t i = 0; i < v.size(); ++i) {
            const std::string p = child(pointer, i);
            const Json& item = v[i];
            if (!object(item, p, {"match", "processor", "users", "groups"})) {
                continue;
            }
            ChannelRule rule;
            glob(item, p, "match", rule.match);
            glob(item, p, "processor", rule.processor);
            names(item, p, "users", "user", rule.users);
            names(item, p, "groups", "group", rule.groups);
            out.push_back(std::move(rule));
        }
    }

    void processors(const Json& v, const std::string& pointer, std::vector<ProcessorPolicy>& out) {
        if (!v.is_array()) {
            expected(pointer, "an array of processor policies", v);
            return;
        }
        out.clear();
        for (size_t i = 0; i < v.size(); ++i) {
            const std::string p = child(pointer, i);
            const Json& item = v[i];
            if (!object(item, p,
                        {"match", "firmware", "autostart", "recovery", "coredump", "restart"})) {
                continue;
            }
            ProcessorPolicy policy;
            glob(item, p, "match", policy.match);
            firmware(item, p, "firmware", policy.firmware);
            boolean(item, p, "autostart", policy.autostart);
            optionalChoice(item, p, "recovery",
                           {{toString(Recovery::Enabled), Recovery::Enabled},
                            {toString(Recovery::Disabled), Recovery::Disabled}},
                           policy.recovery);
            optionalChoice(item, p, "coredump",
                           {{toString(Coredump::Disabled), Coredump::Disabled},
                            {toString(Coredump::Enabled), Coredump::Enabled},
                            {toString(Coredump::Inline), Coredump::Inline}},
                           policy.coredump);
            if (const Json* r = member(item, "restart")) {
                const std::string rp = child(p, "restart");
                if (object(*r, rp, {"max_crashes", "window_s"})) {
                    RestartPolicy restart;
                    integer(*r, rp, "max_crashes", 1, MaxCrashes, restart.maxCrashes);
                    integer(*r, rp, "window_s", 1, MaxWindowS, restart.windowS);
                    policy.restart = restart;
                }
            }
            out.push_back(std::move(policy));
        }
    }

    void limits(const Json& v, const std::string& pointer, Limits& out) {
        if (!object(v, pointer,
                    {"endpoints_per_client", "endpoints_total", "firmware_max_bytes",
                     "coredumps_kept", "waits_per_client", "calls_per_client",
                     "kernel_write_timeout_ms"})) {
            return;
        }
        integer(v, pointer, "endpoints_per_client", 1, MaxEndpoints, out.endpointsPerClient);
        integer(v, pointer, "endpoints_total", 1, MaxEndpoints, out.endpointsTotal);
        integer(v, pointer, "firmware_max_bytes", MinFirmwareBytes, MaxFirmwareBytes,
                out.firmwareMaxBytes);
        integer(v, pointer, "coredumps_kept", 0, MaxCoredumpsKept, out.coredumpsKept);
        integer(v, pointer, "waits_per_client", 1, MaxWaitsPerClient, out.waitsPerClient);
        integer(v, pointer, "calls_per_client", 1, MaxCallsPerClient, out.callsPerClient);
        integer(v, pointer, "kernel_write_timeout_ms", MinKernelWriteTimeoutMs,
                MaxKernelWriteTimeoutMs, out.kernelWriteTimeoutMs);
    }

    std::string file_;
    std::vector<std::string>& errors_;
    BadPointers& bad_;
};

// Which source last set each JSON pointer of the merged document.
using Provenance = std::map<std::string, std::string>;

// Records @p file for @p pointer and everything inside @p value.
void record(Provenance& provenance, const std::string& pointer, const Json& value,
            const std::string& file) {
    provenance[pointer] = file;
    if (value.is_object()) {
        for (const auto& [key, item] : value.items()) {
            record(provenance, child(pointer, key), item, file);
        }
    } else if (value.is_array()) {
        for (size_t i = 0; i < value.size(); ++i) {
            record(provenance, child(pointer, i), value[i], file);
        }
    }
}

// @p value from @p file replaced whatever was at @p pointer.
void replaced(Provenance& provenance, const std::string& pointer, const Json& value,
              const std::string& file) {
    const std::string prefix = cat(pointer, "/");
    for (auto it = provenance.lower_bound(prefix);
         it != provenance.end() && it->first.starts_with(prefix);) {
        it = provenance.erase(it);
    }
    record(provenance, pointer, value, file);
}

// Objects merge key by key; anything else replaces what was there.
void merge(Json& into, const Json& from, const std::string& pointer, const std::string& file,
           Provenance& provenance) {
    for (const auto& [key, value] : from.items()) {
        const std::string p = child(pointer, key);
        auto it = into.find(key);
        if (it != into.end() && it->is_object() && value.is_object()) {
            provenance[p] = file;
            merge(*it, value, p, file, provenance);
        } else {
            into[key] = value;
            replaced(provenance, p, value, file);
        }
    }
}

// The source that set @p pointer; empty when it has its default value.
std::string origin(const Provenance& provenance, const std::string& pointer) {
    auto it = provenance.find(pointer);
    return it == provenance.end() ? std::string() : it->second;
}

// Rules across keys, checked on the merged result.
void crossCheck(const Config& c, const Provenance& provenance, const BadPointers& bad,
                std::vector<std::string>& errors) {
    const std::string perClient = "/limits/endpoints_per_client";
    const std::string total = "/limits/endpoints_total";
    if (!bad.contains(perClient) && !bad.contains(total) &&
        c.limits.endpointsPerClient > c.limits.endpointsTotal) {
        const std::string perClientFile = origin(provenance, perClient);
        if (!perClientFile.empty()) {
            errors.push_back(cat(
                perClientFile, ": ", perClient, ": ", std::to_string(c.limits.endpointsPerClient),
                " exceeds endpoints_total (", std::to_string(c.limits.endpointsTotal), ")"));
        } else {
            errors.push_back(cat(origin(provenance, total), ": ", total, ": ",
                                 std::to_string(c.limits.endpointsTotal),
                                 " is less than endpoints_per_client (",
                                 std::to_string(c.limits.endpointsPerClient), ")"));
        }
    }
}

// The whole file, or false with errno-style @p error.
bool readWhole(const std::string& path, std::string& text, int& error) {
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        error = errno;
        return false;
    }
    text.clear();
    char buffer[65536];
    for (;;) {
        const ssize_t n = read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            error = errno;
            close(fd);
            return false;
        }
        if (n == 0) {
            break;
        }
        text.append(buffer, static_cast<size_t>(n));
    }
    close(fd);
    return true;
}

} // namespace

LoadResult parseConfig(const std::vector<Source>& sources) {
    LoadResult result;
    Json merged = Json::object();
    Provenance provenance;

    for (const Source& source : sources) {
        Json doc;
        if (!parseStrictJson(source.name, source.text, doc, result.errors)) {
            continue;
        }
        BadPointers ignored;
        Walker(source.name, result.errors, ignored).walk(doc);
        if (doc.is_object()) {
            merge(merged, doc, "", source.name, provenance);
        }
    }

    // Every problem of a merged value was reported with the file that holds it; this pass only
    // extracts, and remembers which pointers were bad so the cross-key rules skip them.
    std::vector<std::string> repeated;
    BadPointers bad;
    Config config = Walker("", repeated, bad).walk(merged);
    crossCheck(config, provenance, bad, result.errors);

    result.ok = result.errors.empty();
    if (result.ok) {
        result.config = std::move(config);
    }
    return result;
}

LoadResult loadConfig(const std::string& file, bool mustExist) {
    namespace fs = std::filesystem;
    std::vector<Source> sources;
    std::vector<std::string> readErrors;

    std::string text;
    int error = 0;
    if (readWhole(file, text, error)) {
        sources.push_back(Source{file, std::move(text)});
    } else if (error != ENOENT || mustExist) {
        readErrors.push_back(cat(file, ": cannot read: ", std::strerror(error)));
    }

    const std::string dropinDir = cat(file, ".d");
    std::error_code ec;
    const fs::file_status dirStatus = fs::status(dropinDir, ec);
    if (fs::is_directory(dirStatus)) {
        std::vector<std::string> names;
        for (fs::directory_iterator it(dropinDir, ec), end; !ec && it != end; it.increment(ec)) {
            const std::string name = it->path().filename().string();
            if (name.size() > 5 && name.ends_with(".json") && !name.starts_with(".")) {
                names.push_back(name);
            }
        }
        if (ec) {
            readErrors.push_back(cat(dropinDir, ": cannot read: ", ec.message()));
        }
        std::sort(names.begin(), names.end());
        for (const std::string& name : names) {
            const std::string path = cat(dropinDir, "/", name);
            if (fs::is_directory(path, ec)) {
                continue;
            }
            if (readWhole(path, text, error)) {
                sources.push_back(Source{path, std::move(text)});
            } else {
                readErrors.push_back(cat(path, ": cannot read: ", std::strerror(error)));
            }
        }
    } else if (fs::exists(dirStatus)) {
        readErrors.push_back(cat(dropinDir, ": not a directory"));
    }

    LoadResult result = parseConfig(sources);
    for (const Source& s : sources) {
        result.files.push_back(s.name);
    }
    if (!readErrors.empty()) {
        result.errors.insert(result.errors.begin(), readErrors.begin(), readErrors.end());
        result.ok = false;
        result.config = Config{};
    }
    return result;
}

bool globMatch(const std::string& glob, const std::string& s) {
    return fnmatch(glob.c_str(), s.c_str(), 0) == 0;
}

const ChannelRule* matchChannelRule(const Config& config, const std::string& channelName,
                                    const std::string& processorId,
                                    const std::string& processorName) {
    for (const ChannelRule& rule : config.channels) {
        if (globMatch(rule.match, channelName) &&
            (globMatch(rule.processor, processorId) || globMatch(rule.processor, processorName))) {
            return &rule;
        }
    }
    return nullptr;
}

const ProcessorPolicy* matchProcessorPolicy(const Config& config, const std::string& processorId,
                                            const std::string& processorName) {
    for (const ProcessorPolicy& policy : config.processors) {
        if (globMatch(policy.match, processorId) || globMatch(policy.match, processorName)) {
            return &policy;
        }
    }
    return nullptr;
}

const char* toString(WatchMode mode) {
    return mode == WatchMode::Poll ? "poll" : "udev";
}

} // namespace rpmsgd::config
