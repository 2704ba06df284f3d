// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// The upload reader (daemon/upload_reader.h) on a real sd-event loop: files are read whole from
// their start at once, pipes as data comes, both within the limit, and nothing is left pending
// when the reader stops.

#include "common/scheduler.h"
#include "daemon/upload_reader.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <optional>
#include <string>
#include <sys/mman.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <gtest/gtest.h>
#include <systemd/sd-event.h>

namespace {

using rpmsgd::UploadReader;

struct Outcome {
    int error = -1;
    std::string data;
};

class UploadReaderTest : public ::testing::Test {
protected:
    UploadReaderTest() {
        EXPECT_EQ(sd_event_new(&event_), 0);
        scheduler_.emplace(event_);
    }
    ~UploadReaderTest() override {
        reader_.reset();
        scheduler_.reset();
        sd_event_unref(event_);
    }
    UploadReader& reader(uint64_t maxBytes) {
        reader_.emplace(event_, *scheduler_, maxBytes);
        return *reader_;
    }
    UploadReader::Done record() {
        return [this](int error, std::vector<uint8_t> data) {
            ASSERT_FALSE(outcome_) << "done ran twice";
            outcome_ = Outcome{error, std::string(data.begin(), data.end())};
        };
    }
    // Runs the loop until the read is done.
    Outcome wait() {
        while (!outcome_) {
            EXPECT_GE(sd_event_run(event_, UINT64_MAX), 0);
        }
        return *outcome_;
    }

    static int memfdWith(const std::string& bytes) {
        int fd = memfd_create("upload", MFD_CLOEXEC);
        EXPECT_GE(fd, 0);
        EXPECT_EQ(::write(fd, bytes.data(), bytes.size()), ssize_t(bytes.size()));
        return fd;
    }

    sd_event* event_ = nullptr;
    std::optional<rpmsgd::Scheduler> scheduler_;
    std::optional<UploadReader> reader_;
    std::optional<Outcome> outcome_;
};

TEST_F(UploadReaderTest, AFileIsReadWholeFromItsStartAtOnce) {
    const std::string image(200000, 'f');
    int fd = memfdWith(image); // its offset is at the end: the sender's business, not ours
    reader(1 << 20).read(fd, record());
    ASSERT_TRUE(outcome_) << "a file is read before read() returns";
    EXPECT_EQ(outcome_->error, 0);
    EXPECT_EQ(outcome_->data, image);
}

TEST_F(UploadReaderTest, AFileLargerThanTheLimitIsRefusedUnread) {
    reader(10).read(memfdWith(std::string(11, 'x')), record());
    ASSERT_TRUE(outcome_);
    EXPECT_EQ(outcome_->error, EFBIG);
    EXPECT_TRUE(outcome_->data.empty());
}

TEST_F(UploadReaderTest, AFileOfExactlyTheLimitIsRead) {
    reader(10).read(memfdWith(std::string(10, 'x')), record());
    ASSERT_TRUE(outcome_);
    EXPECT_EQ(outcome_->error, 0);
    EXPECT_EQ(outcome_->data, std::string(10, 'x'));
}

TEST_F(UploadReaderTest, APipeIsReadAsDataComesUntilItsWriterCloses) {
    int p[2];
    ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
    // More than one wake-up's worth (64 reads of 64 KiB), written while the loop reads.
    std::string image;
    for (int i = 0; i < (5 << 20) / 10; ++i) {
        image += "0123456789";
    }
    reader(8 << 20).read(p[0], record());
    EXPECT_FALSE(outcome_) << "a pipe is read from the loop";
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
    Outcome o = wait();
    writer.join();
    EXPECT_EQ(o.error, 0);
    EXPECT_EQ(o.data.size(), image.size());
    EXPECT_TRUE(o.data == image);
}

TEST_F(UploadReaderTest, APipeBeyondTheLimitIsCutOff) {
    int p[2];
    ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
    ASSERT_EQ(::write(p[1], "0123456789abcdef", 16), 16);
    reader(15).read(p[0], record());
    Outcome o = wait();
    EXPECT_EQ(o.error, EFBIG);
    ::close(p[1]);
}

TEST_F(UploadReaderTest, StoppingEndsPendingReads) {
    int p[2];
    ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
    reader(100).read(p[0], record());
    EXPECT_FALSE(outcome_);
    reader_->abortAll();
    ASSERT_TRUE(outcome_);
    EXPECT_EQ(outcome_->error, ESHUTDOWN);
    // The read end was closed with the upload: the writer sees EPIPE.
    signal(SIGPIPE, SIG_IGN);
    EXPECT_EQ(::write(p[1], "x", 1), -1);
    EXPECT_EQ(errno, EPIPE);
    ::close(p[1]);
}

TEST_F(UploadReaderTest, AnUnreadableFdIsReportedWithItsErrno) {
    int file = memfdWith("image");
    // The same file, opened for writing only.
    int fd = ::open(("/proc/self/fd/" + std::to_string(file)).c_str(), O_WRONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    ::close(file);
    reader(100).read(fd, record());
    ASSERT_TRUE(outcome_);
    EXPECT_EQ(outcome_->error, EBADF);
}

} // namespace
