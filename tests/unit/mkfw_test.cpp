// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "common/firmware_builder.h"
#include "sim/behaviour_spec.h"
#include "sim/mkfw.h"
#include "test_util.h"

#include <cerrno>
#include <fcntl.h>
#include <filesystem>
#include <iostream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace fw = rpmsgd::fw;

namespace {

constexpr const char* Spec = R"({ "boot_ms": 5,
  "services": [ {"name": "rpmsg-echo", "addr": 1024, "kind": "echo"} ],
  "trace": ["boot ok"],
  "image": { "name_service": false, "trace_len": 0, "machine": 183 } })";

struct MkfwRun {
    int code = 0;
    std::string out, err;
};

MkfwRun mkfw(std::vector<std::string> args) {
    args.insert(args.begin(), "mkfw");
    std::vector<char*> argv;
    for (auto& a : args) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    testing::internal::CaptureStdout();
    testing::internal::CaptureStderr();
    MkfwRun r;
    r.code = rpmsgsim::runMkfw(static_cast<int>(args.size()), argv.data());
    std::cout.flush();
    std::cerr.flush();
    r.out = testing::internal::GetCapturedStdout();
    r.err = testing::internal::GetCapturedStderr();
    return r;
}

size_t entries(const std::filesystem::path& dir) {
    size_t n = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) {
        ++n;
    }
    return n;
}

} // namespace

TEST(Mkfw, Help) {
    const MkfwRun r = mkfw({"--help"});
    EXPECT_EQ(r.code, 0);
    EXPECT_NE(r.out.find("Usage: rpmsg-sim mkfw --spec FILE --out FILE [--defect KIND]"),
              std::string::npos)
        << r.out;
    for (const auto& name : fw::defectNames()) {
        EXPECT_NE(r.out.find(name), std::string::npos) << name;
    }
    EXPECT_TRUE(r.err.empty());
}

TEST(Mkfw, UsageErrorsExit2) {
    struct Case {
        std::vector<std::string> args;
        const char* message;
    };
    const std::vector<Case> cases = {
        {{}, "missing --spec FILE"},
        {{"--spec", "a.json"}, "missing --out FILE"},
        {{"--spec"}, "option --spec needs a value"},
        {{"--spec", "a", "--spec", "b", "--out", "c"}, "option --spec given twice"},
        {{"--spec=", "--out", "c"}, "option --spec needs a non-empty value"},
        {{"--frobnicate"}, "unknown option '--frobnicate'"},
        {{"stray"}, "unexpected argument 'stray'"},
        {{"--spec", "a", "--out", "b", "--defect", "wobbly"},
         "unknown defect 'wobbly' (expected one of bad-magic, too-small"},
    };
    for (const auto& c : cases) {
        const MkfwRun r = mkfw(c.args);
        EXPECT_EQ(r.code, 2) << c.message;
        EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
        EXPECT_NE(r.err.find("Try 'rpmsg-sim mkfw --help'."), std::string::npos) << r.err;
    }
}

