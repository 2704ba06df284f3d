// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// Fuzz target: uevents. The simulator encodes kernel-format uevents (sim/uevent.h) that the
// daemon's udev watcher receives; the watcher filters them by device name. The input is lines:
// ACTION, DEVPATH, SUBSYSTEM, then KEY=VALUE lines (split at the last '='). An event the
// sender accepts must encode to a datagram that decodes back to the same fields.

#include "daemon/kernel/sysfs.h"
#include "daemon/watcher.h"
#include "fuzz_check.h"
#include "sim/uevent.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    auto lines = fuzz::split(text, '\n');
    if (lines.size() < 3) {
        return 0;
    }
    const std::string& action = lines[0];
    const std::string& devpath = lines[1];
    const std::string& subsystem = lines[2];
    std::vector<std::pair<std::string, std::string>> vars;
    for (size_t i = 3; i < lines.size(); ++i) {
        const size_t eq = lines[i].rfind('=');
        if (eq == std::string::npos) {
            vars.emplace_back(lines[i], "");
        } else {
            vars.emplace_back(lines[i].substr(0, eq), lines[i].substr(eq + 1));
        }
    }
    // What the watcher does with the device name of such an event.
    const std::string sysname = rpmsgd::kernel::detail::basename(devpath);
    rpmsgd::isEndpointDeviceName(sysname.c_str());
    rpmsgd::isEndpointDeviceName(nullptr);

    if (!rpmsgsim::validUevent(action, devpath, subsystem, vars)) {
        return 0;
    }
    const uint64_t seqnum = size;
    const std::string wire = rpmsgsim::encodeUevent(action, devpath, subsystem, seqnum, vars);
    FUZZ_CHECK(!wire.empty() && wire.back() == '\0');
    auto fields = fuzz::split(std::string_view(wire).substr(0, wire.size() - 1), '\0');
    FUZZ_CHECK(fields.size() == 5 + vars.size());
    FUZZ_CHECK(fields[0] == action + "@" + devpath);
    // The header splits at the first '@': ACTION holds none.
    FUZZ_CHECK(fields[0].substr(0, fields[0].find('@')) == action);
    std::vector<std::pair<std::string, std::string>> decoded;
    for (size_t i = 1; i < fields.size(); ++i) {
        const size_t eq = fields[i].find('=');
        FUZZ_CHECK(eq != std::string::npos && eq > 0);
        decoded.emplace_back(fields[i].substr(0, eq), fields[i].substr(eq + 1));
    }
    FUZZ_CHECK(decoded[0] == std::make_pair(std::string("ACTION"), action));
    FUZZ_CHECK(decoded[1] == std::make_pair(std::string("DEVPATH"), devpath));
    FUZZ_CHECK(decoded[2] == std::make_pair(std::string("SUBSYSTEM"), subsystem));
    for (size_t i = 0; i < vars.size(); ++i) {
        FUZZ_CHECK(decoded[3 + i] == vars[i]);
    }
    FUZZ_CHECK(decoded.back() == std::make_pair(std::string("SEQNUM"), std::to_string(seqnum)));
    return 0;
}
