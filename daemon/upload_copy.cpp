// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "upload_copy.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <fcntl.h>
#include <poll.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace rpmsgd {

namespace {

constexpr size_t ChunkBytes = 1 << 20; ///< for read and write
constexpr size_t StepBytes = 1 << 30;  ///< the most one copy_file_range or sendfile is asked

// Writes all of @p n bytes of @p buf to @p fd; 0 or an errno.
int writeAll(int fd, const uint8_t* buf, size_t n) {
    while (n > 0) {
        const ssize_t w = ::write(fd, buf, n);
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            return errno;
        }
        buf += w;
        n -= size_t(w);
    }
    return 0;
}

// Whether a copy_file_range or sendfile error means "not between these two": try the next way.
bool unsupported(int error) {
    return error == EXDEV || error == EINVAL || error == ENOSYS || error == EOPNOTSUPP ||
           error == ENOTSUP || error == EBADF || error == ESPIPE;
}

// A file: from its start, in the kernel when it can. One byte more than the limit is asked for,
// so a file that grows past the limit while it is copied is caught.
UploadCopy copyFile(int src, int dst, uint64_t maxBytes) {
    UploadCopy r;
    enum class Way { CopyFileRange, Sendfile, ReadWrite } way = Way::CopyFileRange;
    std::vector<uint8_t> buf;
    off_t off = 0;
    for (;;) {
        const uint64_t want = std::min<uint64_t>(StepBytes, maxBytes + 1 - r.bytes);
        ssize_t n = 0;
        if (way == Way::CopyFileRange) {
            n = ::copy_file_range(src, &off, dst, nullptr, want, 0);
            if (n < 0 && errno != EINTR && unsupported(errno) && r.bytes == 0) {
                way = Way::Sendfile;
                continue;
            }
        } else if (way == Way::Sendfile) {
            n = ::sendfile(dst, src, &off, want);
            if (n < 0 && errno != EINTR && unsupported(errno) && r.bytes == 0) {
                way = Way::ReadWrite;
                continue;
            }
        } else {
            buf.resize(ChunkBytes);
            n = ::pread(src, buf.data(), std::min<uint64_t>(want, buf.size()), off);
            if (n > 0) {
                if (int e = writeAll(dst, buf.data(), size_t(n))) {
                    return UploadCopy{e, true, r.bytes};
                }
                off += n;
            }
        }
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            // copy_file_range and sendfile do not tell a read error from a write error: the
            // ones only a write gives (a full disk, a quota, a file too large for the
            // filesystem) are ours.
            const int e = errno;
            const bool ours = e == ENOSPC || e == EDQUOT || e == EFBIG;
            return UploadCopy{e, ours, r.bytes};
        }
        if (n == 0) {
            return r;
        }
        r.bytes += uint64_t(n);
        if (r.bytes > maxBytes) {
            return UploadCopy{EFBIG, false, r.bytes};
        }
    }
}

// A pipe or socket: as data comes, until its writer closes it, within the timeout. splice
// would save one copy for a pipe; a pipe's data comes from the sender's own write(), so the
// copy through our buffer is the smaller cost.
UploadCopy copyStream(int src, int dst, uint64_t maxBytes, uint64_t timeoutMs) {
    UploadCopy r;
    const int flags = fcntl(src, F_GETFL);
    if (flags >= 0 && !(flags & O_NONBLOCK)) {
        fcntl(src, F_SETFL, flags | O_NONBLOCK);
    }
    const auto giveUp = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
    std::vector<uint8_t> buf(ChunkBytes);
    for (;;) {
        const ssize_t n = ::read(src, buf.data(), buf.size());
        if (n > 0) {
            r.bytes += uint64_t(n);
            if (r.bytes > maxBytes) {
                return UploadCopy{EFBIG, false, r.bytes};
            }
            if (int e = writeAll(dst, buf.data(), size_t(n))) {
                return UploadCopy{e, true, r.bytes};
            }
            continue;
        }
        if (n == 0) {
            return r;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno != EAGAIN) {
            return UploadCopy{errno, false, r.bytes};
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                              giveUp - std::chrono::steady_clock::now())
                              .count();
        if (left <= 0) {
            return UploadCopy{ETIMEDOUT, false, r.bytes};
        }
        pollfd p{src, POLLIN, 0};
        if (::poll(&p, 1, int(std::min<long long>(left, 1000))) < 0 && errno != EINTR) {
            return UploadCopy{errno, false, r.bytes};
        }
    }
}

} // namespace

UploadCopy copyUpload(int src, int dst, uint64_t maxBytes, uint64_t timeoutMs) {
    struct stat st {};
    if (fstat(src, &st) != 0) {
        return UploadCopy{errno, false, 0};
    }
    if (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode)) {
        if (S_ISREG(st.st_mode) && uint64_t(st.st_size) > maxBytes) {
            return UploadCopy{EFBIG, false, 0};
        }
        return copyFile(src, dst, maxBytes);
    }
    return copyStream(src, dst, maxBytes, timeoutMs);
}

} // namespace rpmsgd
