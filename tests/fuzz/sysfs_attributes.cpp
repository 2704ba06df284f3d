// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// Fuzz target: how rpmsgd reads what sysfs says. The input is a list of attribute values or
// names separated by NUL bytes (sysfs values never hold NUL): each one goes through the
// parsers the kernel layer applies to `state`/`name`/`firmware`/`recovery`/`coredump` (chomp),
// `src`/`dst` (parseAddress), directory entries (isPlainName, hasIndexSuffix, naturalSort),
// resolved device paths (processorFromPath, basename/dirname) and rpmsg bus device names
// (parseVirtioDeviceName).

#include "daemon/kernel/rpmsg_bus.h"
#include "daemon/kernel/sysfs.h"
#include "daemon/kernel_port_real.h"
#include "fuzz_check.h"

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <string>

namespace detail = rpmsgd::kernel::detail;

namespace {

void checkOne(const std::string& value) {
    const std::string chomped = detail::chomp(value);
    // sysfs ends a value with exactly one newline: chomp drops that one and nothing else.
    FUZZ_CHECK(value == chomped || value == chomped + "\n");
    FUZZ_CHECK(value.empty() || value.back() != '\n' || value.size() == chomped.size() + 1);

    if (const auto address = detail::parseAddress(value)) {
        // A decimal answer is the value's low 32 bits (the kernel prints addresses with %d).
        long long v = 0;
        const auto [end, ec] = std::from_chars(chomped.data(), chomped.data() + chomped.size(), v);
        if (ec == std::errc() && end == chomped.data() + chomped.size()) {
            FUZZ_CHECK(*address == static_cast<uint32_t>(v));
        }
    }

    if (detail::isPlainName(value)) {
        FUZZ_CHECK(value.find('/') == std::string::npos);
        FUZZ_CHECK(detail::basename(value) == value);
    }
    if (detail::hasIndexSuffix(value, "remoteproc")) {
        FUZZ_CHECK(detail::isPlainName(value));
    }
    const std::string base = detail::basename(value);
    const std::string dir = detail::dirname(value);
    if (value.find('/') != std::string::npos && value.size() > 1) {
        FUZZ_CHECK(value == dir + "/" + base || (dir == "/" && value == "/" + base));
    }
    const std::string owner = rpmsgd::kernel::processorFromPath(value);
    if (!owner.empty()) {
        FUZZ_CHECK(detail::hasIndexSuffix(owner, "remoteproc"));
        FUZZ_CHECK(value.find("/remoteproc/" + owner) != std::string::npos);
    }
    rpmsgd::kernel::isInfrastructureName(chomped);

    if (const auto channel = rpmsgd::parseVirtioDeviceName(value)) {
        FUZZ_CHECK(channel->device == value);
        FUZZ_CHECK(detail::hasIndexSuffix(channel->transport, "virtio"));
        FUZZ_CHECK(value.compare(0, channel->transport.size() + 1, channel->transport + ".") == 0);
        FUZZ_CHECK(channel->name.find('!') == std::string::npos);
        // The addresses are the kernel's %d: their text is that of a 32-bit signed value.
        const std::string dst = value.substr(value.rfind('.') + 1);
        FUZZ_CHECK(std::stoll(dst) == static_cast<int32_t>(channel->dst));
        FUZZ_CHECK(value.find("." + channel->name + ".") == channel->transport.size());
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    auto values = fuzz::split(text, '\0');
    for (const auto& v : values) {
        checkOne(v);
    }
    // Directory listings are sorted with a hand-written comparator: std::sort reads out of
    // bounds if it is not a strict weak order.
    auto sorted = values;
    detail::naturalSort(sorted);
    FUZZ_CHECK(sorted.size() == values.size());
    auto again = sorted;
    detail::naturalSort(again);
    FUZZ_CHECK(again == sorted);
    return 0;
}
