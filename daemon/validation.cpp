// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "validation.h"

#include "common/rpmsg_abi.h"
#include "dbus/errors.h"
#include "store.h"

namespace rpmsgd {

void checkFirmwarePath(const std::string& name) {
    if (name.empty() || name.size() > 255 || name[0] == '/' ||
        name.find('\n') != std::string::npos || name.find('\0') != std::string::npos ||
        name == ".." || name.rfind("../", 0) == 0 || name.find("/../") != std::string::npos ||
        (name.size() >= 3 && name.compare(name.size() - 3, 3, "/..") == 0)) {
        throw Error(ErrorCode::InvalidArgument,
                    "Firmware name '" + name +
                        "' must be a relative path inside the firmware directory (no '..', no "
                        "newline, at most 255 bytes)");
    }
}

void checkUploadName(const std::string& name) {
    if (!Store::validUploadName(name)) {
        throw Error(ErrorCode::InvalidArgument,
                    "Firmware name '" + name +
                        "' must be a plain file name of 1-200 characters A-Z a-z 0-9 . _ - "
                        "(not starting with '.')");
    }
}

CoredumpMode parseCoredumpMode(const std::string& mode) {
    if (auto m = coredumpModeFromString(mode)) {
        return *m;
    }
    std::string words;
    for (auto m : allCoredumpModes) {
        words += std::string(words.empty() ? "" : ", ") + std::string(toString(m));
    }
    throw Error(ErrorCode::InvalidArgument, "Coredump mode '" + mode + "' is not one of " + words);
}

void checkEndpointName(const std::string& name) {
    constexpr size_t maxName = rpmsg::NameSize - 1; // the kernel keeps the NUL
    if (name.empty() || name.size() > maxName || name.find('\0') != std::string::npos) {
        throw Error(ErrorCode::InvalidArgument, "Endpoint name '" + name + "' must be 1 to " +
                                                    std::to_string(maxName) + " bytes without NUL");
    }
}

void checkRemoteAddress(uint32_t address) {
    if (address == rpmsg::AddrAny) {
        throw Error(ErrorCode::InvalidArgument,
                    "Remote address 0xffffffff (ANY) cannot be written to; give the address of "
                    "the remote service");
    }
}

void checkLocalAddress(const std::optional<uint32_t>& address) {
    if (address && *address == rpmsg::AddrAny) {
        throw Error(ErrorCode::InvalidArgument, "local_address 0xffffffff is ANY; omit the option");
    }
}

void checkChannelName(const std::string& name) {
    if (name.empty()) {
        throw Error(ErrorCode::InvalidArgument, "The channel name is empty");
    }
}

} // namespace rpmsgd
