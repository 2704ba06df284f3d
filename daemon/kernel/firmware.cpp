// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "daemon/kernel/firmware.h"

#include "daemon/kernel/error.h"
#include "daemon/kernel/sysfs.h"

#include <cerrno>
#include <span>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <vector>

namespace rpmsgd::kernel {

namespace {

void checkName(const std::string& name) {
    bool ok = !name.empty() && name.front() != '/' && name.find('\n') == std::string::npos &&
              name.find('\0') == std::string::npos;
    size_t start = 0;
    while (ok && start <= name.size()) {
        const size_t slash = name.find('/', start);
        const std::string_view part = std::string_view(name).substr(
            start, slash == std::string::npos ? std::string::npos : slash - start);
        ok = detail::isPlainName(part);
        if (slash == std::string::npos) {
            break;
        }
        start = slash + 1;
    }
    if (!ok) {
        throw rpmsgd::Error::invalidArgument(
            "invalid firmware name '" + name +
            "': expected a relative path without '.' or '..' components");
    }
}

bool isRegularFile(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

} // namespace

std::optional<std::string> locateFirmware(const Paths& paths, const std::string& name) {
    checkName(name);
    std::vector<std::string> dirs;
    // The loader's custom path is an absolute path of the real system, used as given.
    auto custom = detail::readFile(paths.sysfs + "/module/firmware_class/parameters/path", 4096);
    if (custom.err == 0) {
        std::string dir = detail::chomp(std::move(custom.data));
        if (!dir.empty()) {
            dirs.push_back(std::move(dir));
        }
    }
    struct utsname uts {};
    const std::string release = ::uname(&uts) == 0 ? uts.release : "";
    dirs.push_back(paths.firmware + "/updates/" + release);
    dirs.push_back(paths.firmware + "/updates");
    dirs.push_back(paths.firmware + "/" + release);
    dirs.push_back(paths.firmware);
    for (auto& dir : dirs) {
        dir += '/';
        dir += name;
        if (isRegularFile(dir)) {
            return dir;
        }
    }
    return std::nullopt;
}

CheckedFirmware checkFirmware(const Paths& paths, const std::string& name, size_t maxBytes) {
    auto path = locateFirmware(paths, name);
    if (!path) {
        throw KernelError(ENOENT, "firmware " + name + " not found in " + paths.firmware,
                          ErrorCode::NotFound);
    }
    auto r = detail::readFile(*path, maxBytes);
    if (r.err != 0) {
        throw KernelError("read " + *path, r.err);
    }
    if (r.truncated) {
        throw KernelError(EFBIG,
                          "read " + *path + ": larger than " + std::to_string(maxBytes) + " bytes",
                          ErrorCode::InvalidFirmware);
    }
    const auto* bytes = reinterpret_cast<const uint8_t*>(r.data.data());
    auto parsed = fw::parse(std::span<const uint8_t>(bytes, r.data.size()));
    if (!parsed) {
        throw rpmsgd::Error::invalidFirmware(name + ": " + parsed.problem.message);
    }
    return CheckedFirmware{*path, std::move(*parsed.image)};
}

} // namespace rpmsgd::kernel
