// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// The remoteproc half of the conformance suite: every remoteproc behaviour the twin models, run
// unchanged against the twin (RPMSG_TARGET=twin, kernel profile RPMSG_TWIN_KERNEL) and against
// the kernel's own remoteproc core inside scripts/virtual-board (RPMSG_TARGET=kernel), whose
// processor cm4 is the test driver's (tests/uml/kernel/driver/virtual_rproc.c) with its firmware
// played by `rpmsg-sim remote --rproc`. The table of what each case shows on which kernel is
// docs/kernel-versions.md.
//
// Only files are used: sysfs, debugfs, devcoredump, the rpmsg bus. Images are made with
// `rpmsg-sim mkfw` into the target's firmware directory.

#include "common/firmware_builder.h"
#include "common/firmware_image.h"
#include "sim_harness.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace {

using namespace std::chrono_literals;
using nlohmann::json;
namespace fs = std::filesystem;

std::string envOr(const char* name, const std::string& fallback) {
    const char* v = getenv(name);
    return v && *v ? v : fallback;
}

// What the remote plays in every case: an announced echo service and two trace lines.
const json EchoSpec = {
    {"boot_ms", 20},
    {"services", json::array({{{"name", "rpmsg-echo"}, {"addr", 1024}, {"kind", "echo"}}})},
    {"trace", json::array({"boot ok", "echo ready"})}};
constexpr const char* EchoImage = "conformance-echo.elf";

/// The system under test: a root under which sys/ and the firmware directory are found.
class RprocTarget {
public:
    virtual ~RprocTarget() = default;
    virtual std::string name() const = 0;
    /// "6.1", "6.12": the kernel (or the twin's profile).
    virtual std::string kernel() const = 0;
    /// Absolute path of @p rel ("sys/class/remoteproc").
    virtual std::string path(const std::string& rel) const = 0;
    virtual std::string firmwareDir() const = 0;
    virtual std::string log() { return ""; }
};

class KernelTarget : public RprocTarget {
public:
    std::string name() const override { return "kernel"; }
    std::string kernel() const override {
        utsname u{};
        uname(&u);
        std::string r = u.release; // 6.12.118
        const auto first = r.find('.');
        const auto second = r.find_first_not_of("0123456789", first + 1);
        return r.substr(0, second);
    }
    std::string path(const std::string& rel) const override { return "/" + rel; }
    std::string firmwareDir() const override {
        auto r = simtest::readFile("/sys/module/firmware_class/parameters/path");
        std::string dir = r.data.substr(0, r.data.find('\n'));
        return dir;
    }
    std::string log() override {
        return simtest::runCommand({"sh", "-c", "cat /run/rpmsg-sim/cm4.log; dmesg | tail -n 30"})
            .out;
    }
};

class TwinTarget : public RprocTarget {
public:
    TwinTarget() : dir_("rproc-conformance"), sim_(dir_.path()) {}
    bool start(std::string& error) {
        std::filesystem::create_directories(sim_.firmwareDir());
        simtest::SimOptions o;
        o.config =
            json{{"kernel", profile_},
                 {"processors", json::array({{{"name", "cm4"}, {"firmware", "rproc-cm4-fw"}},
                                             {{"name", "dsp"}, {"firmware", "rproc-dsp-fw"}}})}};
        return sim_.start(o, error);
    }
    std::string name() const override { return "twin"; }
    std::string kernel() const override { return profile_; }
    std::string path(const std::string& rel) const override { return sim_.path(rel); }
    std::string firmwareDir() const override { return sim_.firmwareDir(); }
    std::string log() override { return sim_.log(); }

private:
    std::string profile_ = envOr("RPMSG_TWIN_KERNEL", "6.1");
    simtest::TempDir dir_;
    simtest::Sim sim_;
};

class RprocConformance : public ::testing::Test {
protected:
    void SetUp() override {
        if (getuid() != 0) {
            GTEST_SKIP() << "needs root (FUSE mounts on the twin; sysfs writes on the kernel)";
        }
        if (envOr("RPMSG_TARGET", "twin") == "kernel") {
            target_ = std::make_unique<KernelTarget>();
        } else {
            auto twin = std::make_unique<TwinTarget>();
            std::string error;
            ASSERT_TRUE(twin->start(error)) << error;
            target_ = std::move(twin);
        }
        ASSERT_EQ(mkfw(EchoImage, EchoSpec), "");
        proc_ = findProcessor("cm4");
        ASSERT_FALSE(proc_.empty()) << "no processor named cm4 under sys/class/remoteproc";
        // Every case starts from the same state, whatever the last one left.
        if (state() != "offline") {
            write(attr("state"), "stop");
        }
        ASSERT_EQ(state(), "offline");
        ASSERT_EQ(write(attr("firmware"), EchoImage), 0);
        ASSERT_EQ(write(debug("recovery"), "enabled"), 0);
        ASSERT_EQ(write(debug("coredump"), "enabled"), 0);
        dismissDumps();
    }

