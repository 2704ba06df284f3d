// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// Watch modes. Poll mode is the fixture default (every other test relies on it); here udev mode:
// the sim sends kernel-format uevents (--uevents, only inside a private network namespace), and
// rpmsgd, with poll and state intervals far too long to explain anything, must still publish a
// channel announced after it started within 2 s. The whole environment runs in a forked child
// that unshared its network namespace; it reports "ok" or what went wrong.

#include "fixture.h"

#include <cerrno>
#include <cstring>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

namespace itest {
namespace {

using Clock = std::chrono::steady_clock;

// Runs in the child. Returns the report lines.
std::string udevScenario() {
    if (::unshare(CLONE_NEWNET) != 0) {
        return std::string("skip unshare(CLONE_NEWNET): ") + std::strerror(errno);
    }
    DaemonEnv env;
    EnvOptions options;
    options.uevents = true;
    options.editConfig = [](nlohmann::json& c) {
        c["watch"] = {{"mode", "udev"}, {"poll_interval_ms", 60000}, {"state_interval_ms", 60000}};
    };
    if (auto e = env.start(options); !e.empty()) {
        return "fail environment: " + e;
    }
    std::string report;
    try {
        Client c;
        c.start(c.getProcessor("cm4"));
        // The channels come ~20 ms after the start returned: only a uevent can tell rpmsgd.
        const CallError first = errorOf([&] { c.waitForChannel("rpmsg-echo", "cm4", 2000); });
        if (!first.ok()) {
            report += "fail rpmsg-echo after start: " + first.str() + "\n";
        }
        if (auto e = env.ctl({"announce", "cm4", "late-svc", "1100"}); !e.empty()) {
            return "fail " + e;
        }
        const auto t0 = Clock::now();
        std::string path;
        const CallError late = errorOf([&] { path = c.waitForChannel("late-svc", "", 2000); });
        const auto ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
        if (!late.ok()) {
            report += "fail late-svc not published within 2 s: " + late.str() + "\n";
        } else if (c.get<std::string>(path, ChannelIface, "Name") != "late-svc") {
            report += "fail wrong channel " + path + "\n";
        } else {
            report += "late-svc after " + std::to_string(ms) + " ms\n";
        }
        // And its removal too.
        if (auto e = env.ctl({"destroy", "cm4", "late-svc", "1100"}); !e.empty()) {
            return "fail " + e;
        }
        const bool gone = simtest::waitFor(
            [&] {
                for (const auto& ch : c.listChannels()) {
                    if (ch.name == "late-svc") {
                        return false;
                    }
                }
                return true;
            },
            2s, 10ms);
        if (!gone) {
            report += "fail late-svc still published 2 s after its destroy\n";
        }
    } catch (const sdbus::Error& e) {
        report += "fail " + e.getName() + ": " + e.getMessage() + "\n";
    }
    if (report.find("fail") != std::string::npos) {
        report += env.logs();
    }
    return report.empty() ? "fail no report" : report;
}

TEST(Watcher, UdevModePublishesChannelsFromUevents) {
    if (auto reason = skipReason(); !reason.empty()) {
        GTEST_SKIP() << reason;
    }
    Child child(Cred{0, 0, {0}}, [](ChildIo& io) {
        io.send(udevScenario());
        return 0;
    });
    const std::string out = child.readAll(120s);
    const auto status = child.wait(30s);
    ASSERT_TRUE(status.has_value()) << out;
    if (out.rfind("skip", 0) == 0) {
        GTEST_SKIP() << out;
    }
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << *status << "\n" << out;
    EXPECT_EQ(out.find("fail"), std::string::npos) << out;
    EXPECT_NE(out.find("late-svc after"), std::string::npos) << out;
}

} // namespace
} // namespace itest
