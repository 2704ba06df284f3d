// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// `rpmsg-sim mkfw`: real, readelf-clean ELF images from behaviour specs (sim README "Simulated
// firmware"; docs/kernel-abi.md §3). These need no mount, only the binary.

#include "common/firmware_builder.h"
#include "sim_fixture.h"

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace simtest {
namespace {

class Mkfw : public ::testing::Test {
protected:
    void SetUp() override {
        bin_ = simBinary();
        ASSERT_EQ(::access(bin_.c_str(), X_OK), 0)
            << "rpmsg-sim binary not found: '" << bin_ << "' (set RPMSG_SIM)";
        tmp_ = std::make_unique<TempDir>("rpmsg-sim-mkfw");
    }

    CommandResult mkfw(const nlohmann::json& spec, const std::string& out,
                       const std::string& defect = "") {
        const std::string specPath = tmp_->path() + "/" + out + ".json";
        writeTextFile(specPath, spec.dump(2));
        return mkfwRaw(specPath, out, defect);
    }

    CommandResult mkfwRaw(const std::string& specPath, const std::string& out,
                          const std::string& defect = "") {
        std::vector<std::string> argv = {bin_,     "mkfw",  "--spec",
                                         specPath, "--out", tmp_->path() + "/" + out};
        if (!defect.empty()) {
            argv.insert(argv.end(), {"--defect", defect});
        }
        return runCommand(argv);
    }

    std::vector<uint8_t> bytes(const std::string& out) {
        std::ifstream in(tmp_->path() + "/" + out, std::ios::binary);
        return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    }

    static nlohmann::json fullSpec() { return nlohmann::json::parse(ReadmeSpec); }

    std::string bin_;
    std::unique_ptr<TempDir> tmp_;
};

TEST_F(Mkfw, ReadelfSeesLoadSegmentAndSections) {
    const auto r = mkfw(fullSpec(), "fw.elf");
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const auto re = runCommand({"readelf", "-W", "-h", "-l", "-S", tmp_->path() + "/fw.elf"});
    ASSERT_EQ(re.exitCode, 0) << re.err;
    EXPECT_TRUE(re.err.empty()) << "readelf complained:\n" << re.err;
    EXPECT_NE(re.out.find("ELF32"), std::string::npos) << re.out;
    EXPECT_NE(re.out.find("little endian"), std::string::npos);
    EXPECT_NE(re.out.find("ARM"), std::string::npos);
    EXPECT_NE(re.out.find("LOAD"), std::string::npos);
    EXPECT_NE(re.out.find(".resource_table"), std::string::npos);
    EXPECT_NE(re.out.find(".rpmsg_sim"), std::string::npos);
    const auto all = runCommand({"readelf", "-a", "-W", tmp_->path() + "/fw.elf"});
    EXPECT_EQ(all.exitCode, 0);
    EXPECT_TRUE(all.err.empty()) << all.err;
}

TEST_F(Mkfw, ImageParsesBackToTheSpec) {
    ASSERT_EQ(mkfw(fullSpec(), "fw.elf").exitCode, 0);
    const auto data = bytes("fw.elf");
    const auto parsed = rpmsgd::fw::parse(data);
    ASSERT_TRUE(parsed) << parsed.problem.message;
    const auto& img = *parsed.image;
    EXPECT_EQ(img.elfClass, 1);
    EXPECT_EQ(img.machine, 40);
    ASSERT_FALSE(img.segments.empty());
    ASSERT_TRUE(img.hasResourceTable);
    ASSERT_EQ(img.resources.size(), 2u);
    EXPECT_EQ(img.resources[0].type, rpmsgd::fw::RscTrace);
    EXPECT_EQ(img.resources[0].name, "trace0");
    EXPECT_EQ(img.resources[0].len, 1024u);
    const auto& vdev = img.resources[1];
    EXPECT_EQ(vdev.type, rpmsgd::fw::RscVdev);
    EXPECT_EQ(vdev.id, rpmsgd::fw::VirtioIdRpmsg);
    EXPECT_EQ(vdev.dfeatures & rpmsgd::fw::VirtioRpmsgFNs, rpmsgd::fw::VirtioRpmsgFNs);
    ASSERT_EQ(vdev.vrings.size(), 2u);
    EXPECT_EQ(vdev.vrings[0].num, 256u);
    EXPECT_EQ(vdev.vrings[1].num, 256u);
    ASSERT_TRUE(img.behaviour.has_value());
    const auto behaviour = nlohmann::json::parse(*img.behaviour);
    EXPECT_EQ(behaviour["boot_ms"], 20);
    ASSERT_EQ(behaviour["services"].size(), 4u);
    EXPECT_EQ(behaviour["services"][1]["name"], "rpmsg-sensor");
    EXPECT_EQ(behaviour["services"][1]["kind"], "stream");
    EXPECT_EQ(behaviour["trace"][1], "echo ready");
}

TEST_F(Mkfw, ImageOptionsChangeTheElf) {
    auto spec = fullSpec();
    spec["image"] = {{"name_service", false}, {"trace_len", 0}, {"machine", 243}};
    ASSERT_EQ(mkfw(spec, "opt.elf").exitCode, 0);
    const auto parsed = rpmsgd::fw::parse(bytes("opt.elf"));
    ASSERT_TRUE(parsed) << parsed.problem.message;
    EXPECT_EQ(parsed.image->machine, 243);
    ASSERT_EQ(parsed.image->resources.size(), 1u) << "no trace entry";
    EXPECT_EQ(parsed.image->resources[0].type, rpmsgd::fw::RscVdev);
    EXPECT_EQ(parsed.image->resources[0].dfeatures & rpmsgd::fw::VirtioRpmsgFNs, 0u);
}

TEST_F(Mkfw, CliAndLibraryBuildTheSameImage) {
    const nlohmann::json spec = {{"boot_ms", 5},
                                 {"services", {{{"name", "a"}, {"addr", 1024}, {"kind", "echo"}}}}};
    ASSERT_EQ(mkfw(spec, "cli.elf").exitCode, 0);
    const auto cli = rpmsgd::fw::parse(bytes("cli.elf"));
    ASSERT_TRUE(cli) << cli.problem.message;
    ASSERT_TRUE(cli.image->behaviour.has_value());
    rpmsgd::fw::BuildOptions options;
    options.behaviour = *cli.image->behaviour;
    const auto lib = rpmsgd::fw::parse(rpmsgd::fw::build(options));
    ASSERT_TRUE(lib) << lib.problem.message;
    EXPECT_EQ(lib.image->resources.size(), cli.image->resources.size());
    EXPECT_EQ(lib.image->machine, cli.image->machine);
    EXPECT_EQ(lib.image->behaviour, cli.image->behaviour);
}

class MkfwDefect : public Mkfw, public ::testing::WithParamInterface<std::string> {};

TEST_P(MkfwDefect, BuildsAnImageTheParserRejectsWithEINVAL) {
    const auto r = mkfw(fullSpec(), "bad.elf", GetParam());
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const auto parsed = rpmsgd::fw::parse(bytes("bad.elf"));
    EXPECT_FALSE(parsed) << GetParam();
    EXPECT_EQ(parsed.problem.error, EINVAL) << GetParam();
    EXPECT_FALSE(parsed.problem.message.empty());
}

INSTANTIATE_TEST_SUITE_P(AllDefects, MkfwDefect, ::testing::ValuesIn(rpmsgd::fw::defectNames()),
                         defectTestName);

TEST_F(Mkfw, InvalidSpecNamesTheJsonPath) {
    auto spec = fullSpec();
    spec["services"][2]["kind"] = "pong";
    const auto r = mkfw(spec, "x.elf");
    EXPECT_NE(r.exitCode, 0);
    EXPECT_NE(r.err.find("/services/2/kind"), std::string::npos) << r.err;
    struct stat st {};
    EXPECT_NE(::stat((tmp_->path() + "/x.elf").c_str(), &st), 0) << "no output on error";

    auto bad = fullSpec();
    bad["boot_ms"] = "soon";
    const auto r2 = mkfw(bad, "y.elf");
    EXPECT_NE(r2.exitCode, 0);
    EXPECT_NE(r2.err.find("/boot_ms"), std::string::npos) << r2.err;

    auto unknown = fullSpec();
    unknown["services"][0]["colour"] = "red";
    const auto r3 = mkfw(unknown, "z.elf");
    EXPECT_NE(r3.exitCode, 0);
    EXPECT_NE(r3.err.find("/services/0/colour"), std::string::npos) << r3.err;

    auto reserved = fullSpec();
    reserved["services"][0]["addr"] = 53;
    const auto r4 = mkfw(reserved, "w.elf");
    EXPECT_NE(r4.exitCode, 0);
    EXPECT_NE(r4.err.find("/services/0/addr"), std::string::npos) << r4.err;
}

TEST_F(Mkfw, MalformedJsonAndUsageErrors) {
    const std::string specPath = tmp_->path() + "/broken.json";
    writeTextFile(specPath, "{ \"boot_ms\": ");
    const auto r = mkfwRaw(specPath, "b.elf");
    EXPECT_NE(r.exitCode, 0);
    EXPECT_FALSE(r.err.empty());
    const auto missing = mkfwRaw(tmp_->path() + "/nope.json", "n.elf");
    EXPECT_NE(missing.exitCode, 0);
    EXPECT_NE(missing.err.find("nope.json"), std::string::npos) << missing.err;
    const auto noOut = runCommand({bin_, "mkfw", "--spec", specPath});
    EXPECT_NE(noOut.exitCode, 0);
    const auto badDefect = mkfw(fullSpec(), "d.elf", "cosmic-ray");
    EXPECT_NE(badDefect.exitCode, 0);
    EXPECT_NE(badDefect.err.find("cosmic-ray"), std::string::npos) << badDefect.err;
}

} // namespace
} // namespace simtest