    void TearDown() override {
        if (HasFailure() && target_) {
            std::cout << "---- " << target_->name() << " " << target_->kernel() << " log ----\n"
                      << target_->log() << "\n";
        }
        if (target_ && !proc_.empty() && state() != "offline") {
            write(attr("state"), "stop");
        }
        dismissDumps();
    }

    std::string path(const std::string& rel) const { return target_->path(rel); }
    std::string attr(const std::string& name) const {
        return path("sys/class/remoteproc/" + proc_ + "/" + name);
    }
    std::string debug(const std::string& name) const {
        return path("sys/kernel/debug/remoteproc/" + proc_ + "/" + name);
    }
    static std::string read(const std::string& p) {
        auto r = simtest::readFile(p);
        return r.err ? "<errno " + std::to_string(r.err) + ">" : r.data;
    }
    static int write(const std::string& p, const std::string& text) {
        return simtest::writeFile(p, text);
    }
    std::string state() const {
        std::string s = read(attr("state"));
        return s.substr(0, s.find('\n'));
    }
    bool waitState(const std::string& want) {
        return simtest::waitFor([&] { return state() == want; }, 20s);
    }
    std::string findProcessor(const std::string& name) const {
        for (const auto& d : simtest::listDir(path("sys/class/remoteproc"))) {
            if (read(path("sys/class/remoteproc/" + d + "/name")) == name + "\n") {
                return d;
            }
        }
        return "";
    }
    /// Writes FIRMWARE_DIR/@p name from @p spec; "" or mkfw's complaint.
    std::string mkfw(const std::string& name, const json& spec, const std::string& defect = "") {
        const std::string dir = target_->firmwareDir();
        const std::string specPath = dir + "/" + name + ".json";
        simtest::writeTextFile(specPath, spec.dump());
        std::vector<std::string> argv = {simtest::simBinary(), "mkfw", "--spec", specPath, "--out",
                                         dir + "/" + name};
        if (!defect.empty()) {
            argv.insert(argv.end(), {"--defect", defect});
        }
        auto r = simtest::runCommand(argv);
        return r.exitCode == 0 ? "" : r.out + r.err;
    }
    std::vector<uint8_t> image(const std::string& name) const {
        std::ifstream in(target_->firmwareDir() + "/" + name, std::ios::binary);
        return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)),
                                    std::istreambuf_iterator<char>());
    }
    std::string realpath(const std::string& p) const {
        char buf[PATH_MAX];
        return ::realpath(p.c_str(), buf) ? buf : "";
    }
    /// Names of the rpmsg bus devices of service @p service whose device lies under cm4's.
    std::vector<std::string> channels(const std::string& service = "") const {
        std::vector<std::string> out;
        const std::string under = realpath(attr("")) + "/";
        for (const auto& d : simtest::listDir(path("sys/bus/rpmsg/devices"))) {
            const std::string dev = path("sys/bus/rpmsg/devices/" + d);
            if (realpath(dev).rfind(under, 0) != 0) {
                continue;
            }
            if (service.empty() || read(dev + "/name") == service + "\n") {
                out.push_back(d);
            }
        }
        return out;
    }
    bool waitChannel(const std::string& service) {
        return simtest::waitFor([&] { return !channels(service).empty(); }, 20s);
    }
    std::vector<std::string> dumps() const {
        std::vector<std::string> out;
        for (const auto& d : simtest::listDir(path("sys/class/devcoredump"))) {
            if (d.rfind("devcd", 0) == 0) {
                out.push_back(d);
            }
        }
        return out;
    }
    void dismissDumps() {
        for (const auto& d : dumps()) {
            write(path("sys/class/devcoredump/" + d + "/data"), "1");
        }
    }
    bool isKernel() const { return target_->name() == "kernel"; }

    std::unique_ptr<RprocTarget> target_;
    std::string proc_;
};

