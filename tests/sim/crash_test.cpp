// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// Crash, recovery and devcoredump (docs/kernel-abi.md §1.7, §1.8, §1.10, §4; docs/simulator.md
// "Crash").

#include "sim_fixture.h"

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <poll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace simtest {
namespace {

constexpr const char* kRproc0Dir = "sys/devices/platform/sim-cm4/remoteproc/remoteproc0";

class Crash : public SimTest {
protected:
    void boot(const std::function<void(nlohmann::json&)>& edit = nullptr,
              const nlohmann::json& spec = echoSpec()) {
        ASSERT_NO_FATAL_FAILURE(startEchoSim(spec, edit));
        ASSERT_NO_FATAL_FAILURE(bootProcessor(0));
    }

    long crashCount() {
        const auto p = processor();
        return p.is_object() && p["crash_count"].is_number() ? p["crash_count"].get<long>() : -1;
    }

    /// Recovery is over: the crash was counted, the processor runs, the channel is back.
    bool waitRecovered(long count) {
        return waitFor([&] {
            return crashCount() == count && state() == "running" &&
                   exists(busDev("virtio0.rpmsg-echo.-1.1024"));
        });
    }

    std::vector<std::string> devcds() {
        std::vector<std::string> out;
        for (const auto& n : listDir(path("sys/class/devcoredump"))) {
            if (n.rfind("devcd", 0) == 0) {
                out.push_back(n);
            }
        }
        return out;
    }
};

void enableCoredump(nlohmann::json& c, const char* how) {
    c["processors"][0]["coredump"] = how;
}

TEST_F(Crash, RecoveryRebuildsTheTreeAndKillsOldFds) {
    ASSERT_NO_FATAL_FAILURE(boot());
    Fd ctrl = openCtrl();
    const auto dev = createEptDev(ctrl.get(), "e", RPMSG_ADDR_ANY, 1024);
    Fd ept = openDev(dev);
    ASSERT_TRUE(ept.valid());

    ctlOk({"crash", "cm4"});
    ASSERT_TRUE(waitRecovered(1)) << "state " << state() << ", dump " << processor().dump();
    EXPECT_EQ(ioErrnos(ept.get()), std::make_pair(EPIPE, EPIPE));
    pollfd p{ept.get(), POLLIN, 0};
    EXPECT_EQ(::poll(&p, 1, 0), 1);
    EXPECT_EQ(p.revents, POLLERR);
    EXPECT_FALSE(exists("dev/" + dev));
    // The old ctrl fd still holds index 0, so the rebuilt ctrl device is rpmsg_ctrl1.
    EXPECT_FALSE(exists("dev/rpmsg_ctrl0"));
    EXPECT_TRUE(exists("dev/rpmsg_ctrl1"));
    EXPECT_EQ(processor()["ctrl"], "rpmsg_ctrl1");
    // Debugfs traces survive recovery.
    EXPECT_TRUE(exists(debugfs(0, "trace0")));
    // The rebuilt tree works.
    expectEcho("e2", 1024, "back");
}

TEST_F(Crash, DebugfsCrashTriggersRecovery) {
    ASSERT_NO_FATAL_FAILURE(boot());
    EXPECT_EQ(writeAttr(debugfs(0, "crash"), "1\n"), 0);
    EXPECT_TRUE(waitRecovered(1));
}

TEST_F(Crash, CrashWhileOfflineIsIgnored) {
    ASSERT_NO_FATAL_FAILURE(startEchoSim());
    ctl({"crash", "cm4"});
    EXPECT_EQ(writeAttr(debugfs(0, "crash"), "2"), 0);
    EXPECT_FALSE(waitFor([&] { return state() != "offline" || crashCount() != 0; }, 200ms))
        << state() << " crash_count " << crashCount();
}

TEST_F(Crash, CtlCrashTypes) {
    ASSERT_NO_FATAL_FAILURE(boot());
    long count = 0;
    for (const char* type : {"mmufault", "watchdog", "fatal", "0", "7"}) {
        ctlOk({"crash", "cm4", type});
        ASSERT_TRUE(waitRecovered(++count)) << type;
    }
    const auto bad = ctl({"crash", "cm4", "meltdown"});
    EXPECT_NE(bad.exitCode, 0);
    EXPECT_FALSE(bad.err.empty());
}

TEST_F(Crash, RecoveryDisabledStaysCrashedWithDevicesInPlace) {
    ASSERT_NO_FATAL_FAILURE(boot([](auto& c) { c["processors"][0]["recovery"] = "disabled"; }));
    Fd ctrl = openCtrl();
    const auto dev = createEptDev(ctrl.get(), "e", RPMSG_ADDR_ANY, 1024);
    Fd ept = openDev(dev, O_RDWR | O_NONBLOCK);
    ASSERT_TRUE(ept.valid());

    ctlOk({"crash", "cm4"});
    ASSERT_TRUE(waitFor([&] { return state() == "crashed"; }));
    EXPECT_EQ(crashCount(), 1);
    EXPECT_TRUE(exists("dev/rpmsg_ctrl0"));
    EXPECT_TRUE(exists("dev/" + dev));
    EXPECT_TRUE(exists(busDev("virtio0.rpmsg-echo.-1.1024")));
    EXPECT_TRUE(exists(debugfs(0, "trace0")));
    // The remote is dead: nothing is echoed, and TX buffers run out.
    const std::string payload(16, 'd');
    int ok = 0;
    int err = 0;
    for (; ok < 400; ++ok) {
        if (::write(ept.get(), payload.data(), payload.size()) != 16) {
            err = errno;
            break;
        }
    }
    EXPECT_EQ(ok, 256);
    EXPECT_EQ(err, EAGAIN);
    char buf[32];
    errno = 0;
    EXPECT_EQ(::read(ept.get(), buf, sizeof buf), -1);
    EXPECT_EQ(errno, EAGAIN);
    // Only the first crash counts.
    ctlOk({"crash", "cm4"});
    EXPECT_EQ(state(), "crashed");
    EXPECT_EQ(crashCount(), 1);

    // `recover` is synchronous: running when the write returns.
    ASSERT_EQ(writeAttr(rproc(0, "recovery"), "recover\n"), 0);
    EXPECT_EQ(state(), "running");
    EXPECT_EQ(readAttr(rproc(0, "recovery")), "disabled\n");
    errno = 0;
    EXPECT_EQ(::read(ept.get(), buf, sizeof buf), -1);
    EXPECT_EQ(errno, EPIPE);
    EXPECT_TRUE(waitFor([&] { return exists(busDev("virtio0.rpmsg-echo.-1.1024")); }));
}

TEST_F(Crash, WritingEnabledRecoversACrashedProcessor) {
    ASSERT_NO_FATAL_FAILURE(boot([](auto& c) { c["processors"][0]["recovery"] = "disabled"; }));
    ctlOk({"crash", "cm4"});
    ASSERT_TRUE(waitFor([&] { return state() == "crashed"; }));
    ASSERT_EQ(writeAttr(rproc(0, "recovery"), "enabled"), 0);
    EXPECT_EQ(state(), "running");
    EXPECT_EQ(readAttr(rproc(0, "recovery")), "enabled\n");
}

TEST_F(Crash, WritesWhileCrashed) {
    ASSERT_NO_FATAL_FAILURE(boot([](auto& c) { c["processors"][0]["recovery"] = "disabled"; }));
    ctlOk({"crash", "cm4"});
    ASSERT_TRUE(waitFor([&] { return state() == "crashed"; }));
    EXPECT_EQ(writeAttr(rproc(0, "coredump"), "enabled\n"), EBUSY);
    EXPECT_EQ(writeAttr(rproc(0, "coredump"), "disabled"), EBUSY);
    EXPECT_EQ(writeAttr(rproc(0, "coredump"), "bogus"), EBUSY) << "the state is checked first";
    EXPECT_EQ(writeAttr(debugfs(0, "coredump"), "enabled"), EBUSY);
    EXPECT_EQ(writeAttr(rproc(0, "firmware"), "other.elf"), EBUSY);
    EXPECT_EQ(readAttr(rproc(0, "coredump")), "disabled\n");
    EXPECT_EQ(state(), "crashed");
    // stop works on a crashed processor (stable 6.1.188, 6.12.110; rproc-conformance checks
    // it on the kernel).
    EXPECT_EQ(writeAttr(rproc(0, "state"), "stop"), 0);
    EXPECT_EQ(state(), "offline");
}

TEST_F(Crash, RecoveryFailsWhenFirmwareFileIsGone) {
    ASSERT_NO_FATAL_FAILURE(boot());
    std::filesystem::remove(sim().firmwareDir() + "/echo.elf");
    ctlOk({"crash", "cm4"});
    EXPECT_TRUE(waitFor([&] { return crashCount() == 1 && state() == "offline"; })) << state();
    EXPECT_FALSE(exists("dev/rpmsg_ctrl0"));
}

TEST_F(Crash, CrashAfterMessagesFromFirmware) {
    auto spec = echoSpec();
    spec["crash_after_messages"] = 3;
    ASSERT_NO_FATAL_FAILURE(boot(nullptr, spec));
    Fd ctrl = openCtrl();
    const auto dev = createEptDev(ctrl.get(), "e", RPMSG_ADDR_ANY, 1024);
    Fd ept = openDev(dev, O_RDWR | O_NONBLOCK);
    for (int i = 0; i < 2; ++i) {
        ASSERT_EQ(::write(ept.get(), "m", 1), 1);
    }
    EXPECT_FALSE(waitFor([&] { return crashCount() != 0; }, 200ms));
    ASSERT_EQ(::write(ept.get(), "m", 1), 1);
    EXPECT_TRUE(waitRecovered(1));
}

TEST_F(Crash, NoDevcoredumpWhenCoredumpDisabled) {
    ASSERT_NO_FATAL_FAILURE(boot());
    ctlOk({"crash", "cm4"});
    ASSERT_TRUE(waitRecovered(1));
    EXPECT_TRUE(devcds().empty()) << ::testing::PrintToString(devcds());
    EXPECT_FALSE(exists(rproc(0, "devcoredump")));
}

TEST_F(Crash, DevcoredumpIsAnElfCoreAndAnyWriteDismissesIt) {
    ASSERT_NO_FATAL_FAILURE(boot([](auto& c) { enableCoredump(c, "enabled"); }));
    ctlOk({"crash", "cm4"});
    ASSERT_TRUE(waitFor([&] { return exists("sys/class/devcoredump/devcd1"); }))
        << ::testing::PrintToString(listDir(path("sys/class/devcoredump")));
    EXPECT_TRUE(waitRecovered(1)) << "`enabled` does not hold recovery back";

    const std::string cd = "sys/class/devcoredump/devcd1";
    EXPECT_TRUE(isSymlink(cd));
    EXPECT_EQ(resolved(cd), "sys/devices/virtual/devcoredump/devcd1");
    EXPECT_EQ(mode(cd + "/data"), 0600u);
    struct stat st {};
    ASSERT_EQ(::stat(path(cd + "/data").c_str(), &st), 0);
    EXPECT_EQ(st.st_size, 0) << "a bin attribute of size 0";
    EXPECT_TRUE(isSymlink(cd + "/failing_device"));
    EXPECT_EQ(resolved(cd + "/failing_device"), kRproc0Dir);
    EXPECT_TRUE(isSymlink(rproc(0, "devcoredump")));
    EXPECT_EQ(resolved(rproc(0, "devcoredump")), "sys/devices/virtual/devcoredump/devcd1");

    const auto data = readFile(path(cd + "/data"), 64 << 20);
    ASSERT_EQ(data.err, 0);
    ASSERT_GE(data.data.size(), 52u);
    EXPECT_EQ(data.data.substr(0, 4), "\x7f"
                                      "ELF");
    EXPECT_EQ(static_cast<uint8_t>(data.data[4]), 1) << "ELFCLASS32 like the firmware";
    const auto u16 = [&](size_t off) {
        return static_cast<uint16_t>(static_cast<uint8_t>(data.data[off]) |
                                     (static_cast<uint8_t>(data.data[off + 1]) << 8));
    };
    EXPECT_EQ(u16(16), 4) << "e_type ET_CORE";
    EXPECT_EQ(u16(18), 40) << "e_machine of the firmware (EM_ARM)";

    const auto d = dump();
    ASSERT_EQ(d["devcoredumps"].size(), 1u) << d.dump();
    EXPECT_EQ(d["devcoredumps"][0]["device"], "devcd1");
    EXPECT_EQ(d["devcoredumps"][0]["processor"], "remoteproc0");
    EXPECT_EQ(d["devcoredumps"][0]["size"].get<size_t>(), data.data.size());

    EXPECT_EQ(writeAttr(cd + "/data", "whatever"), 0);
    EXPECT_TRUE(waitFor([&] { return !exists(cd) && !exists(rproc(0, "devcoredump")); }));
    EXPECT_TRUE(dump()["devcoredumps"].empty());
}

TEST_F(Crash, DevcdNumbersAreNeverReused) {
    ASSERT_NO_FATAL_FAILURE(boot([](auto& c) { enableCoredump(c, "enabled"); }));
    ctlOk({"crash", "cm4"});
    ASSERT_TRUE(waitFor([&] { return exists("sys/class/devcoredump/devcd1"); }));
    ASSERT_TRUE(waitRecovered(1));
    ASSERT_EQ(writeAttr("sys/class/devcoredump/devcd1/data", "1"), 0);
    ASSERT_TRUE(waitFor([&] { return devcds().empty(); }));
    ctlOk({"crash", "cm4"});
    EXPECT_TRUE(waitFor([&] { return exists("sys/class/devcoredump/devcd2"); }))
        << ::testing::PrintToString(devcds());
    EXPECT_FALSE(exists("sys/class/devcoredump/devcd1"));
}

TEST_F(Crash, OnePendingDumpPerDevice) {
    ASSERT_NO_FATAL_FAILURE(boot([](auto& c) { enableCoredump(c, "enabled"); }));
    ctlOk({"crash", "cm4"});
    ASSERT_TRUE(waitRecovered(1));
    ASSERT_TRUE(waitFor([&] { return exists("sys/class/devcoredump/devcd1"); }));
    ctlOk({"crash", "cm4"});
    ASSERT_TRUE(waitRecovered(2));
    EXPECT_EQ(devcds(), (std::vector<std::string>{"devcd1"}));
}

TEST_F(Crash, InlineCoredumpHoldsRecoveryUntilDismissed) {
    ASSERT_NO_FATAL_FAILURE(boot([](auto& c) { enableCoredump(c, "inline"); }));
    ctlOk({"crash", "cm4"});
    ASSERT_TRUE(waitFor([&] { return exists("sys/class/devcoredump/devcd1"); }));
    // Recovery waits: not running, no channels, for as long as the dump is pending.
    EXPECT_FALSE(waitFor(
        [&] { return state() == "running" || exists(busDev("virtio0.rpmsg-echo.-1.1024")); },
        500ms))
        << "recovery went on although the inline dump was not dismissed";
    const auto data = readFile(path("sys/class/devcoredump/devcd1/data"), 64 << 20);
    EXPECT_EQ(data.err, 0);
    EXPECT_EQ(data.data.substr(0, 4), "\x7f"
                                      "ELF");
    ASSERT_EQ(writeAttr("sys/class/devcoredump/devcd1/data", "done\n"), 0);
    EXPECT_TRUE(waitRecovered(1));
    EXPECT_TRUE(waitFor([&] { return devcds().empty(); }));
}

TEST_F(Crash, InlineCoredumpBlocksTheRecoverWriter) {
    ASSERT_NO_FATAL_FAILURE(boot([](auto& c) {
        c["processors"][0]["recovery"] = "disabled";
        enableCoredump(c, "inline");
    }));
    ctlOk({"crash", "cm4"});
    ASSERT_TRUE(waitFor([&] { return state() == "crashed"; }));
    EXPECT_TRUE(devcds().empty()) << "no dump before recovery runs";
    int rc = -2;
    auto bg = background([&] { rc = writeFile(path(rproc(0, "recovery")), "recover"); });
    ASSERT_TRUE(waitFor([&] { return exists("sys/class/devcoredump/devcd1"); }));
    EXPECT_FALSE(bg->waitDone(300ms)) << "the recover write must wait for the dismissal";
    ASSERT_EQ(writeAttr("sys/class/devcoredump/devcd1/data", "x"), 0);
    ASSERT_TRUE(bg->waitDone(5s));
    EXPECT_EQ(rc, 0);
    EXPECT_EQ(state(), "running");
}

TEST_F(Crash, DevcoredumpDisabledSwitch) {
    ASSERT_NO_FATAL_FAILURE(boot([](auto& c) { enableCoredump(c, "enabled"); }));
    const std::string sw = "sys/class/devcoredump/disabled";
    EXPECT_EQ(readAttr(sw), "0\n");
    EXPECT_EQ(mode(sw), 0644u);
    for (const char* v : {"2", "0", "abc", "-1"}) {
        EXPECT_EQ(writeAttr(sw, v), EINVAL) << v;
    }
    EXPECT_EQ(readAttr(sw), "0\n");
    ctlOk({"crash", "cm4"});
    ASSERT_TRUE(waitFor([&] { return exists("sys/class/devcoredump/devcd1"); }));
    ASSERT_TRUE(waitRecovered(1));
    // Writing 1 disables dumps for good and frees the pending ones.
    EXPECT_EQ(writeAttr(sw, "1\n"), 0);
    EXPECT_EQ(readAttr(sw), "1\n");
    EXPECT_TRUE(waitFor([&] { return devcds().empty(); }));
    ctlOk({"crash", "cm4"});
    ASSERT_TRUE(waitRecovered(2));
    EXPECT_TRUE(devcds().empty());
}

} // namespace
} // namespace simtest
