// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// Fuzz target: what rpmsgd checks in D-Bus method arguments before doing anything. The input is
// lines: the first is a string argument given to every check (firmware path and upload name,
// coredump mode, endpoint and channel names, object path escaping), its first four bytes also
// a remote address; each further line is one Open/OpenEndpoint option "KEY=T:VALUE", where T is
// a D-Bus type code (b, u, i, s, t, d) of the variant built from VALUE.

#include "daemon/dbus_service.h"
#include "daemon/store.h"
#include "daemon/validation.h"
#include "dbus/errors.h"
#include "fuzz_check.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <string>

namespace {

template <typename Fn>
bool accepted(Fn&& fn) {
    try {
        fn();
        return true;
    } catch (const rpmsgd::Error& e) {
        FUZZ_CHECK(e.code() == rpmsgd::ErrorCode::InvalidArgument);
        FUZZ_CHECK(std::strlen(e.what()) > 0);
        return false;
    }
}

int hexValue(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return -1;
}

// The inverse of escapePathElement(); "" when @p element is not one of its outputs.
std::optional<std::string> unescape(const std::string& element) {
    if (element == "_") {
        return std::string();
    }
    std::string out;
    for (size_t i = 0; i < element.size(); ++i) {
        if (element[i] != '_') {
            out += element[i];
            continue;
        }
        if (i + 2 >= element.size()) {
            return std::nullopt;
        }
        const int hi = hexValue(element[i + 1]), lo = hexValue(element[i + 2]);
        if (hi < 0 || lo < 0) {
            return std::nullopt;
        }
        out += char(hi * 16 + lo);
        i += 2;
    }
    return out;
}

void checkString(const std::string& s) {
    const bool path = accepted([&] { rpmsgd::checkFirmwarePath(s); });
    const bool upload = accepted([&] { rpmsgd::checkUploadName(s); });
    FUZZ_CHECK(upload == rpmsgd::Store::validUploadName(s));
    // An uploaded firmware is stored as rpmsgd/NAME and later set as a firmware path.
    FUZZ_CHECK(!upload || (path && accepted([&] { rpmsgd::checkFirmwarePath("rpmsgd/" + s); })));
    if (path) {
        FUZZ_CHECK(s.find('\n') == std::string::npos && s.find('\0') == std::string::npos);
        FUZZ_CHECK(s.size() <= 255 && s[0] != '/');
    }
    std::optional<rpmsgd::CoredumpMode> parsedMode;
    const bool mode = accepted([&] { parsedMode = rpmsgd::parseCoredumpMode(s); });
    FUZZ_CHECK(mode == (s == "disabled" || s == "enabled" || s == "inline"));
    FUZZ_CHECK(!mode || rpmsgd::toString(*parsedMode) == s);
    const bool endpoint = accepted([&] { rpmsgd::checkEndpointName(s); });
    FUZZ_CHECK(!endpoint || (s.size() >= 1 && s.size() <= 31));
    FUZZ_CHECK(accepted([&] { rpmsgd::checkChannelName(s); }) == !s.empty());

    // Object paths are built from kernel names: the element must be valid and unambiguous.
    const std::string element = rpmsgd::escapePathElement(s);
    FUZZ_CHECK(!element.empty());
    for (char c : element) {
        FUZZ_CHECK((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '_');
    }
    const auto back = unescape(element);
    FUZZ_CHECK(back && *back == s);
}

std::optional<sdbus::Variant> makeVariantOrThrow(char type, const std::string& value) {
    switch (type) {
    case 'b':
        return sdbus::Variant(value == "true");
    case 'u':
        return sdbus::Variant(static_cast<uint32_t>(std::strtoul(value.c_str(), nullptr, 0)));
    case 'i':
        return sdbus::Variant(static_cast<int32_t>(std::strtol(value.c_str(), nullptr, 0)));
    case 's':
        // D-Bus strings are UTF-8 without NUL; sd-bus refuses others before any handler runs.
        return sdbus::Variant(value.substr(0, value.find('\0')));
    case 't':
        return sdbus::Variant(static_cast<uint64_t>(std::strtoull(value.c_str(), nullptr, 0)));
    case 'd':
        return sdbus::Variant(std::strtod(value.c_str(), nullptr));
    default:
        return std::nullopt;
    }
}

// sd-bus refuses what a message cannot carry (a string that is not UTF-8) before any handler
// runs: such options never reach parseOpenOptions().
std::optional<sdbus::Variant> makeVariant(char type, const std::string& value) {
    try {
        return makeVariantOrThrow(type, value);
    } catch (const sdbus::Error&) {
        return std::nullopt;
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    const auto lines = fuzz::split(text, '\n');
    checkString(lines[0]);
    uint32_t address = 0;
    std::memcpy(&address, lines[0].data(), std::min<size_t>(lines[0].size(), 4));
    FUZZ_CHECK(accepted([&] { rpmsgd::checkRemoteAddress(address); }) == (address != 0xFFFFFFFFu));

    std::map<std::string, sdbus::Variant> options;
    for (size_t i = 1; i < lines.size() && i < 8; ++i) {
        const auto& line = lines[i];
        const size_t eq = line.find('=');
        if (eq == std::string::npos || line.size() < eq + 3 || line[eq + 2] != ':') {
            continue;
        }
        // Member names in a{sv} are D-Bus strings too: no NUL.
        const std::string key = line.substr(0, std::min(eq, line.find('\0')));
        if (auto v = makeVariant(line[eq + 1], line.substr(eq + 3))) {
            options[key] = std::move(*v);
        }
    }
    rpmsgd::OpenOptions parsed;
    bool ok = true;
    try {
        parsed = rpmsgd::parseOpenOptions(options);
    } catch (const rpmsgd::Error& e) {
        FUZZ_CHECK(e.code() == rpmsgd::ErrorCode::InvalidArgument);
        ok = false;
    }
    if (ok) {
        for (const auto& [key, value] : options) {
            FUZZ_CHECK(key == "nonblock" || key == "local_address");
        }
        FUZZ_CHECK(parsed.localAddress.has_value() == (options.count("local_address") == 1));
        if (parsed.localAddress) {
            accepted([&] { rpmsgd::checkLocalAddress(parsed.localAddress); });
        }
    }
    return 0;
}