TEST_F(RprocConformance, AttributesHaveTheKernelsModesAndWords) {
    struct Expect {
        std::string file;
        mode_t mode;
        std::string value;
    };
    const std::vector<Expect> expected = {
        {attr("name"), 0444, "cm4\n"},
        {attr("firmware"), 0644, std::string(EchoImage) + "\n"},
        {attr("state"), 0644, "offline\n"},
        {attr("recovery"), 0644, "enabled\n"},
        {attr("coredump"), 0644, "enabled\n"},
        {debug("name"), 0400, "cm4\n"},
        {debug("recovery"), 0600, "enabled\n"},
        {debug("coredump"), 0600, "enabled\n"},
        {debug("crash"), 0200, ""},
        {debug("resource_table"), 0400, ""},
        {debug("carveout_memories"), 0400, ""},
    };
    for (const auto& e : expected) {
        struct stat st {};
        ASSERT_EQ(stat(e.file.c_str(), &st), 0) << e.file << ": " << strerror(errno);
        EXPECT_EQ(st.st_mode & 07777, e.mode) << e.file;
        if (!e.value.empty()) {
            EXPECT_EQ(read(e.file), e.value) << e.file;
        }
    }
    EXPECT_EQ(read(debug("resource_table")), "No resource table found\n");
}

TEST_F(RprocConformance, StartRunsTheImageAndStopTakesItDown) {
    ASSERT_EQ(write(attr("state"), "start"), 0);
    EXPECT_EQ(state(), "running");
    ASSERT_TRUE(waitChannel("rpmsg-echo"));
    EXPECT_EQ(write(attr("state"), "stop"), 0);
    EXPECT_EQ(state(), "offline");
    EXPECT_TRUE(channels().empty());
}

TEST_F(RprocConformance, ChannelsLieUnderTheProcessorsVdev) {
    ASSERT_EQ(write(attr("state"), "start"), 0);
    ASSERT_TRUE(waitChannel("rpmsg-echo"));
    const std::string dev = realpath(path("sys/bus/rpmsg/devices/" + channels("rpmsg-echo")[0]));
    const std::string proc = realpath(attr(""));
    // PROC/rproc-virtio.N.auto/virtioK/virtioK.rpmsg-echo.-1.1024 (6.1 and later)
    const std::string rest = dev.substr(proc.size() + 1);
    EXPECT_EQ(rest.rfind("rproc-virtio.", 0), 0u) << rest;
    EXPECT_NE(rest.find("/virtio"), std::string::npos) << rest;
    EXPECT_NE(rest.find(".rpmsg-echo.-1.1024"), std::string::npos) << rest;
}

TEST_F(RprocConformance, StartWhileRunningCountsAUserAndStopNeedsTwo) {
    // rproc_boot() takes another power reference instead of refusing (5.19 and later): the
    // first stop only drops it, the second shuts the processor down.
    ASSERT_EQ(write(attr("state"), "start"), 0);
    EXPECT_EQ(write(attr("state"), "start"), 0);
    EXPECT_EQ(write(attr("state"), "stop"), 0);
    EXPECT_EQ(state(), "running");
    EXPECT_EQ(write(attr("state"), "stop"), 0);
    EXPECT_EQ(state(), "offline");
}

TEST_F(RprocConformance, StopWhileOfflineIsEINVAL) {
    EXPECT_EQ(write(attr("state"), "stop"), EINVAL);
    EXPECT_EQ(write(attr("state"), "launch"), EINVAL);
    EXPECT_EQ(state(), "offline");
}

TEST_F(RprocConformance, FirmwareWhileRunningIsEBUSY) {
    ASSERT_EQ(write(attr("state"), "start"), 0);
    EXPECT_EQ(write(attr("firmware"), "other.elf"), EBUSY);
    EXPECT_EQ(read(attr("firmware")), std::string(EchoImage) + "\n");
}

TEST_F(RprocConformance, FirmwareNameIsCheckedAndTrailingNewlineDropped) {
    EXPECT_EQ(write(attr("firmware"), "\n"), EINVAL);
    EXPECT_EQ(write(attr("firmware"), "name.elf\n"), 0);
    EXPECT_EQ(read(attr("firmware")), "name.elf\n");
}

