// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// The sim survives hostile clients and always leaves a clean mount table (docs/simulator.md
// "Command line": never leaves a stale mount; "A blocked read ... must honour signals").

#include "sim_fixture.h"

#include <cerrno>
#include <fcntl.h>
#include <random>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace simtest {
namespace {

class Robustness : public SimTest {};

TEST_F(Robustness, KilledBlockedReaderDoesNotHurtTheSim) {
    ASSERT_NO_FATAL_FAILURE(startEchoSim());
    ASSERT_NO_FATAL_FAILURE(bootProcessor(0));
    Fd ctrl = openCtrl();
    const auto dev = createEptDev(ctrl.get(), "victim", RPMSG_ADDR_ANY, 1024);
    ASSERT_FALSE(dev.empty());
    int ready[2];
    ASSERT_EQ(::pipe2(ready, O_CLOEXEC), 0);
    const std::string node = path("dev/" + dev);
    const pid_t child = ::fork();
    if (child == 0) {
        ::close(ready[0]);
        const int fd = ::open(node.c_str(), O_RDWR);
        const char ok = fd >= 0 ? 'y' : 'n';
        (void)!::write(ready[1], &ok, 1);
        char buf[64];
        (void)!::read(fd, buf, sizeof buf);
        ::_exit(3);
    }
    ASSERT_GT(child, 0);
    ::close(ready[1]);
    char ok = 0;
    ASSERT_EQ(::read(ready[0], &ok, 1), 1);
    ::close(ready[0]);
    ASSERT_EQ(ok, 'y');
    EXPECT_TRUE(waitFor([&] { return taskBlockedIn(child, child, SYS_read); }));
    ASSERT_EQ(::kill(child, SIGKILL), 0);
    int status = 0;
    const bool reaped = waitFor([&] { return ::waitpid(child, &status, WNOHANG) == child; }, 5s);
    EXPECT_TRUE(reaped) << "a SIGKILLed reader must not hang in the sim (FUSE interrupt)";
    if (!reaped) {
        sim().signal(SIGKILL);
        ::waitpid(child, &status, 0);
        return;
    }
    EXPECT_TRUE(WIFSIGNALED(status));
    EXPECT_TRUE(sim().alive());
    EXPECT_EQ(state(), "running");
    Fd again;
    EXPECT_TRUE(waitFor([&] {
        again.reset(::open(node.c_str(), O_RDWR | O_CLOEXEC));
        return again.valid();
    })) << "the eptdev must be reopenable once the killed reader is gone";
    ASSERT_EQ(::write(again.get(), "alive", 5), 5);
    EXPECT_EQ(readMessage(again.get()).data, "alive");
}

TEST_F(Robustness, GarbageToEveryWritableFileNeverKillsTheSim) {
    ASSERT_NO_FATAL_FAILURE(startEchoSim(
        echoSpec(), [](nlohmann::json& c) { c["processors"][0]["coredump"] = "enabled"; }));
    ASSERT_NO_FATAL_FAILURE(bootProcessor(0));
    ctlOk({"crash", "cm4"});
    ASSERT_TRUE(waitFor([&] { return exists("sys/class/devcoredump/devcd1"); }));

    std::mt19937 rng(12345);
    std::string random(70000, '\0');
    for (auto& ch : random) {
        ch = static_cast<char>(rng());
    }
    const std::vector<std::string> garbage = {
        std::string("\n"),
        std::string(1, '\0'),
        std::string("\xff\xfe\x00\x01", 4),
        "start\nstop\n",
        std::string("enabled\0junk", 12),
        "-1",
        "18446744073709551616",
        "%s%s%n%x",
        std::string(4096, 'A'),
        random,
        "[[[[[[[[",
        R"(["crash"])",
    };
    std::vector<std::string> targets;
    for (int n : {0, 1}) {
        for (const char* a : {"firmware", "state", "recovery", "coredump"}) {
            targets.push_back(rproc(n, a));
        }
        for (const char* a : {"recovery", "coredump", "crash"}) {
            targets.push_back(debugfs(n, a));
        }
    }
    for (const auto& d : listDir(path("sys/bus/rpmsg/devices"))) {
        targets.push_back(busDev(d, "driver_override"));
    }
    targets.push_back("sys/class/devcoredump/devcd1/data");
    targets.push_back("sys/class/devcoredump/disabled");
    targets.push_back(".rpmsg-sim/control");

    for (const auto& t : targets) {
        for (const auto& g : garbage) {
            if (!exists(t)) {
                break; // e.g. the devcd entry after the first write
            }
            writeAttr(t, g);
            ASSERT_TRUE(sim().alive())
                << "the sim died after a " << g.size() << "-byte write to " << t;
        }
        // Odd reads too.
        const int fd = ::open(path(t).c_str(), O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            char buf[8];
            (void)!::pread(fd, buf, sizeof buf, 1 << 20);
            (void)!::pread(fd, buf, 0, 3);
            ::close(fd);
        }
    }
    EXPECT_TRUE(sim().alive());
    EXPECT_TRUE(isMounted(sim().mountDir()));
    EXPECT_EQ(readAttr(rproc(1, "name")), "dsp\n");
    EXPECT_EQ(ctl({"dump"}).exitCode, 0);
}

TEST_F(Robustness, SigtermExitsZeroAndUnmounts) {
    ASSERT_NO_FATAL_FAILURE(startEchoSim());
    ASSERT_NO_FATAL_FAILURE(bootProcessor(0));
    Fd ctrl = openCtrl();
    const auto dev = createEptDev(ctrl.get(), "held", RPMSG_ADDR_ANY, 1024);
    Fd held = openDev(dev); // an open node must not keep the sim from exiting
    ASSERT_TRUE(isMounted(sim().mountDir()));
    sim().signal(SIGTERM);
    const auto status = sim().waitExit(10s);
    ASSERT_TRUE(status.has_value()) << "the sim did not exit on SIGTERM";
    EXPECT_TRUE(WIFEXITED(*status)) << "wait status " << *status;
    EXPECT_EQ(WEXITSTATUS(*status), 0);
    EXPECT_FALSE(isMounted(sim().mountDir()));
}

TEST_F(Robustness, SigintExitsZeroAndUnmounts) {
    ASSERT_NO_FATAL_FAILURE(startEchoSim());
    sim().signal(SIGINT);
    const auto status = sim().waitExit(10s);
    ASSERT_TRUE(status.has_value());
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << *status;
    EXPECT_FALSE(isMounted(sim().mountDir()));
}

TEST_F(Robustness, SigkillLeavesNoStaleMount) {
    ASSERT_NO_FATAL_FAILURE(startEchoSim());
    ASSERT_NO_FATAL_FAILURE(bootProcessor(0));
    sim().signal(SIGKILL);
    ASSERT_TRUE(sim().waitExit(5s).has_value());
    EXPECT_TRUE(waitFor([&] { return !isMounted(sim().mountDir()); }, 5s))
        << "auto_unmount must remove the mount of a killed sim";
}

TEST_F(Robustness, ManyOpenCloseCycles) {
    ASSERT_NO_FATAL_FAILURE(startEchoSim());
    ASSERT_NO_FATAL_FAILURE(bootProcessor(0));
    Fd ctrl = openCtrl();
    const auto dev = createEptDev(ctrl.get(), "cycle", RPMSG_ADDR_ANY, 1024);
    for (int i = 0; i < 200; ++i) {
        Fd fd;
        ASSERT_TRUE(waitFor([&] {
            fd.reset(::open(path("dev/" + dev).c_str(), O_RDWR | O_CLOEXEC));
            return fd.valid();
        })) << i
            << ": " << std::strerror(errno);
        const std::string m = "m" + std::to_string(i);
        ASSERT_EQ(::write(fd.get(), m.data(), m.size()), static_cast<ssize_t>(m.size()));
        ASSERT_EQ(readMessage(fd.get()).data, m) << i;
    }
    EXPECT_TRUE(sim().alive());
}

TEST_F(Robustness, UnknownArgumentsAreRefused) {
    const auto r = runCommand({simBinary(), sim().mountDir(), "--bogus-flag"}, 10s);
    EXPECT_NE(r.exitCode, 0);
    EXPECT_FALSE(r.err.empty());
    EXPECT_FALSE(isMounted(sim().mountDir()));
    const auto k = runCommand({simBinary(), sim().mountDir(), "--kernel", "4.19"}, 10s);
    EXPECT_NE(k.exitCode, 0);
    EXPECT_NE(k.err.find("4.19"), std::string::npos) << k.err;
    EXPECT_FALSE(isMounted(sim().mountDir()));
}

} // namespace
} // namespace simtest
