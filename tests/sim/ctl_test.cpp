// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// `rpmsg-sim ctl`: every command, errors, the dump format and the control file protocol; and
// hot-plug (sim README "Control").

#include "sim_fixture.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace simtest {
namespace {

class Ctl : public SimTest {
protected:
    void up() override { ASSERT_NO_FATAL_FAILURE(startEchoSim()); }

    static void expectOneLineError(const CommandResult& r, const std::string& what) {
        EXPECT_EQ(r.exitCode, 1) << what;
        EXPECT_FALSE(r.err.empty()) << what << ": no message on stderr";
        if (!r.err.empty()) {
            EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << what << ": '" << r.err << "'";
        }
    }
};

TEST_F(Ctl, BadCommandsAndArgumentsFail) {
    expectOneLineError(ctl({"frobnicate"}), "unknown command");
    expectOneLineError(ctl({"crash", "nope"}), "unknown processor");
    expectOneLineError(ctl({"stall", "remoteproc9"}), "unknown processor id");
    expectOneLineError(ctl({"crash"}), "missing processor");
    expectOneLineError(ctl({"announce", "cm4", "svc"}), "missing address");
    expectOneLineError(ctl({"announce", "cm4", "svc", "notanumber"}), "bad address");
    expectOneLineError(ctl({"send", "cm4", "1024"}), "missing arguments");
    expectOneLineError(ctl({"remove-processor", "nope"}), "unknown processor");
    const auto none = ctl({});
    EXPECT_NE(none.exitCode, 0);
}

TEST_F(Ctl, CtlOnADirectoryWithoutSimFails) {
    TempDir other;
    const auto r = runCommand({simBinary(), "ctl", other.path(), "dump"});
    EXPECT_NE(r.exitCode, 0);
    EXPECT_FALSE(r.err.empty());
}

TEST_F(Ctl, ProcessorByIdOrName) {
    ASSERT_NO_FATAL_FAILURE(bootProcessor(0));
    ctlOk({"stall", "remoteproc0"});
    EXPECT_EQ(processor()["stalled"], true);
    ctlOk({"resume", "cm4"});
    EXPECT_EQ(processor()["stalled"], false);
}

TEST_F(Ctl, DumpMatchesTheDocumentedFormat) {
    ASSERT_NO_FATAL_FAILURE(bootProcessor(0));
    Fd ctrl = openCtrl();
    const auto dev = createEptDev(ctrl.get(), "x", RPMSG_ADDR_ANY, 1024);
    Fd ept = openDev(dev);
    ASSERT_EQ(::write(ept.get(), "hi", 2), 2);
    ASSERT_EQ(readMessage(ept.get()).data, "hi");

    const auto d = dump();
    ASSERT_TRUE(d.is_object()) << d.dump();
    EXPECT_EQ(d["kernel"], "6.6");
    ASSERT_TRUE(d["processors"].is_array());
    ASSERT_EQ(d["processors"].size(), 2u);
    const auto& p = d["processors"][0];
    EXPECT_EQ(p["id"], "remoteproc0");
    EXPECT_EQ(p["name"], "cm4");
    EXPECT_EQ(p["state"], "running");
    EXPECT_EQ(p["firmware"], "echo.elf");
    EXPECT_EQ(p["recovery"], "enabled");
    EXPECT_EQ(p["coredump"], "disabled");
    EXPECT_EQ(p["crash_count"], 0);
    EXPECT_EQ(p["power"], 1);
    EXPECT_EQ(p["stalled"], false);
    EXPECT_EQ(p["virtio"], "virtio0");
    EXPECT_EQ(p["ctrl"], "rpmsg_ctrl0");
    EXPECT_TRUE(p["tx_buffers_in_use"].is_number_integer());
    ASSERT_TRUE(p["channels"].is_array());
    ASSERT_EQ(p["channels"].size(), 1u);
    EXPECT_EQ(p["channels"][0]["name"], "rpmsg-echo");
    EXPECT_EQ(p["channels"][0]["addr"], 1024);
    EXPECT_EQ(p["channels"][0]["device"], "virtio0.rpmsg-echo.-1.1024");
    ASSERT_TRUE(p["endpoints"].is_array());
    bool found = false;
    for (const auto& e : p["endpoints"]) {
        if (e.value("eptdev", "") == dev) {
            found = true;
            EXPECT_GE(e["addr"].get<long>(), 1024);
        }
    }
    EXPECT_TRUE(found) << p["endpoints"].dump();

    const auto& q = d["processors"][1];
    EXPECT_EQ(q["id"], "remoteproc1");
    EXPECT_EQ(q["state"], "offline");
    EXPECT_TRUE(q["virtio"].is_null());
    EXPECT_TRUE(q["ctrl"].is_null());

    ASSERT_TRUE(d["eptdevs"].is_array());
    ASSERT_EQ(d["eptdevs"].size(), 1u);
    const auto& e = d["eptdevs"][0];
    EXPECT_EQ(e["device"], dev);
    EXPECT_EQ(e["processor"], "remoteproc0");
    EXPECT_EQ(e["name"], "x");
    EXPECT_EQ(e["src"], -1);
    EXPECT_EQ(e["dst"], 1024);
    EXPECT_EQ(e["alive"], true);
    EXPECT_EQ(e["open"], true);
    EXPECT_TRUE(e["addr"].is_number_integer());
    EXPECT_EQ(e["queued"], 0);
    EXPECT_TRUE(d["devcoredumps"].is_array());
    EXPECT_TRUE(d["devcoredumps"].empty());
    ASSERT_TRUE(d["stats"].is_object());
    EXPECT_GE(d["stats"]["messages_to_remote"].get<long>(), 1);
    EXPECT_GE(d["stats"]["messages_to_linux"].get<long>(), 1);
    EXPECT_TRUE(d["stats"]["dropped"].is_number_integer());
}

TEST_F(Ctl, SendToAnAddressWithoutEndpointIsDropped) {
    ASSERT_NO_FATAL_FAILURE(bootProcessor(0));
    const long before = dump()["stats"]["dropped"].get<long>();
    ctlOk({"send", "cm4", "1024", "4999", "lost"});
    EXPECT_TRUE(waitFor([&] { return dump()["stats"]["dropped"].get<long>() == before + 1; }));
}

TEST_F(Ctl, ControlFileProtocol) {
    EXPECT_EQ(mode(".rpmsg-sim/control"), 0600u);
    const auto ask = [&](const std::string& request) {
        const int fd = ::open(path(".rpmsg-sim/control").c_str(), O_RDWR | O_CLOEXEC);
        EXPECT_GE(fd, 0) << std::strerror(errno);
        if (fd < 0) {
            return std::string();
        }
        EXPECT_EQ(::write(fd, request.data(), request.size()),
                  static_cast<ssize_t>(request.size()));
        // The reply is read from offset 0 (the write moved the file offset).
        std::string reply;
        char buf[4096];
        ssize_t n;
        while ((n = ::pread(fd, buf, sizeof buf, static_cast<off_t>(reply.size()))) > 0) {
            reply.append(buf, static_cast<size_t>(n));
        }
        ::close(fd);
        return reply;
    };
    const auto ok = ask(R"(["dump"])");
    ASSERT_EQ(ok.rfind("ok\n", 0), 0u) << ok;
    const auto parsed = nlohmann::json::parse(ok.substr(3), nullptr, false);
    ASSERT_FALSE(parsed.is_discarded()) << ok;
    EXPECT_EQ(parsed["processors"].size(), 2u);
    EXPECT_EQ(ask(R"(["bogus"])").rfind("error: ", 0), 0u);
    EXPECT_NE(ask("this is not json").rfind("ok", 0), 0u);
    EXPECT_EQ(ask(R"({"crash": "cm4"})").rfind("error: ", 0), 0u);
    EXPECT_EQ(ask(R"(["crash","nope"])").rfind("error: ", 0), 0u);
}

// ---- hot-plug -------------------------------------------------------------------------------

TEST_F(Ctl, AddProcessorIsOfflineWithKernelDefaults) {
    ctlOk({"add-processor", "m7"});
    ASSERT_TRUE(exists(rproc(2)));
    EXPECT_EQ(readAttr(rproc(2, "name")), "m7\n");
    EXPECT_EQ(readAttr(rproc(2, "state")), "offline\n");
    EXPECT_EQ(readAttr(rproc(2, "firmware")), "rproc-m7-fw\n");
    EXPECT_EQ(readAttr(rproc(2, "recovery")), "enabled\n");
    EXPECT_EQ(readAttr(rproc(2, "coredump")), "disabled\n");
    EXPECT_EQ(resolved(rproc(2)), "sys/devices/platform/sim-m7/remoteproc/remoteproc2");
    EXPECT_TRUE(isDir(debugfs(2)));
    EXPECT_EQ(processor("remoteproc2")["name"], "m7");
}

TEST_F(Ctl, AddProcessorWithFirmwareBoots) {
    ctlOk({"add-processor", "m7", "echo.elf"});
    EXPECT_EQ(readAttr(rproc(2, "firmware")), "echo.elf\n");
    ASSERT_NO_FATAL_FAILURE(bootProcessor(2, 0));
    EXPECT_EQ(resolved(classRpmsg("rpmsg_ctrl0")),
              "sys/devices/platform/sim-m7/remoteproc/remoteproc2/rproc-virtio.0.auto/virtio0/"
              "virtio0.rpmsg_ctrl.0.0/rpmsg/rpmsg_ctrl0");
}

TEST_F(Ctl, AddProcessorWithTakenNameFails) {
    expectOneLineError(ctl({"add-processor", "cm4"}), "duplicate name");
    EXPECT_FALSE(exists(rproc(2)));
}

TEST_F(Ctl, RemoveProcessorMakesOpenAttributeFdsENODEV) {
    const Fd st(::open(path(rproc(1, "state")).c_str(), O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(st.valid());
    ctlOk({"remove-processor", "dsp"});
    EXPECT_TRUE(waitFor([&] { return !exists(rproc(1)); }));
    EXPECT_FALSE(exists("sys/devices/platform/sim-dsp"));
    EXPECT_FALSE(exists(debugfs(1)));
    EXPECT_TRUE(processor("remoteproc1").is_null());
    char buf[32];
    errno = 0;
    EXPECT_EQ(::pread(st.get(), buf, sizeof buf, 0), -1);
    EXPECT_EQ(errno, ENODEV);
    EXPECT_EQ(state(0), "offline") << "the other processor is untouched";
}

TEST_F(Ctl, RemoveRunningProcessorTearsItDown) {
    ASSERT_NO_FATAL_FAILURE(bootProcessor(0));
    Fd ctrl = openCtrl();
    const auto dev = createEptDev(ctrl.get(), "x", RPMSG_ADDR_ANY, 1024);
    Fd ept = openDev(dev);
    ASSERT_TRUE(ept.valid());
    ctlOk({"remove-processor", "cm4"});
    EXPECT_TRUE(waitFor([&] { return !exists(rproc(0)); }));
    char buf[8];
    errno = 0;
    EXPECT_EQ(::read(ept.get(), buf, sizeof buf), -1);
    EXPECT_EQ(errno, EPIPE);
    EXPECT_TRUE(devNodes().empty()) << ::testing::PrintToString(devNodes());
    EXPECT_TRUE(listDir(path("sys/bus/rpmsg/devices")).empty());
}

TEST_F(Ctl, RemovedIndexIsReusedLowestFirst) {
    ctlOk({"remove-processor", "remoteproc0"});
    ASSERT_TRUE(waitFor([&] { return !exists(rproc(0)); }));
    ctlOk({"add-processor", "new"});
    EXPECT_EQ(readAttr(rproc(0, "name")), "new\n");
    ctlOk({"add-processor", "newer"});
    EXPECT_EQ(readAttr(rproc(2, "name")), "newer\n");
}

TEST_F(Ctl, PeerPrintsTheLastSenderOfAService) {
    ASSERT_NO_FATAL_FAILURE(bootProcessor(0));
    const auto before = ctl({"peer", "cm4", "1024"});
    expectOneLineError(before, "nothing sent yet");
    EXPECT_NE(before.err.find("no message has reached service 1024 yet"), std::string::npos)
        << before.err;
    Fd ctrl = openCtrl();
    const auto dev = createEptDev(ctrl.get(), "p", RPMSG_ADDR_ANY, 1024);
    Fd ept = openDev(dev);
    ASSERT_TRUE(ept.valid());
    ASSERT_EQ(::write(ept.get(), "who", 3), 3);
    ASSERT_EQ(readMessage(ept.get()).data, "who"); // the echo: the service has seen it
    const auto r = ctl({"peer", "remoteproc0", "1024"});
    EXPECT_EQ(r.exitCode, 0) << r.err;
    EXPECT_EQ(r.out, std::to_string(eptdevAddr(dev)) + "\n");

    const auto none = ctl({"peer", "cm4", "4242"});
    expectOneLineError(none, "no such service");
    EXPECT_NE(none.err.find("no service at address 4242"), std::string::npos) << none.err;
    expectOneLineError(ctl({"peer", "cm4"}), "missing address");
    expectOneLineError(ctl({"peer", "cm4", "x"}), "bad address");
    expectOneLineError(ctl({"peer", "dsp", "1024"}), "processor not running");
}

TEST_F(Ctl, AnnounceDestroySendByIdOrName) {
    ASSERT_NO_FATAL_FAILURE(bootProcessor(0));
    ctlOk({"announce", "cm4", "svc", "3000"});
    EXPECT_TRUE(waitFor([&] { return exists(busDev("virtio0.svc.-1.3000")); }));
    ctlOk({"destroy", "remoteproc0", "svc", "3000"});
    EXPECT_TRUE(waitFor([&] { return !exists(busDev("virtio0.svc.-1.3000")); }));
    ctlOk({"send", "cm4", "1024", "1024", "to-nobody"});
}

} // namespace
} // namespace simtest