TEST_F(RprocConformance, MissingFirmwareIsENOENTAndLeavesItOffline) {
    ASSERT_EQ(write(attr("firmware"), "no-such-image.elf"), 0);
    EXPECT_EQ(write(attr("state"), "start"), ENOENT);
    EXPECT_EQ(state(), "offline");
}

TEST_F(RprocConformance, EachDefectIsRefusedWithTheErrnoOurParserPredicts) {
    for (const auto& defect : rpmsgd::fw::defectNames()) {
        if (defect == "none") {
            continue;
        }
        const std::string name = "defect-" + defect + ".elf";
        ASSERT_EQ(mkfw(name, EchoSpec, defect), "") << defect;
        const auto parsed = rpmsgd::fw::parse(image(name));
        ASSERT_FALSE(parsed) << defect << ": our parser accepts it";
        ASSERT_EQ(write(attr("firmware"), name), 0);
        EXPECT_EQ(write(attr("state"), "start"), parsed.problem.error)
            << defect << " (" << parsed.problem.message << ")";
        EXPECT_EQ(state(), "offline") << defect;
        EXPECT_TRUE(channels().empty()) << defect;
    }
    // Nothing was left half-started: the good image still boots.
    ASSERT_EQ(write(attr("firmware"), EchoImage), 0);
    ASSERT_EQ(write(attr("state"), "start"), 0);
    EXPECT_TRUE(waitChannel("rpmsg-echo"));
}

