// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// Copying an upload (daemon/upload_copy.h): files whole from their start, pipes as data comes
// until their writer closes them, both within the limit; a file that grows past the limit, a
// pipe that never ends and an unreadable fd each give their errno.

#include "daemon/upload_copy.h"

#include <atomic>
#include <cerrno>
#include <fcntl.h>
#include <string>
#include <sys/mman.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

#include <gtest/gtest.h>

namespace {

using rpmsgd::copyUpload;
using rpmsgd::UploadCopy;

int memfdWith(const std::string& bytes) {
    int fd = memfd_create("upload", MFD_CLOEXEC);
    EXPECT_GE(fd, 0);
    EXPECT_EQ(::write(fd, bytes.data(), bytes.size()), ssize_t(bytes.size()));
    return fd;
}

std::string contents(int fd) {
    std::string out;
    char buf[65536];
    off_t off = 0;
    for (ssize_t n; (n = ::pread(fd, buf, sizeof buf, off)) > 0; off += n) {
        out.append(buf, size_t(n));
    }
    return out;
}

class UploadCopyTest : public ::testing::Test {
protected:
    UploadCopyTest() {
        // A file on a real filesystem, as the firmware directory is (copy_file_range from a
        // memfd falls back: the two are on different filesystems).
        char path[] = "/tmp/upload-copy-XXXXXX";
        dst_ = mkostemp(path, O_CLOEXEC);
        EXPECT_GE(dst_, 0);
        ::unlink(path);
    }
    ~UploadCopyTest() override { ::close(dst_); }
    int dst_ = -1;
};

TEST_F(UploadCopyTest, AFileIsCopiedWholeFromItsStart) {
    std::string image;
    for (int i = 0; i < 300000; ++i) {
        image += char('a' + i % 26);
    }
    const int src = memfdWith(image); // its offset is at the end: the sender's, not ours
    const UploadCopy c = copyUpload(src, dst_, 1 << 20, 1000);
    EXPECT_EQ(c.error, 0);
    EXPECT_EQ(c.bytes, image.size());
    EXPECT_TRUE(contents(dst_) == image);
    ::close(src);
}

TEST_F(UploadCopyTest, AFileOnTheSameFilesystemIsCopiedInTheKernel) {
    char path[] = "/tmp/upload-src-XXXXXX";
    const int src = mkostemp(path, O_CLOEXEC);
    ASSERT_GE(src, 0);
    ::unlink(path);
    const std::string image(5 << 20, 'k');
    ASSERT_EQ(::write(src, image.data(), image.size()), ssize_t(image.size()));
    const UploadCopy c = copyUpload(src, dst_, 8 << 20, 1000);
    EXPECT_EQ(c.error, 0);
    EXPECT_EQ(c.bytes, image.size());
    EXPECT_TRUE(contents(dst_) == image);
    ::close(src);
}

TEST_F(UploadCopyTest, AFileLargerThanTheLimitIsRefusedUncopied) {
    const int src = memfdWith(std::string(11, 'x'));
    const UploadCopy c = copyUpload(src, dst_, 10, 1000);
    EXPECT_EQ(c.error, EFBIG);
    EXPECT_FALSE(c.writing);
    EXPECT_EQ(c.bytes, 0u);
    ::close(src);
}

TEST_F(UploadCopyTest, AFileOfExactlyTheLimitIsCopied) {
    const int src = memfdWith(std::string(10, 'x'));
    const UploadCopy c = copyUpload(src, dst_, 10, 1000);
    EXPECT_EQ(c.error, 0);
    EXPECT_EQ(contents(dst_), std::string(10, 'x'));
    ::close(src);
}

TEST_F(UploadCopyTest, AFileThatGrowsPastTheLimitWhileCopiedIsRefused) {
    // A file within the limit when looked at, then written on while it is copied: its writer
    // runs until the copy has ended, so the copy meets the growth, whatever the timing.
    const int src = memfdWith(std::string(1 << 20, 'g'));
    std::atomic<bool> copying{true};
    std::thread grower([&] {
        const std::string more(1 << 16, 'm');
        off_t end = 1 << 20;
        while (copying && end < (64 << 20)) {
            ASSERT_EQ(::pwrite(src, more.data(), more.size(), end), ssize_t(more.size()));
            end += off_t(more.size());
        }
    });
    const UploadCopy c = copyUpload(src, dst_, 2 << 20, 1000);
    copying = false;
    grower.join();
    // Either the growth was met (EFBIG) or the copy ended first with what was there: never
    // more than the limit.
    if (c.error) {
        EXPECT_EQ(c.error, EFBIG);
    }
    EXPECT_LE(contents(dst_).size(), size_t(2 << 20) + (1 << 16));
    ::close(src);
}

TEST_F(UploadCopyTest, APipeIsCopiedAsDataComesUntilItsWriterCloses) {
    int p[2];
    ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
    std::string image;
    for (int i = 0; i < (5 << 20) / 10; ++i) {
        image += "0123456789";
    }
    std::thread writer([&] {
        size_t off = 0;
        while (off < image.size()) {
            ssize_t n =
                ::write(p[1], image.data() + off, std::min<size_t>(4096, image.size() - off));
            ASSERT_GT(n, 0);
            off += size_t(n);
        }
        ::close(p[1]);
    });
    const UploadCopy c = copyUpload(p[0], dst_, 8 << 20, 30000);
    writer.join();
    EXPECT_EQ(c.error, 0);
    EXPECT_EQ(c.bytes, image.size());
    EXPECT_TRUE(contents(dst_) == image);
    ::close(p[0]);
}

TEST_F(UploadCopyTest, APipeBeyondTheLimitIsCutOff) {
    int p[2];
    ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
    ASSERT_EQ(::write(p[1], "0123456789abcdef", 16), 16);
    const UploadCopy c = copyUpload(p[0], dst_, 15, 30000);
    EXPECT_EQ(c.error, EFBIG);
    EXPECT_FALSE(c.writing);
    ::close(p[0]);
    ::close(p[1]);
}

TEST_F(UploadCopyTest, APipeWhoseWriterNeverClosesTimesOut) {
    int p[2];
    ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
    ASSERT_EQ(::write(p[1], "part", 4), 4);
    const UploadCopy c = copyUpload(p[0], dst_, 100, 200);
    EXPECT_EQ(c.error, ETIMEDOUT);
    ::close(p[0]);
    ::close(p[1]);
}

TEST_F(UploadCopyTest, ASocketIsCopiedUntilItsPeerCloses) {
    int s[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s), 0);
    ASSERT_EQ(::write(s[1], "socket image", 12), 12);
    ::close(s[1]);
    const UploadCopy c = copyUpload(s[0], dst_, 100, 1000);
    EXPECT_EQ(c.error, 0);
    EXPECT_EQ(contents(dst_), "socket image");
    ::close(s[0]);
}

TEST_F(UploadCopyTest, AnUnreadableFdIsReportedWithItsErrno) {
    const int file = memfdWith("image");
    // The same file, opened for writing only.
    const int fd = ::open(("/proc/self/fd/" + std::to_string(file)).c_str(), O_WRONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    ::close(file);
    const UploadCopy c = copyUpload(fd, dst_, 100, 1000);
    EXPECT_EQ(c.error, EBADF);
    EXPECT_FALSE(c.writing);
    ::close(fd);
}

} // namespace
