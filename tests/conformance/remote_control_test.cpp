// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// The host side of the real-kernel target's remote-control protocol (README.md), against a
// fake remote on a pty: one JSON array of strings per line out, one JSON object per line back,
// other lines ignored, a timeout when nothing comes. No root, no kernel, no sim.

#include "target.h"

#include <cerrno>
#include <cstring>
#include <poll.h>
#include <pty.h>
#include <string>
#include <thread>
#include <unistd.h>

#include <gtest/gtest.h>

namespace conformance {
namespace {

using namespace std::chrono_literals;

class RemoteControlProtocol : public ::testing::Test {
protected:
    void SetUp() override {
        int slave = -1;
        char name[256] = {};
        ASSERT_EQ(::openpty(&master_, &slave, name, nullptr, nullptr), 0) << std::strerror(errno);
        slaveName_ = name;
        slave_ = slave; // keeps the pty up between the target's commands
        std::string error;
        target_ = makeKernelTarget(slaveName_, 2s, error);
        ASSERT_TRUE(target_) << error;
    }
    void TearDown() override {
        if (responder_.joinable()) {
            responder_.join();
        }
        target_.reset();
        ::close(master_);
        ::close(slave_);
    }

    /// The fake remote: reads one request line, then writes @p reply verbatim.
    void answer(std::string reply) {
        responder_ = std::thread([this, reply = std::move(reply)] {
            std::string line;
            char c = 0;
            while (true) {
                pollfd p{master_, POLLIN, 0};
                if (::poll(&p, 1, 5000) != 1 || ::read(master_, &c, 1) != 1 || c == '\n') {
                    break;
                }
                line.push_back(c);
            }
            request_ = line;
            if (!reply.empty()) {
                (void)!::write(master_, reply.data(), reply.size());
            }
        });
    }

    int master_ = -1;
    int slave_ = -1;
    std::string slaveName_;
    std::unique_ptr<RpmsgTarget> target_;
    std::thread responder_;
    std::string request_;
};

TEST_F(RemoteControlProtocol, OneJsonArrayOutOneJsonObjectBack) {
    answer("{\"ok\":true,\"output\":\"1025\\n\"}\n");
    const auto r = target_->remote({"announce", "rpmsg-raw", "96"});
    responder_.join();
    // Raw mode: no echo, and no CR added to the newline.
    EXPECT_EQ(request_, R"(["announce","rpmsg-raw","96"])");
    EXPECT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.output, "1025\n");
}

TEST_F(RemoteControlProtocol, ErrorReplyAfterNoiseLines) {
    answer("\r\nguest console noise\r\n{\"ok\":false,\"error\":\"no message has reached service "
           "80 yet\"}\r\n");
    const auto r = target_->remote({"peer", "80"});
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.error, "no message has reached service 80 yet");
    EXPECT_TRUE(r.output.empty());
}

TEST_F(RemoteControlProtocol, MalformedReplyFails) {
    answer("{\"output\":\"no ok field\"}\n");
    const auto r = target_->remote({"ping"});
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.error.find("malformed"), std::string::npos) << r.error;
}

TEST_F(RemoteControlProtocol, NoReplyTimesOut) {
    answer("");
    const auto t0 = std::chrono::steady_clock::now();
    const auto r = target_->remote({"ping"});
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.error.find("no reply"), std::string::npos) << r.error;
    EXPECT_GE(std::chrono::steady_clock::now() - t0, 1900ms);
    EXPECT_NE(target_->log().find("> [\"ping\"]"), std::string::npos) << target_->log();
}

TEST_F(RemoteControlProtocol, KernelTargetPathsAreTheRealOnes) {
    EXPECT_EQ(target_->path("sys/bus/rpmsg/devices"), "/sys/bus/rpmsg/devices");
    EXPECT_EQ(target_->name(), "kernel");
    EXPECT_FALSE(target_->has(Quirk::ZeroLengthReadKeepsMessage));
}

} // namespace
} // namespace conformance
