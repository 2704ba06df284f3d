// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// Integration tests for Processor.LoadFirmware (the fd upload path: validation, atomic store,
// the name set in sysfs) and for saved devcoredumps (LastCoredump, the Crashed signal's path,
// the file on disk, the kernel's dump dismissed).

#include "fixture.h"

#include <algorithm>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace itest {
namespace {

namespace fs = std::filesystem;

/// A pipe whose read end is passed to the daemon while a thread writes @p data and closes.
struct PipeUpload {
    int readFd = -1;
    std::thread writer;
    PipeUpload(std::string data) {
        int p[2];
        if (pipe2(p, O_CLOEXEC) != 0) {
            return;
        }
        readFd = p[0];
        writer = std::thread([w = p[1], data = std::move(data)] {
            size_t off = 0;
            while (off < data.size()) {
                ssize_t n =
                    ::write(w, data.data() + off, std::min<size_t>(4096, data.size() - off));
                if (n <= 0) {
                    break;
                }
                off += size_t(n);
                std::this_thread::sleep_for(std::chrono::microseconds(200)); // a slow writer
            }
            ::close(w);
        });
    }
    ~PipeUpload() {
        if (writer.joinable()) {
            writer.join();
        }
        if (readFd >= 0) {
            ::close(readFd);
        }
    }
};

std::string fileContents(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

class LoadFirmware : public DaemonTest {
protected:
    /// Builds an image with rpmsg-sim mkfw (optionally broken) and returns its bytes.
    std::string image(const std::string& name, const std::string& defect = "") {
        auto r = env().sim().mkfw(name, echoFirmwareSpec(), defect);
        EXPECT_EQ(r.exitCode, 0) << r.err;
        return fileContents(env().firmwareDir() + "/" + name);
    }
};

TEST_F(LoadFirmware, GoodImageFromAFileIsStoredAndSet) {
    std::string bytes = image("upload-src.elf");
    ASSERT_FALSE(bytes.empty());
    int fd = ::open((env().firmwareDir() + "/upload-src.elf").c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    std::string set = root().loadFirmware(cm4(), fd, "m4_app.elf");
    ::close(fd);
    EXPECT_EQ(set, "rpmsgd/m4_app.elf");
    EXPECT_EQ(fileContents(env().firmwareDir() + "/rpmsgd/m4_app.elf"), bytes);
    EXPECT_EQ(root().get<std::string>(cm4(), ProcessorIface, "Firmware"), "rpmsgd/m4_app.elf");
    EXPECT_EQ(simProcessor()["firmware"], "rpmsgd/m4_app.elf");
    // And the kernel (the sim) boots it.
    root().start(cm4());
    EXPECT_EQ(root().get<std::string>(cm4(), ProcessorIface, "State"), "running");
}

TEST_F(LoadFirmware, GoodImageFromASlowPipe) {
    std::string bytes = image("pipe-src.elf");
    PipeUpload up(bytes);
    ASSERT_GE(up.readFd, 0);
    std::string set = root().loadFirmware(cm4(), up.readFd, "from-pipe.elf");
    EXPECT_EQ(set, "rpmsgd/from-pipe.elf");
    EXPECT_EQ(fileContents(env().firmwareDir() + "/rpmsgd/from-pipe.elf"), bytes);
}

TEST_F(LoadFirmware, BrokenImagesAreRefusedAndNothingIsStored) {
    for (const char* defect : {"bad-magic", "no-resource-table", "truncated-resource-table"}) {
        SCOPED_TRACE(defect);
        std::string bytes = image(std::string("broken-") + defect + ".elf", defect);
        PipeUpload up(bytes);
        auto e = errorOf([&] { root().loadFirmware(cm4(), up.readFd, "broken.elf"); });
        EXPECT_DBUS_ERROR(e, "org.rpmsgd.Broker1.Error.InvalidFirmware");
        EXPECT_NE(e.message.find("broken.elf"), std::string::npos) << e.message;
        EXPECT_FALSE(fs::exists(env().firmwareDir() + "/rpmsgd/broken.elf"));
    }
    EXPECT_EQ(root().get<std::string>(cm4(), ProcessorIface, "Firmware"), "echo.elf");
}

TEST_F(LoadFirmware, BadNamesWrongStateAndAccess) {
    std::string bytes = image("ok.elf");
    for (const char* bad : {"../evil.elf", "sub/dir.elf", ".hidden", ""}) {
        PipeUpload up(bytes);
        auto e = errorOf([&] { root().loadFirmware(cm4(), up.readFd, bad); });
        EXPECT_DBUS_ERROR(e, "org.rpmsgd.Broker1.Error.InvalidArgument") << bad;
    }
    root().start(cm4());
    {
        PipeUpload up(bytes);
        auto e = errorOf([&] { root().loadFirmware(cm4(), up.readFd, "late.elf"); });
        EXPECT_DBUS_ERROR(e, "org.rpmsgd.Broker1.Error.InvalidState");
    }
    EXPECT_FALSE(fs::exists(env().firmwareDir() + "/rpmsgd/late.elf"));
}

class LoadFirmwareSmallLimit : public LoadFirmware {
    void configure(EnvOptions& o) override {
        o.editConfig = [](nlohmann::json& c) {
            c["limits"]["firmware_max_bytes"] = 4096;
        };
    }
};

TEST_F(LoadFirmwareSmallLimit, TooLargeIsLimitExceeded) {
    std::string bytes = image("big.elf");
    bytes.append(8192, '\0'); // still a valid ELF prefix, but over the 4 KiB limit
    PipeUpload up(bytes);
    auto e = errorOf([&] { root().loadFirmware(cm4(), up.readFd, "big.elf"); });
    EXPECT_DBUS_ERROR(e, "org.rpmsgd.Broker1.Error.LimitExceeded");
    EXPECT_FALSE(fs::exists(env().firmwareDir() + "/rpmsgd/big.elf"));
}

class Coredumps : public DaemonTest {
    void configure(EnvOptions& o) override {
        o.simConfig["processors"][0]["coredump"] = "enabled";
        o.editConfig = [](nlohmann::json& c) {
            c["limits"]["coredumps_kept"] = 2;
        };
    }
};

TEST_F(Coredumps, CrashSavesTheCoreAndSignalsItsPath) {
    startCm4();
    const std::string p = cm4();
    SignalRecorder rec;
    ctlOk({"crash", "cm4"});
    auto crashed =
        rec.waitFor([&](const Signal& s) { return s.member == "Crashed" && s.path == p; }, 5s);
    ASSERT_TRUE(crashed) << rec.describe();
    // The crash may be seen (in the state) before the kernel has the dump: then Crashed carries
    // no path, and LastCoredump changes once the dump is taken (docs/dbus-api.md, Crashed).
    auto saved = rec.waitFor(
        [&](const Signal& s) {
            if (s.path != p) {
                return false;
            }
            if (s.member == "Crashed") {
                return !s.coredump.empty();
            }
            return s.member == "PropertiesChanged" &&
                   (s.changed.count("LastCoredump") ||
                    std::find(s.invalidated.begin(), s.invalidated.end(), "LastCoredump") !=
                        s.invalidated.end());
        },
        5s);
    ASSERT_TRUE(saved) << rec.describe();
    std::string core = root().get<std::string>(p, ProcessorIface, "LastCoredump");
    ASSERT_FALSE(core.empty());
    if (!crashed->coredump.empty()) {
        EXPECT_EQ(crashed->coredump, core); // the signal names the file the property names
    }
    EXPECT_EQ(core.rfind(env().root() + "/state/coredumps/remoteproc0-", 0), 0u) << core;
    std::string bytes = fileContents(core);
    ASSERT_GE(bytes.size(), 52u);
    EXPECT_EQ(bytes.substr(0, 4), "\x7f"
                                  "ELF");
    EXPECT_EQ(uint8_t(bytes[16]), 4); // ET_CORE
    // The kernel's copy was read and dismissed.
    EXPECT_TRUE(env().sim().dump()["devcoredumps"].empty());
    EXPECT_EQ(root().get<uint32_t>(p, ProcessorIface, "CrashCount"), 1u);
}

TEST_F(Coredumps, RetentionKeepsTheNewest) {
    startCm4();
    const std::string p = cm4();
    for (uint32_t i = 1; i <= 4; ++i) {
        ctlOk({"crash", "cm4"});
        auto until = std::chrono::steady_clock::now() + 5s;
        while (root().get<uint32_t>(p, ProcessorIface, "CrashCount") < i &&
               std::chrono::steady_clock::now() < until) {
            std::this_thread::sleep_for(20ms);
        }
        ASSERT_EQ(root().get<uint32_t>(p, ProcessorIface, "CrashCount"), i);
        root().waitForChannel("rpmsg-echo", "cm4", 5000);
    }
    std::vector<std::string> cores;
    for (const auto& e : fs::directory_iterator(env().root() + "/state/coredumps")) {
        cores.push_back(e.path().string());
    }
    EXPECT_EQ(cores.size(), 2u);
    std::string last = root().get<std::string>(p, ProcessorIface, "LastCoredump");
    EXPECT_TRUE(fs::exists(last)) << last;
}

TEST_F(Coredumps, InlineDumpIsTakenSoTheKernelRecoveryCompletes) {
    startCm4();
    root().setCoredump(cm4(), "inline");
    const std::string p = cm4();
    SignalRecorder rec;
    ctlOk({"crash", "cm4"});
    // With `inline` the kernel's recovery waits until the dump is dismissed: only the daemon
    // reading it lets the processor come back.
    ASSERT_TRUE(rec.waitFor([&](const Signal& s) { return s.member == "Crashed"; }, 5s))
        << rec.describe();
    auto until = std::chrono::steady_clock::now() + 5s;
    while (root().get<std::string>(p, ProcessorIface, "State") != "running" &&
           std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(20ms);
    }
    root().waitForChannel("rpmsg-echo", "cm4", 5000);
    EXPECT_EQ(root().get<std::string>(p, ProcessorIface, "State"), "running");
    EXPECT_FALSE(root().get<std::string>(p, ProcessorIface, "LastCoredump").empty());
}

} // namespace
} // namespace itest