TEST(Mkfw, BuildsAValidImage) {
    unit::TempDir dir;
    const std::string spec = dir.file("fw.json"), out = dir.file("fw.elf");
    unit::writeText(spec, Spec);
    const MkfwRun r = mkfw({"--spec", spec, "--out=" + out});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(r.err.empty()) << r.err;

    struct stat st {};
    ASSERT_EQ(stat(out.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0644u);
    EXPECT_EQ(entries(dir.path()), 2u); // no temporary file left behind

    const auto bytes = unit::readFile(out);
    const fw::ParseResult p = fw::parse(bytes);
    ASSERT_TRUE(p) << p.problem.message;
    EXPECT_EQ(p.image->machine, 183);
    ASSERT_EQ(p.image->resources.size(), 1u); // trace_len 0: no trace entry
    EXPECT_EQ(p.image->resources[0].dfeatures, 0u);
    ASSERT_TRUE(p.image->behaviour.has_value());
    const auto stored = nlohmann::json::parse(*p.image->behaviour);
    EXPECT_FALSE(stored.contains("image"));
    EXPECT_EQ(stored["boot_ms"], 5);
    EXPECT_EQ(stored["services"][0]["name"], "rpmsg-echo");
    const rpmsgsim::BehaviourParse again = rpmsgsim::parseBehaviour(*p.image->behaviour);
    EXPECT_TRUE(again.ok) << again.error;
}

TEST(Mkfw, ReplacesAnExistingFile) {
    unit::TempDir dir;
    const std::string spec = dir.file("fw.json"), out = dir.file("fw.elf");
    unit::writeText(spec, "{}");
    unit::writeText(out, "old contents");
    ASSERT_EQ(chmod(out.c_str(), 0600), 0);
    const MkfwRun r = mkfw({"--spec", spec, "--out", out});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(fw::parse(unit::readFile(out)));
    struct stat st {};
    ASSERT_EQ(stat(out.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0644u);
    EXPECT_EQ(entries(dir.path()), 2u);
}

TEST(Mkfw, DefectsAreRejectedByTheParser) {
    unit::TempDir dir;
    const std::string spec = dir.file("fw.json");
    unit::writeText(spec, "{}");
    for (const auto& name : fw::defectNames()) {
        const std::string out = dir.file(name + ".elf");
        const MkfwRun r = mkfw({"--spec", spec, "--out", out, "--defect", name});
        ASSERT_EQ(r.code, 0) << name << ": " << r.err;
        const fw::ParseResult p = fw::parse(unit::readFile(out));
        EXPECT_FALSE(p) << name;
        EXPECT_EQ(p.problem.error, EINVAL) << name;
    }
    const MkfwRun r =
        mkfw({"--spec", spec, "--out", dir.file("x.elf"), "--defect", "no-resource-table"});
    ASSERT_EQ(r.code, 0);
    EXPECT_EQ(fw::parse(unit::readFile(dir.file("x.elf"))).problem.message,
              "no .resource_table section");
}

TEST(Mkfw, InvalidSpecNamesFileAndPath) {
    unit::TempDir dir;
    const std::string spec = dir.file("bad.json"), out = dir.file("fw.elf");
    unit::writeText(spec, R"({"services":[{"name":"x","addr":1,"kind":"pong"}]})");
    const MkfwRun r = mkfw({"--spec", spec, "--out", out});
    EXPECT_EQ(r.code, 1);
    EXPECT_EQ(r.err,
              "rpmsg-sim mkfw: " + spec +
                  ": /services/0/kind: expected one of echo, sink, stream, tty, got \"pong\"\n");
    EXPECT_FALSE(std::filesystem::exists(out));

    unit::writeText(spec, "{ nope");
    const MkfwRun j = mkfw({"--spec", spec, "--out", out});
    EXPECT_EQ(j.code, 1);
    EXPECT_NE(j.err.find(spec + ": invalid JSON: parse error"), std::string::npos) << j.err;
    EXPECT_FALSE(std::filesystem::exists(out));
}

TEST(Mkfw, IoErrors) {
    unit::TempDir dir;
    {
        const MkfwRun r = mkfw({"--spec", dir.file("missing.json"), "--out", dir.file("fw.elf")});
        EXPECT_EQ(r.code, 1);
        EXPECT_NE(r.err.find(dir.file("missing.json") + ": cannot open: No such file or directory"),
                  std::string::npos)
            << r.err;
    }
    {
        const MkfwRun r = mkfw({"--spec", dir.path().string(), "--out", dir.file("fw.elf")});
        EXPECT_EQ(r.code, 1);
        EXPECT_NE(r.err.find("is a directory"), std::string::npos) << r.err;
    }
    {
        const std::string spec = dir.file("fw.json");
        unit::writeText(spec, "{}");
        const std::string out = dir.file("no/such/dir/fw.elf");
        const MkfwRun r = mkfw({"--spec", spec, "--out", out});
        EXPECT_EQ(r.code, 1);
        EXPECT_NE(r.err.find(out + ": cannot create a temporary file in"), std::string::npos)
            << r.err;
    }
    {
        // The target is a directory: rename fails, and the temporary file is removed.
        const std::string spec = dir.file("fw.json");
        const std::filesystem::path sub = dir.path() / "sub";
        std::filesystem::create_directories(sub / "target" / "inner");
        const MkfwRun r = mkfw({"--spec", spec, "--out", (sub / "target").string()});
        EXPECT_EQ(r.code, 1);
        EXPECT_NE(r.err.find("cannot write"), std::string::npos) << r.err;
        EXPECT_EQ(entries(sub), 1u);
    }
}

TEST(Mkfw, ReadsTheSpecFromStdin) {
    unit::TempDir dir;
    const std::string spec = dir.file("stdin.json"), out = dir.file("fw.elf");
    unit::writeText(spec, R"({"boot_ms": 700000})");
    const int saved = dup(STDIN_FILENO);
    ASSERT_GE(saved, 0);
    const auto withStdin = [&](const std::string& path) {
        const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
        EXPECT_GE(fd, 0);
        dup2(fd, STDIN_FILENO);
        close(fd);
        const MkfwRun r = mkfw({"--spec", "-", "--out", out});
        dup2(saved, STDIN_FILENO);
        return r;
    };
    const MkfwRun bad = withStdin(spec);
    EXPECT_EQ(bad.code, 1);
    EXPECT_EQ(bad.err, "rpmsg-sim mkfw: <stdin>: /boot_ms: expected an integer from 0 to "
                       "600000, got 700000\n");

    unit::writeText(spec, R"({"boot_ms": 70})");
    const MkfwRun good = withStdin(spec);
    close(saved);
    ASSERT_EQ(good.code, 0) << good.err;
    const fw::ParseResult p = fw::parse(unit::readFile(out));
    ASSERT_TRUE(p) << p.problem.message;
    EXPECT_EQ(nlohmann::json::parse(*p.image->behaviour)["boot_ms"], 70);
}
