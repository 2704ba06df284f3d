// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// The fault matrix (issue 6): what happens to rpmsgd, its clients and the kernel endpoints when
// things go wrong around them. Each case says what must survive and asserts it; the table in
// docs/reliability.md points here.

#include "fixture.h"

#include <dirent.h>
#include <fcntl.h>
#include <filesystem>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace itest {
namespace {

namespace fs = std::filesystem;

/// @brief Files in @p dir (names), "." entries included only when @p hidden.
std::vector<std::string> filesIn(const std::string& dir, bool hidden = true) {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
        const std::string name = e.path().filename();
        if (hidden || name[0] != '.') {
            out.push_back(name);
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

class Faults : public DaemonTest {
protected:
    void TearDown() override {
        for (auto it = mounts_.rbegin(); it != mounts_.rend(); ++it) {
            ::umount2(it->c_str(), MNT_DETACH);
        }
        DaemonTest::TearDown();
    }

    /// @brief Mounts a tmpfs of @p bytes at @p dir (created); fails the test on error.
    void smallTmpfs(const std::string& dir, size_t bytes) {
        fs::create_directories(dir);
        const std::string opts = "size=" + std::to_string(bytes) + ",mode=0755";
        ASSERT_EQ(::mount("tmpfs", dir.c_str(), "tmpfs", 0, opts.c_str()), 0)
            << "mount tmpfs on " << dir << ": " << errnoName(errno);
        mounts_.push_back(dir);
    }

    /// @brief Answers a Version call and still runs.
    void expectResponsive() {
        EXPECT_TRUE(env().daemonAlive()) << env().logs();
        Client fresh;
        EXPECT_EQ(fresh.version(), root().version());
    }

    std::vector<std::string> mounts_;
};

// ---- rpmsgd killed -----------------------------------------------------------------------------

TEST_F(Faults, DaemonKilledWhileClientsHoldEndpoints) {
    // Survives: the clients (their fds fail with EPIPE once the new instance sweeps the stale
    // endpoints, and they can open again). Nothing left behind: no kernel endpoint of the
    // killed instance outlives the restart.
    const std::string echo = startCm4();
    Opened mine = root().open(echo);
    Child other(NobodyChannelUser, [echo](ChildIo& io) {
        Client c;
        Opened ep = c.open(echo);
        io.send("first " + roundTrip(ep.fd.get(), "a"));
        io.recv(); // the daemon is killed and restarted meanwhile
        io.send("old fd " + errnoName(sendMsg(ep.fd.get(), "b")));
        Client again; // a new connection, as an application would reconnect
        Opened ep2 = again.open(again.waitForChannel("rpmsg-echo", "cm4", 5000));
        io.send("reopened " + roundTrip(ep2.fd.get(), "c"));
        io.recv();
        return 0;
    });
    ASSERT_EQ(other.readLine().value_or("<nothing>"), "first a");
    ASSERT_EQ(simtest::eptdevNames(env().sim()).size(), 2u);

    env().killDaemon();
    EXPECT_EQ(roundTrip(mine.fd.get(), "still"), "still")
        << "the endpoint works while no daemon runs (the daemon is not in the data path)";
    root_.reset();
    ASSERT_EQ(env().startDaemon(), "");
    root_ = std::make_unique<Client>();
    EXPECT_TRUE(simtest::waitFor([&] { return simtest::eptdevNames(env().sim()).empty(); }, 5s))
        << "stale endpoints of the killed rpmsgd survived its restart";
    EXPECT_EQ(sendMsg(mine.fd.get(), "x"), EPIPE);

    other.writeLine("go");
    EXPECT_EQ(other.readLine().value_or("<nothing>"), "old fd EPIPE");
    EXPECT_EQ(other.readLine().value_or("<nothing>"), "reopened c");
    EXPECT_EQ(simtest::eptdevNames(env().sim()).size(), 1u);
    other.writeLine("done");
    ASSERT_TRUE(other.wait().has_value());
    EXPECT_TRUE(simtest::waitFor([&] { return simtest::eptdevNames(env().sim()).empty(); }, 5s))
        << "the child left; its endpoint must go with it";
}

class FaultsNoServiceManager : public Faults {
    void configure(EnvOptions& o) override { o.serviceManager = false; }
};

TEST_F(FaultsNoServiceManager, DaemonKilledWhileAClientHoldsAnEndpoint) {
    // Without a service manager's fd store the new instance cannot reach an endpoint its
    // client still holds (an eptdev has one opener): it is destroyed as soon as that client
    // closes it, and until then it keeps working for that client.
    const std::string echo = startCm4();
    Opened held = root().open(echo);
    const std::string dev = root().get<std::string>(held.endpoint, EndpointIface, "Device");
    env().killDaemon();
    root_.reset();
    ASSERT_EQ(env().startDaemon(), "");
    root_ = std::make_unique<Client>();
    EXPECT_EQ(roundTrip(held.fd.get(), "held"), "held");
    EXPECT_NE(env().daemonLog().find(dev), std::string::npos)
        << "the log must name the endpoint it could not destroy yet";
    held.fd.reset();
    EXPECT_TRUE(simtest::waitFor([&] { return !existsInMount("dev/" + dev); }, 5s))
        << dev << " outlived its last holder\n"
        << env().sim().dump().dump(1) << env().daemonLog();
    expectResponsive();
}

TEST_F(Faults, TheFdStoreHoldsOneCopyPerLiveEndpoint) {
    ServiceManager* manager = env().serviceManager();
    ASSERT_NE(manager, nullptr);
    const std::string echo = startCm4();
    Opened a = root().open(echo);
    Opened b = root().open(echo);
    EXPECT_TRUE(simtest::waitFor([&] { return manager->stored() == 2; }, 5s));
    root().close(a.endpoint);
    EXPECT_TRUE(simtest::waitFor([&] { return manager->stored() == 1; }, 5s));
    root_.reset();
    ASSERT_TRUE(env().stopDaemon().has_value());
    // The manager's thread may not have read the last FDSTOREREMOVE yet.
    EXPECT_TRUE(simtest::waitFor([&] { return manager->stored() == 0; }, 5s))
        << "a clean stop ends every endpoint and empties the store";
    const auto messages = manager->messages();
    auto has = [&](const std::string& text) {
        return std::any_of(messages.begin(), messages.end(),
                           [&](const std::string& m) { return m.find(text) != std::string::npos; });
    };
    EXPECT_TRUE(has("READY=1"));
    EXPECT_TRUE(has("STOPPING=1"));
}

// ---- rpmsg-sim (the kernel) killed or unmounted -------------------------------------------------

TEST_F(Faults, SimKilledUnderTheDaemonThenBack) {
    // Survives: rpmsgd (no crash, answers calls), and it finds the processors again when the
    // kernel interfaces come back. Nothing left behind: objects of vanished processors, and
    // the daemon's fds (its copies of the endpoints, its ctrl fds) are back to the baseline.
    const std::string echo = startCm4();
    const int baseline = simtest::openFds(env().daemonPid());
    ASSERT_GT(baseline, 0);
    Opened ep = root().open(echo);
    const std::string cm4Path = cm4();
    SignalRecorder rec;

    env().sim().signal(SIGKILL);
    ASSERT_TRUE(env().sim().waitExit(5s).has_value());
    EXPECT_TRUE(rec.waitFor([&](const Signal& s) { return s.isRemoved(ep.endpoint); }, 10s))
        << rec.describe();
    EXPECT_TRUE(rec.waitFor([&](const Signal& s) { return s.isRemoved(cm4Path); }, 10s))
        << rec.describe();
    expectResponsive();
    EXPECT_TRUE(root().listProcessors().empty());
    EXPECT_TRUE(root().listChannels().empty());
    EXPECT_DBUS_ERROR(errorOf([&] { root().close(ep.endpoint); }), err::UnknownObject);

    simtest::SimOptions again;
    again.config = simtest::defaultConfig("echo.elf");
    std::string error;
    ASSERT_TRUE(env().sim().start(again, error)) << error << "\n" << env().sim().log();
    EXPECT_TRUE(simtest::waitFor([&] { return root().listProcessors().size() == 2; }, 10s))
        << env().logs();
    const std::string echo2 = startCm4();
    {
        Opened ep2 = root().open(echo2);
        EXPECT_EQ(roundTrip(ep2.fd.get(), "back"), "back");
        root().close(ep2.endpoint);
    }
    EXPECT_TRUE(
        simtest::waitFor([&] { return simtest::openFds(env().daemonPid()) <= baseline; }, 5s))
        << "rpmsgd holds " << simtest::openFds(env().daemonPid()) << " fds, " << baseline
        << " before";
}

TEST_F(Faults, SimUnmountedUnderTheDaemon) {
    // The mount disappears (lazy unmount) while the sim process lives on: rpmsgd sees empty
    // directories where sysfs was, drops everything, and keeps serving.
    const std::string echo = startCm4();
    Opened ep = root().open(echo);
    const std::string cm4Path = cm4();
    SignalRecorder rec;
    ASSERT_EQ(::umount2(env().sim().mountDir().c_str(), MNT_DETACH), 0) << errnoName(errno);
    EXPECT_TRUE(rec.waitFor([&](const Signal& s) { return s.isRemoved(cm4Path); }, 10s))
        << rec.describe();
    expectResponsive();
    EXPECT_TRUE(root().listProcessors().empty());
    EXPECT_DBUS_ERROR(errorOf([&] { root().waitForChannel("rpmsg-echo", "", 100); }), err::Timeout);
}

// ---- hot-removed processor --------------------------------------------------------------------

TEST_F(Faults, ProcessorHotRemovedWithOpenEndpointsThenAddedBack) {
    // Survives: rpmsgd and the other processor. Ends: the endpoints, channels and object of
    // the removed processor (InterfacesRemoved; the client's fd fails with EPIPE).
    const std::string echo = startCm4();
    Opened ep = root().open(echo);
    const std::string cm4Path = cm4();
    SignalRecorder rec;
    ctlOk({"remove-processor", "cm4"});
    EXPECT_TRUE(rec.waitFor([&](const Signal& s) { return s.isRemoved(ep.endpoint); }))
        << rec.describe();
    EXPECT_TRUE(rec.waitFor([&](const Signal& s) { return s.isRemoved(echo); })) << rec.describe();
    EXPECT_TRUE(rec.waitFor([&](const Signal& s) { return s.isRemoved(cm4Path); }))
        << rec.describe();
    EXPECT_EQ(sendMsg(ep.fd.get(), "gone"), EPIPE);
    EXPECT_DBUS_ERROR(errorOf([&] { root().getProcessor("cm4"); }), err::NotFound);
    EXPECT_EQ(root().listProcessors().size(), 1u);
    EXPECT_TRUE(simtest::eptdevNames(env().sim()).empty());

    ctlOk({"add-processor", "cm4", "echo.elf"});
    std::string back;
    EXPECT_TRUE(simtest::waitFor(
        [&] { return errorOf([&] { back = root().getProcessor("cm4"); }).ok(); }, 5s));
    root().start(back);
    Opened ep2 = root().open(root().waitForChannel("rpmsg-echo", "cm4", 5000));
    EXPECT_EQ(roundTrip(ep2.fd.get(), "again"), "again");
}

// ---- crash loop --------------------------------------------------------------------------------

class FaultsCrashLoop : public Faults {
    void configure(EnvOptions& o) override {
        o.editConfig = [](nlohmann::json& c) {
            c["processors"] =
                nlohmann::json::array({{{"match", "cm4"},
                                        {"recovery", "disabled"},
                                        {"restart", {{"max_crashes", 3}, {"window_s", 300}}}}});
        };
    }
};

TEST_F(FaultsCrashLoop, TheDaemonRestartsUntilTheLimitThenLeavesItStopped) {
    const std::string p = cm4();
    ASSERT_TRUE(simtest::waitFor(
        [&] { return root().get<std::string>(p, ProcessorIface, "Recovery") == "disabled"; }, 5s));
    startCm4();
    SignalRecorder rec;
    for (uint32_t n = 1; n <= 2; ++n) {
        ctlOk({"crash", "cm4"});
        EXPECT_TRUE(rec.waitFor([&](const Signal& s) {
            return s.member == "Crashed" && s.path == p && s.count == n;
        })) << rec.describe();
        // Restarted by the daemon's policy: running, with its channel published again.
        EXPECT_TRUE(simtest::waitFor(
            [&] {
                return simProcessor()["state"] == "running" &&
                       errorOf([&] { root().waitForChannel("rpmsg-echo", "cm4", 0); }).ok();
            },
            5s))
            << "crash " << n << ": " << simProcessor().dump() << env().daemonLog();
    }
    ctlOk({"crash", "cm4"});
    EXPECT_TRUE(rec.waitFor([&](const Signal& s) {
        return s.member == "Crashed" && s.path == p && s.count == 3;
    })) << rec.describe();
    EXPECT_TRUE(simtest::waitFor(
        [&] {
            return root().get<std::string>(p, ProcessorIface, "LastError").find("crash loop") !=
                   std::string::npos;
        },
        5s));
    const std::string lastError = root().get<std::string>(p, ProcessorIface, "LastError");
    EXPECT_NE(lastError.find("3 crashes"), std::string::npos) << lastError;
    EXPECT_NE(lastError.find("max_crashes"), std::string::npos) << lastError;
    // Left alone: no fourth start, even after a few state polls.
    std::this_thread::sleep_for(300ms);
    EXPECT_EQ(simProcessor()["state"], "crashed");
    EXPECT_EQ(root().get<uint32_t>(p, ProcessorIface, "CrashCount"), 3u);
    // A manager can still take over: Recover boots it.
    root().recover(p);
    EXPECT_TRUE(simtest::waitFor([&] { return simProcessor()["state"] == "running"; }, 5s));
}

// ---- full disk -------------------------------------------------------------------------------

TEST_F(Faults, FullDiskWhileStoringUploadedFirmware) {
    // Survives: the firmware setting in effect, the daemon. Left behind: nothing (no partial
    // file). The caller gets Internal naming the file and ENOSPC.
    const std::string p = cm4();
    const std::string uploads = env().firmwareDir() + "/rpmsgd";
    ASSERT_NO_FATAL_FAILURE(smallTmpfs(uploads, 8192));
    nlohmann::json big = echoFirmwareSpec();
    for (int i = 0; i < 200; ++i) { // the behaviour (and its trace lines) are in the image
        big["trace"].push_back("line " + std::to_string(i) + " " + std::string(100, 'x'));
    }
    ASSERT_EQ(env().sim().mkfw("big.elf", big).exitCode, 0);
    simtest::Fd f(::open((env().firmwareDir() + "/big.elf").c_str(), O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(f.valid());
    struct stat st {};
    ASSERT_EQ(::fstat(f.get(), &st), 0);
    ASSERT_GT(st.st_size, 8192) << "the test image must not fit the 8 KiB tmpfs";
    const auto e = errorOf([&] { root().loadFirmware(p, f.get(), "big.elf"); });
    EXPECT_DBUS_ERROR(e, "org.rpmsgd.Broker1.Error.Internal");
    EXPECT_NE(e.message.find("ENOSPC"), std::string::npos) << e.message;
    EXPECT_NE(e.message.find("big.elf"), std::string::npos) << e.message;
    EXPECT_TRUE(filesIn(uploads).empty()) << "left behind: " << filesIn(uploads).front();
    EXPECT_EQ(root().get<std::string>(p, ProcessorIface, "Firmware"), "echo.elf");
    EXPECT_EQ(simProcessor()["firmware"], "echo.elf");
    expectResponsive();
}

class FaultsFullCoreDisk : public Faults {
    void configure(EnvOptions& o) override {
        // A core holds the loaded segment, trace buffer included: 64 KiB > the 4 KiB tmpfs.
        o.firmware["image"]["trace_len"] = 65536;
        o.simConfig["processors"][0]["coredump"] = "inline";
        o.simConfig["processors"][0]["recovery"] = "enabled";
    }
};

TEST_F(FaultsFullCoreDisk, FullDiskWhileStoringACoredump) {
    // Survives: the kernel's recovery (an inline dump is still dismissed, so it completes),
    // the crash accounting and the daemon. Left behind: no partial core file.
    const std::string cores = env().root() + "/state/coredumps";
    ASSERT_NO_FATAL_FAILURE(smallTmpfs(cores, 4096));
    const std::string p = cm4();
    startCm4();
    SignalRecorder rec;
    ctlOk({"crash", "cm4"});
    auto crashed = rec.waitFor([&](const Signal& s) { return s.member == "Crashed"; }, 10s);
    ASSERT_TRUE(crashed.has_value()) << rec.describe();
    EXPECT_EQ(crashed->coredump, "");
    EXPECT_TRUE(simtest::waitFor(
        [&] {
            return simProcessor()["state"] == "running" &&
                   env().sim().dump()["devcoredumps"].empty();
        },
        10s))
        << "the inline dump must be dismissed so the recovery completes: " << env().sim().dump();
    EXPECT_EQ(root().get<uint32_t>(p, ProcessorIface, "CrashCount"), 1u);
    EXPECT_EQ(root().get<std::string>(p, ProcessorIface, "LastCoredump"), "");
    EXPECT_TRUE(filesIn(cores).empty()) << "left behind: " << filesIn(cores).front();
    EXPECT_NE(env().daemonLog().find("No space left on device"), std::string::npos);
    expectResponsive();
}

// ---- misbehaving clients ---------------------------------------------------------------------

TEST_F(Faults, ClientFloodingOpensThenVanishing) {
    // A client fires 500 Opens without waiting for replies, then exits. Survives: other
    // clients are served meanwhile; the flooder gets at most its endpoint quota. Left behind:
    // nothing once it is gone (no kernel endpoint, no daemon fd).
    const std::string echo = startCm4();
    const int baseline = simtest::openFds(env().daemonPid());
    Child flooder(NobodyChannelUser, [echo](ChildIo& io) {
        Client c;
        auto proxy = c.proxy(echo);
        for (int i = 0; i < 500; ++i) {
            auto call = proxy->createMethodCall(ChannelIface, "Open");
            call << std::map<std::string, sdbus::Variant>{};
            call.dontExpectReply();
            proxy->callMethod(call);
        }
        io.send("sent");
        io.recv();
        return 0;
    });
    ASSERT_EQ(flooder.readLine().value_or("<nothing>"), "sent");
    // Meanwhile another client is served.
    Opened ep = root().open(echo);
    EXPECT_EQ(roundTrip(ep.fd.get(), "served"), "served");
    // The flooder holds at most its quota (32 by default) plus nothing else.
    EXPECT_TRUE(simtest::waitFor(
        [&] { return root().get<uint32_t>(echo, ChannelIface, "Endpoints") >= 2; }, 5s));
    EXPECT_LE(root().get<uint32_t>(echo, ChannelIface, "Endpoints"), 33u);
    flooder.writeLine("bye");
    ASSERT_TRUE(flooder.wait().has_value());
    EXPECT_TRUE(simtest::waitFor(
        [&] { return root().get<uint32_t>(echo, ChannelIface, "Endpoints") == 1; }, 10s));
    EXPECT_EQ(simtest::eptdevNames(env().sim()).size(), 1u);
    root().close(ep.endpoint);
    EXPECT_TRUE(
        simtest::waitFor([&] { return simtest::openFds(env().daemonPid()) <= baseline; }, 5s))
        << "rpmsgd holds " << simtest::openFds(env().daemonPid()) << " fds, " << baseline
        << " before";
    expectResponsive();
}

TEST_F(Faults, ClientDisconnectingMidUpload) {
    // LoadFirmware reading from a pipe whose writer (the client) dies halfway. Survives: the
    // daemon and the firmware setting. Left behind: no temporary file, no fd.
    const std::string p = cm4();
    const int baseline = simtest::openFds(env().daemonPid());
    Child uploader(NobodyManager, [p](ChildIo& io) {
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0) {
            return 1;
        }
        Client c;
        auto proxy = c.proxy(p);
        auto call = proxy->createMethodCall(ProcessorIface, "LoadFirmware");
        call << sdbus::UnixFd(fds[0]) << std::string("half.elf");
        call.dontExpectReply();
        proxy->callMethod(call);
        (void)!::write(fds[1],
                       "\x7f"
                       "ELF",
                       4);
        io.send("started");
        io.recv(); // killed here
        return 0;
    });
    ASSERT_EQ(uploader.readLine().value_or("<nothing>"), "started");
    std::this_thread::sleep_for(100ms); // let rpmsgd start reading
    uploader.kill(SIGKILL);
    ASSERT_TRUE(uploader.wait().has_value());
    EXPECT_TRUE(
        simtest::waitFor([&] { return simtest::openFds(env().daemonPid()) <= baseline; }, 5s))
        << "rpmsgd holds " << simtest::openFds(env().daemonPid()) << " fds, " << baseline
        << " before";
    EXPECT_TRUE(filesIn(env().firmwareDir() + "/rpmsgd").empty());
    EXPECT_EQ(root().get<std::string>(p, ProcessorIface, "Firmware"), "echo.elf");
    expectResponsive();
}

TEST_F(Faults, ClientThatNeverReadsItsFd) {
    // The rpmsg-sensor stream sends 100 messages a second to a client that never reads.
    // Survives: other clients of the same remote and the daemon, which is not in the data
    // path. Left behind: nothing once the client closes.
    startCm4();
    const std::string sensor = root().waitForChannel("rpmsg-sensor", "cm4", 5000);
    const std::string echo = root().waitForChannel("rpmsg-echo", "cm4", 5000);
    Opened lazy = root().open(sensor);
    ASSERT_EQ(sendMsg(lazy.fd.get(), "subscribe"), 0); // the stream goes to its last writer
    std::this_thread::sleep_for(500ms);                // ~50 messages pile up unread
    Client other;
    Opened busy = other.open(echo);
    for (int i = 0; i < 20; ++i) {
        ASSERT_EQ(roundTrip(busy.fd.get(), "m" + std::to_string(i)), "m" + std::to_string(i));
    }
    expectResponsive();
    other.close(busy.endpoint);
    root().close(lazy.endpoint);
    EXPECT_TRUE(simtest::waitFor([&] { return simtest::eptdevNames(env().sim()).empty(); }, 5s));
}

} // namespace
} // namespace itest