TEST_F(RprocConformance, TraceHoldsTheFirmwaresLines) {
    ASSERT_EQ(write(attr("state"), "start"), 0);
    ASSERT_TRUE(waitChannel("rpmsg-echo")); // the trace lines come before the announcement
    struct stat st {};
    ASSERT_EQ(stat(debug("trace0").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0400);
    EXPECT_EQ(read(debug("trace0")), "boot ok\necho ready\n");
    EXPECT_EQ(write(attr("state"), "stop"), 0);
    EXPECT_FALSE(fs::exists(debug("trace0")));
}

TEST_F(RprocConformance, CrashWithRecoveryRestartsAndSavesACore) {
    ASSERT_EQ(write(attr("state"), "start"), 0);
    ASSERT_TRUE(waitChannel("rpmsg-echo"));
    ASSERT_EQ(write(debug("crash"), "1"), 0); // RPROC_WATCHDOG
    ASSERT_TRUE(simtest::waitFor([&] { return !dumps().empty(); }, 20s));
    const std::string dump = path("sys/class/devcoredump/" + dumps()[0]);
    EXPECT_EQ(realpath(dump + "/failing_device"), realpath(attr("")));
    const std::string core = read(dump + "/data");
    ASSERT_GE(core.size(), 52u) << core;
    EXPECT_EQ(core.substr(0, 4), "\x7f"
                                 "ELF");
    EXPECT_EQ(core[16], 4); // ET_CORE
    EXPECT_NE(core.find("boot ok\necho ready\n"), std::string::npos)
        << "the core holds the firmware's memory, trace buffer included";
    ASSERT_TRUE(waitState("running"));
    EXPECT_TRUE(waitChannel("rpmsg-echo"));
}

TEST_F(RprocConformance, CrashWithoutRecoveryStaysCrashedUntilRecover) {
    ASSERT_EQ(write(attr("state"), "start"), 0);
    ASSERT_TRUE(waitChannel("rpmsg-echo"));
    ASSERT_EQ(write(debug("recovery"), "disabled"), 0);
    ASSERT_EQ(write(debug("coredump"), "disabled"), 0);
    ASSERT_EQ(write(debug("crash"), "2"), 0); // RPROC_FATAL_ERROR
    ASSERT_TRUE(waitState("crashed"));
    // Nothing is stopped until recovery: the channels stay (rproc_crash_handler).
    EXPECT_FALSE(channels("rpmsg-echo").empty());
    EXPECT_TRUE(dumps().empty());
    EXPECT_EQ(write(attr("firmware"), EchoImage), EBUSY);
    ASSERT_EQ(write(debug("recovery"), "recover"), 0);
    ASSERT_TRUE(waitState("running"));
    EXPECT_TRUE(waitChannel("rpmsg-echo"));
}

TEST_F(RprocConformance, StopWhileCrashedShutsItDown) {
    // "remoteproc: Allow shutdown of crashed processors" (stable 6.1.188, 6.12.110).
    ASSERT_EQ(write(attr("state"), "start"), 0);
    ASSERT_TRUE(waitChannel("rpmsg-echo"));
    ASSERT_EQ(write(debug("recovery"), "disabled"), 0);
    ASSERT_EQ(write(debug("crash"), "1"), 0);
    ASSERT_TRUE(waitState("crashed"));
    EXPECT_EQ(write(attr("state"), "stop"), 0);
    EXPECT_EQ(state(), "offline");
    EXPECT_TRUE(channels().empty());
    EXPECT_FALSE(fs::exists(debug("trace0")));
    ASSERT_EQ(write(attr("state"), "start"), 0);
    EXPECT_TRUE(waitChannel("rpmsg-echo"));
}

TEST_F(RprocConformance, InlineCoredumpIsOneDevcoredump) {
    ASSERT_EQ(write(debug("coredump"), "inline"), 0);
    EXPECT_EQ(read(attr("coredump")), "inline\n");
    ASSERT_EQ(write(attr("state"), "start"), 0);
    ASSERT_TRUE(waitChannel("rpmsg-echo"));
    ASSERT_EQ(write(debug("crash"), "1"), 0);
    ASSERT_TRUE(simtest::waitFor([&] { return !dumps().empty(); }, 20s));
    const std::string core = read(path("sys/class/devcoredump/" + dumps()[0] + "/data"));
    EXPECT_EQ(core.substr(0, 4), "\x7f"
                                 "ELF");
    EXPECT_NE(core.find("boot ok\necho ready\n"), std::string::npos);
    // Recovery has stopped the processor (rproc_stop: offline) and waits for the dump to go
    // before it starts it again (rproc_coredump: dump_done, inline only).
    EXPECT_EQ(state(), "offline");
    dismissDumps();
    ASSERT_TRUE(waitState("running"));
}

TEST_F(RprocConformance, CoredumpAndRecoveryWordsAreChecked) {
    EXPECT_EQ(write(debug("coredump"), "sometimes"), EINVAL);
    EXPECT_EQ(write(attr("coredump"), "disabled"), 0);
    EXPECT_EQ(read(debug("coredump")), "disabled\n");
    EXPECT_EQ(write(attr("recovery"), "disabled"), 0);
    EXPECT_EQ(read(debug("recovery")), "disabled\n");
    EXPECT_EQ(write(attr("recovery"), "maybe"), EINVAL);
}

TEST_F(RprocConformance, AFirmwareCrashReachesTheKernel) {
    json spec = EchoSpec;
    spec["crash_after_messages"] = 1;
    ASSERT_EQ(mkfw("conformance-crashing.elf", spec), "");
    ASSERT_EQ(write(attr("firmware"), "conformance-crashing.elf"), 0);
    ASSERT_EQ(write(debug("recovery"), "disabled"), 0);
    ASSERT_EQ(write(attr("state"), "start"), 0);
    ASSERT_TRUE(waitChannel("rpmsg-echo"));
    // One message to the echo service through a fresh endpoint device.
    const std::string ctrlClass = path("sys/class/rpmsg");
    std::string ctrl;
    const std::string under = realpath(attr("")) + "/";
    for (const auto& d : simtest::listDir(ctrlClass)) {
        if (d.rfind("rpmsg_ctrl", 0) == 0 && realpath(ctrlClass + "/" + d).rfind(under, 0) == 0) {
            ctrl = d;
        }
    }
    ASSERT_FALSE(ctrl.empty());
    simtest::Fd ctrlFd(open(path("dev/" + ctrl).c_str(), O_RDWR));
    ASSERT_GE(ctrlFd.get(), 0);
    const auto before = simtest::eptdevNames(ctrlClass);
    ASSERT_EQ(simtest::createEpt(ctrlFd.get(), "rpmsg-echo", 0xFFFFFFFF, 1024), 0);
    std::string dev;
    ASSERT_TRUE(simtest::waitFor(
        [&] {
            for (const auto& e : simtest::eptdevNames(ctrlClass)) {
                if (std::find(before.begin(), before.end(), e) == before.end()) {
                    dev = e;
                }
            }
            return !dev.empty();
        },
        20s));
    {
        simtest::Fd ept(open(path("dev/" + dev).c_str(), O_RDWR));
        ASSERT_GE(ept.get(), 0);
        ASSERT_EQ(::write(ept.get(), "boom", 4), 4);
    }
    EXPECT_TRUE(waitState("crashed"));
}

} // namespace
