// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "store.h"

#include "dbus/errors.h"
#include "validation.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace rpmsgd {

namespace {

void makeDirs(const std::string& path, mode_t mode) {
    std::string cur;
    size_t pos = 0;
    while (pos <= path.size()) {
        size_t end = path.find('/', pos);
        if (end == std::string::npos) {
            end = path.size();
        }
        cur = path.substr(0, end);
        if (!cur.empty() && mkdir(cur.c_str(), mode) != 0 && errno != EEXIST) {
            throw Error(ErrorCode::Internal, kernelErrorMessage("create directory " + cur, errno));
        }
        pos = end + 1;
    }
}

} // namespace

Store::Store(std::string stateDir, std::string firmwareDir)
    : coreDir_(std::move(stateDir) + "/coredumps"), uploadDir_(std::move(firmwareDir) + "/rpmsgd") {
}

bool Store::validUploadName(const std::string& name) {
    if (name.empty() || name.size() > 200 || name[0] == '.') {
        return false;
    }
    return std::all_of(name.begin(), name.end(), [](char c) {
        return isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
    });
}

void Store::writeAtomically(const std::string& dir, const std::string& file,
                            std::span<const uint8_t> data, uint32_t mode) {
    writeAtomically(dir, file, mode, [&](int fd, const std::string& target) {
        size_t done = 0;
        while (done < data.size()) {
            ssize_t n = ::write(fd, data.data() + done, data.size() - done);
            if (n < 0) {
                if (errno == EINTR) {
                    continue;
                }
                throw Error(ErrorCode::Internal, kernelErrorMessage("write " + target, errno));
            }
            done += size_t(n);
        }
    });
}

void Store::writeAtomically(const std::string& dir, const std::string& file, uint32_t mode,
                            const Fill& fill) {
    makeDirs(dir, 0755);
    // A unique name: uploads of one name may be written at once (on the Worker).
    std::string tmp = dir + "/." + file + ".tmp-XXXXXX";
    int fd = mkostemp(tmp.data(), O_CLOEXEC);
    if (fd < 0) {
        throw Error(ErrorCode::Internal, kernelErrorMessage("create " + tmp, errno));
    }
    const std::string target = dir + "/" + file;
    int err = fchmod(fd, mode) != 0 ? errno : 0;
    if (!err) {
        try {
            fill(fd, target);
        } catch (...) {
            ::close(fd);
            unlink(tmp.c_str()); // nothing half-written stays behind
            throw;
        }
    }
    if (!err && fsync(fd) != 0) {
        err = errno;
    }
    if (::close(fd) != 0 && !err) {
        err = errno;
    }
    if (!err && rename(tmp.c_str(), target.c_str()) != 0) {
        err = errno;
    }
    if (err) {
        unlink(tmp.c_str()); // a full disk must not leave a partial file behind
        throw Error(ErrorCode::Internal, kernelErrorMessage("write " + target, err));
    }
}

std::string Store::saveCoredump(const std::string& processorId, std::span<const uint8_t> data,
                                uint32_t keep) {
    if (keep == 0) {
        return "";
    }
    char stamp[32];
    time_t now = time(nullptr);
    struct tm tm {};
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    std::string file = processorId + "-" + stamp + "-" + std::to_string(getpid()) + "-" +
                       std::to_string(++counter_) + ".core";
    writeAtomically(coreDir_, file, data, 0600);

    // Retention: keep the newest `keep` cores of this processor.
    struct Saved {
        std::string name;
        timespec mtime;
    };
    std::vector<Saved> mine;
    if (DIR* d = opendir(coreDir_.c_str())) {
        while (dirent* e = readdir(d)) {
            std::string n = e->d_name;
            if (n.rfind(processorId + "-", 0) == 0 && n.size() > 5 &&
                n.compare(n.size() - 5, 5, ".core") == 0) {
                struct stat st {};
                if (stat((coreDir_ + "/" + n).c_str(), &st) == 0) {
                    mine.push_back({n, st.st_mtim});
                }
            }
        }
        closedir(d);
    }
    std::sort(mine.begin(), mine.end(), [](const Saved& a, const Saved& b) {
        if (a.mtime.tv_sec != b.mtime.tv_sec) {
            return a.mtime.tv_sec > b.mtime.tv_sec;
        }
        if (a.mtime.tv_nsec != b.mtime.tv_nsec) {
            return a.mtime.tv_nsec > b.mtime.tv_nsec;
        }
        return a.name > b.name;
    });
    for (size_t i = keep; i < mine.size(); ++i) {
        unlink((coreDir_ + "/" + mine[i].name).c_str());
    }
    return coreDir_ + "/" + file;
}

std::string Store::storeFirmwareFrom(const std::string& name, const Fill& fill) {
    checkUploadName(name);
    writeAtomically(uploadDir_, name, 0644, fill);
    return "rpmsgd/" + name;
}

} // namespace rpmsgd
