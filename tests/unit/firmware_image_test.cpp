// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "common/firmware_builder.h"
#include "common/resource_table_text.h"
#include "test_util.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <elf.h>
#include <random>
#include <string>
#include <sys/wait.h>

#include <gtest/gtest.h>

namespace fw = rpmsgd::fw;

namespace {

constexpr uint32_t LoadAddress = 0x1FFE0000;

fw::BuildOptions defaultOptions() {
    fw::BuildOptions o;
    o.behaviour = R"({"boot_ms":20,"services":[]})";
    return o;
}

// Typed access to the ELF32 structures of an image, for planting hand-made faults.
class Elf32Editor {
public:
    explicit Elf32Editor(std::vector<uint8_t>& bytes) : b_(bytes) {}

    Elf32_Ehdr ehdr() const { return get<Elf32_Ehdr>(0); }
    void setEhdr(const Elf32_Ehdr& e) { set(0, e); }
    Elf32_Phdr phdr(unsigned i) const { return get<Elf32_Phdr>(ehdr().e_phoff + i * 32); }
    void setPhdr(unsigned i, const Elf32_Phdr& p) { set(ehdr().e_phoff + i * 32, p); }
    Elf32_Shdr shdr(unsigned i) const { return get<Elf32_Shdr>(ehdr().e_shoff + i * 40); }
    void setShdr(unsigned i, const Elf32_Shdr& s) { set(ehdr().e_shoff + i * 40, s); }

    unsigned section(const std::string& name) const {
        const Elf32_Shdr names = shdr(ehdr().e_shstrndx);
        for (unsigned i = 0; i < ehdr().e_shnum; ++i) {
            const char* n =
                reinterpret_cast<const char*>(b_.data()) + names.sh_offset + shdr(i).sh_name;
            if (name == n) {
                return i;
            }
        }
        throw std::runtime_error("no section " + name);
    }
    uint32_t tableOffset() const { return shdr(section(".resource_table")).sh_offset; }
    uint32_t tableU32(uint32_t at) const { return get<uint32_t>(tableOffset() + at); }
    void setTableU32(uint32_t at, uint32_t v) { set(tableOffset() + at, v); }
    void setTableU8(uint32_t at, uint8_t v) { b_.at(tableOffset() + at) = v; }
    // Replaces the table's contents (zero-padded to the section size).
    void rewriteTable(const std::vector<uint32_t>& words) {
        const Elf32_Shdr s = shdr(section(".resource_table"));
        ASSERT_LE(words.size() * 4, s.sh_size);
        std::fill_n(b_.begin() + s.sh_offset, s.sh_size, 0);
        for (size_t i = 0; i < words.size(); ++i) {
            set(s.sh_offset + static_cast<uint32_t>(i * 4), words[i]);
        }
    }

private:
    template <typename T>
    T get(uint64_t at) const {
        if (at + sizeof(T) > b_.size()) {
            throw std::out_of_range("editor read beyond the image");
        }
        T v;
        std::memcpy(&v, b_.data() + at, sizeof v);
        return v;
    }
    template <typename T>
    void set(uint64_t at, const T& v) {
        if (at + sizeof(T) > b_.size()) {
            throw std::out_of_range("editor write beyond the image");
        }
        std::memcpy(b_.data() + at, &v, sizeof v);
    }
    std::vector<uint8_t>& b_;
};

// Expects an EINVAL refusal whose message contains @p needle.
void expectRefused(const std::vector<uint8_t>& bytes, const std::string& needle) {
    const fw::ParseResult r = fw::parse(bytes);
    ASSERT_FALSE(r) << "image accepted, expected: " << needle;
    EXPECT_EQ(r.problem.error, EINVAL);
    EXPECT_NE(r.problem.message.find(needle), std::string::npos)
        << "message: " << r.problem.message << "\nexpected to contain: " << needle;
}

// @p good after @p edit through an Elf32Editor (which gets the bytes too).
template <typename Edit>
std::vector<uint8_t> edited(const std::vector<uint8_t>& good, Edit&& edit) {
    auto b = good;
    Elf32Editor e(b);
    edit(e, b);
    return b;
}

// @p good with its ELF header edited by @p edit.
template <typename Edit>
std::vector<uint8_t> withHeader(const std::vector<uint8_t>& good, Edit&& edit) {
    return edited(good, [&](Elf32Editor& e, std::vector<uint8_t>& b) {
        auto h = e.ehdr();
        edit(h, b);
        e.setEhdr(h);
    });
}

// @p good with section header @p index (or that of the section named @p name) edited.
template <typename Edit>
std::vector<uint8_t> withSection(const std::vector<uint8_t>& good, const char* name, Edit&& edit) {
    return edited(good, [&](Elf32Editor& e, std::vector<uint8_t>&) {
        const unsigned i = name != nullptr ? e.section(name) : e.ehdr().e_shstrndx;
        auto s = e.shdr(i);
        edit(s, e);
        e.setShdr(i, s);
    });
}

// Every outcome must be a valid image or an EINVAL with a message; images obey the invariants.
void expectSaneOutcome(const std::vector<uint8_t>& bytes) {
    const fw::ParseResult r = fw::parse(bytes);
    if (!r) {
        EXPECT_EQ(r.problem.error, EINVAL);
        EXPECT_FALSE(r.problem.message.empty());
        return;
    }
    EXPECT_TRUE(r.image->hasResourceTable);
    for (const auto& s : r.image->segments) {
        EXPECT_LE(s.filesz, s.memsz);
        EXPECT_LE(s.offset + s.filesz, bytes.size());
    }
    for (const auto& res : r.image->resources) {
        EXPECT_LE(res.vrings.size(), 2u);
    }
    (void)fw::describeResourceTable(&*r.image);
}

} // namespace

TEST(FirmwareImage, GoodImageParses) {
    const auto bytes = fw::build(defaultOptions());
    const fw::ParseResult r = fw::parse(bytes);
    ASSERT_TRUE(r) << r.problem.message;
    const fw::Image& img = *r.image;
    EXPECT_EQ(img.elfClass, 1);
    EXPECT_EQ(img.machine, EM_ARM);
    EXPECT_EQ(img.entry, LoadAddress + 9u); // Thumb reset handler
    ASSERT_EQ(img.segments.size(), 1u);
    const fw::Segment& seg = img.segments[0];
    EXPECT_EQ(seg.paddr, LoadAddress);
    EXPECT_EQ(seg.vaddr, LoadAddress);
    EXPECT_EQ(seg.flags, unsigned{PF_R | PF_W | PF_X});
    EXPECT_LE(seg.offset + seg.filesz, bytes.size());
    ASSERT_TRUE(img.hasResourceTable);
    ASSERT_EQ(img.resources.size(), 2u);

    const fw::Resource& trace = img.resources[0];
    EXPECT_EQ(trace.type, fw::RscTrace);
    EXPECT_EQ(trace.offset, 24u);
    EXPECT_EQ(trace.name, "trace0");
    EXPECT_EQ(trace.len, 1024u);
    // The trace buffer is the segment's zero-filled tail.
    EXPECT_GE(trace.da, seg.paddr + seg.filesz);
    EXPECT_EQ(trace.da + trace.len, seg.paddr + seg.memsz);

    const fw::Resource& vdev = img.resources[1];
    EXPECT_EQ(vdev.type, fw::RscVdev);
    EXPECT_EQ(vdev.offset, 24u + 48u);
    EXPECT_EQ(vdev.id, fw::VirtioIdRpmsg);
    EXPECT_EQ(vdev.dfeatures, fw::VirtioRpmsgFNs);
    EXPECT_EQ(vdev.gfeatures, 0u);
    EXPECT_EQ(vdev.configLen, 0u);
    ASSERT_EQ(vdev.vrings.size(), 2u);
    for (uint32_t i = 0; i < 2; ++i) {
        EXPECT_EQ(vdev.vrings[i].da, fw::FwRscAddrAny);
        EXPECT_EQ(vdev.vrings[i].align, 16u);
        EXPECT_EQ(vdev.vrings[i].num, 256u);
        EXPECT_EQ(vdev.vrings[i].notifyId, i);
    }
    ASSERT_TRUE(img.behaviour.has_value());
    EXPECT_EQ(*img.behaviour, defaultOptions().behaviour);
}

TEST(FirmwareImage, BuildOptionsAreHonoured) {
    fw::BuildOptions o;
    o.nameService = false;
    o.traceLen = 0;
    o.machine = 164; // EM_QDSP6
    o.vringNum = 64;
    const fw::ParseResult r = fw::parse(fw::build(o));
    ASSERT_TRUE(r) << r.problem.message;
    EXPECT_EQ(r.image->machine, 164);
    EXPECT_FALSE(r.image->behaviour.has_value());
    ASSERT_EQ(r.image->resources.size(), 1u);
    const fw::Resource& vdev = r.image->resources[0];
    EXPECT_EQ(vdev.type, fw::RscVdev);
    EXPECT_EQ(vdev.dfeatures, 0u);
    EXPECT_EQ(vdev.vrings.at(0).num, 64u);
    EXPECT_EQ(vdev.vrings.at(1).num, 64u);
    // Without a trace buffer the segment holds exactly its file bytes.
    EXPECT_EQ(r.image->segments.at(0).filesz, r.image->segments.at(0).memsz);
}

TEST(FirmwareImage, Elf64ImageParses) {
    fw::BuildOptions o = defaultOptions();
    o.elf64 = true;
    o.machine = EM_AARCH64;
    const auto bytes = fw::build(o);
    const fw::ParseResult r = fw::parse(bytes);
    ASSERT_TRUE(r) << r.problem.message;
    EXPECT_EQ(r.image->elfClass, 2);
    EXPECT_EQ(r.image->machine, EM_AARCH64);
    ASSERT_EQ(r.image->segments.size(), 1u);
    EXPECT_EQ(r.image->segments[0].paddr, LoadAddress);
    EXPECT_EQ(r.image->resources.size(), 2u);
    EXPECT_EQ(r.image->behaviour, o.behaviour);
}

struct DefectCase {
    fw::Defect defect;
    const char* message;
};

class FirmwareDefect : public testing::TestWithParam<std::tuple<DefectCase, bool>> {};

TEST_P(FirmwareDefect, RejectedWithEinvalAndSpecificMessage) {
    const auto& [c, elf64] = GetParam();
    fw::BuildOptions o = defaultOptions();
    o.defect = c.defect;
    o.elf64 = elf64;
    expectRefused(fw::build(o), c.message);
}

INSTANTIATE_TEST_SUITE_P(
    AllDefects, FirmwareDefect,
    testing::Combine(
        testing::Values(DefectCase{fw::Defect::BadMagic, "not an ELF file (bad magic)"},
                        DefectCase{fw::Defect::TooSmall, "image is too small (40 bytes"},
                        DefectCase{fw::Defect::NoSectionHeaders,
                                   "no .resource_table section (the image has no section headers)"},
                        DefectCase{fw::Defect::NoResourceTable, "no .resource_table section"},
                        DefectCase{fw::Defect::TruncatedResourceTable,
                                   "the vdev resource (entry 1) is truncated"},
                        DefectCase{fw::Defect::BadResourceTableVersion,
                                   "unsupported resource table version 2"},
                        DefectCase{fw::Defect::NoLoadableSegments, "no loadable segments"},
                        DefectCase{fw::Defect::BigEndian,
                                   "unsupported firmware endianness: the image is big-endian"},
                        DefectCase{fw::Defect::SegmentBeyondFile, "segment 0 is truncated"}),
        testing::Bool()),
    [](const auto& info) {
        std::string name = fw::defectName(std::get<0>(info.param).defect);
        name += std::get<1>(info.param) ? "_elf64" : "_elf32";
        std::replace(name.begin(), name.end(), '-', '_');
        return name;
    });

TEST(FirmwareImage, DefectNamesRoundTrip) {
    const auto names = fw::defectNames();
    EXPECT_EQ(names.size(), 9u);
    for (const auto& name : names) {
        const auto d = fw::defectFromName(name);
        ASSERT_TRUE(d.has_value()) << name;
        EXPECT_EQ(fw::defectName(*d), name);
    }
    EXPECT_EQ(fw::defectFromName("bad-magic"), fw::Defect::BadMagic);
    EXPECT_EQ(fw::defectFromName("segment-beyond-file"), fw::Defect::SegmentBeyondFile);
    EXPECT_FALSE(fw::defectFromName("none").has_value());
    EXPECT_FALSE(fw::defectFromName("Bad-Magic").has_value());
    EXPECT_FALSE(fw::defectFromName("").has_value());
}

// ---- readelf ----

namespace {

bool haveReadelf() {
    return std::system("command -v readelf >/dev/null 2>&1") == 0;
}

std::string readelf(const std::string& path, int& status) {
    const std::string cmd = "readelf -a -W '" + path + "' 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) {
        throw std::runtime_error("popen failed");
    }
    std::string out;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) {
        out.append(buf, n);
    }
    const int raw = pclose(p);
    status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
    return out;
}

void expectReadelfClean(const fw::BuildOptions& o) {
    unit::TempDir dir;
    const std::string path = dir.file("fw.elf");
    unit::writeFile(path, fw::build(o));
    int status = 0;
    const std::string out = readelf(path, status);
    EXPECT_EQ(status, 0) << out;
    std::string lower = out;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    EXPECT_EQ(lower.find("warning"), std::string::npos) << out;
    EXPECT_EQ(lower.find("error"), std::string::npos) << out;
    EXPECT_NE(out.find(".resource_table"), std::string::npos) << out;
    EXPECT_NE(out.find("LOAD"), std::string::npos) << out;
    if (!o.behaviour.empty()) {
        EXPECT_NE(out.find(".rpmsg_sim"), std::string::npos) << out;
    }
}

} // namespace

TEST(FirmwareImage, ReadelfAcceptsGoodImages) {
    if (!haveReadelf()) {
        GTEST_SKIP() << "readelf (binutils) is not installed";
    }
    expectReadelfClean(defaultOptions());
    fw::BuildOptions bare;
    bare.traceLen = 0;
    expectReadelfClean(bare);
    fw::BuildOptions wide = defaultOptions();
    wide.elf64 = true;
    wide.machine = EM_AARCH64;
    expectReadelfClean(wide);
}

// ---- hostile input ----

TEST(FirmwareImage, EveryTruncationIsRefused) {
    for (bool elf64 : {false, true}) {
        fw::BuildOptions o = defaultOptions();
        o.elf64 = elf64;
        const auto full = fw::build(o);
        ASSERT_TRUE(fw::parse(full));
        for (size_t len = 0; len < full.size(); ++len) {
            const std::vector<uint8_t> prefix(full.begin(), full.begin() + len);
            const fw::ParseResult r = fw::parse(prefix);
            // The section headers come last, so no proper prefix can be a valid image.
            ASSERT_FALSE(r) << "prefix of " << len << " bytes accepted";
            ASSERT_EQ(r.problem.error, EINVAL) << len;
            ASSERT_FALSE(r.problem.message.empty()) << len;
        }
    }
}

TEST(FirmwareImage, RandomBytesNeverCrash) {
    std::mt19937 rng(12345);
    for (int i = 0; i < 3000; ++i) {
        std::vector<uint8_t> bytes(rng() % 600);
        for (auto& b : bytes) {
            b = static_cast<uint8_t>(rng());
        }
        // Half of them get a plausible ELF identification to reach the deeper checks.
        if (i % 2 && bytes.size() >= 16) {
            std::memcpy(bytes.data(), ELFMAG, SELFMAG);
            bytes[EI_CLASS] = static_cast<uint8_t>(1 + rng() % 2);
            bytes[EI_DATA] = ELFDATA2LSB;
        }
        expectSaneOutcome(bytes);
    }
}

TEST(FirmwareImage, MutatedImagesNeverCrash) {
    std::mt19937 rng(777);
    for (bool elf64 : {false, true}) {
        fw::BuildOptions o = defaultOptions();
        o.elf64 = elf64;
        const auto good = fw::build(o);
        for (int i = 0; i < 20000; ++i) {
            auto bytes = good;
            const int flips = 1 + static_cast<int>(rng() % 4);
            for (int f = 0; f < flips; ++f) {
                const size_t at = rng() % bytes.size();
                // Extreme values hit overflow paths more often than random ones.
                switch (rng() % 4) {
                case 0:
                    bytes[at] = 0xFF;
                    break;
                case 1:
                    bytes[at] = 0;
                    break;
                default:
                    bytes[at] = static_cast<uint8_t>(rng());
                }
            }
            expectSaneOutcome(bytes);
        }
    }
}

TEST(FirmwareImage, HeaderChecksInKernelOrder) {
    const auto good = fw::build(defaultOptions());
    {
        auto b = good;
        b[EI_CLASS] = 3;
        expectRefused(b, "unsupported ELF class 3");
    }
    {
        auto b = good;
        b[EI_CLASS] = ELFCLASS64;
        b.resize(60);
        expectRefused(b, "too small for an ELF64 header (60 bytes");
    }
    {
        // Bad magic is reported before the class.
        auto b = good;
        b[0] = 0;
        b[EI_CLASS] = 9;
        expectRefused(b, "bad magic");
    }
    {
        auto b = good;
        b[EI_DATA] = 7;
        expectRefused(b, "unknown endianness");
    }
    // 0xfffffff0 would overflow a 32-bit sum.
    expectRefused(withHeader(good, [](auto& h, auto&) { h.e_shoff = 0xFFFFFFF0; }),
                  "the section header table at offset 0xfffffff0 does not fit");
    // e_phnum is checked before e_phoff.
    expectRefused(withHeader(good,
                             [](auto& h, auto&) {
                                 h.e_phnum = 0;
                                 h.e_phoff = 0x7FFFFFFF;
                             }),
                  "no loadable segments");
    expectRefused(
        withHeader(good,
                   [](auto& h, auto& b) { h.e_phoff = static_cast<Elf32_Off>(b.size() + 1); }),
        "program header table offset");
}

TEST(FirmwareImage, Elf64HugeOffsetsDoNotOverflow) {
    fw::BuildOptions o = defaultOptions();
    o.elf64 = true;
    const auto good = fw::build(o);
    {
        auto b = good;
        Elf64_Ehdr h;
        std::memcpy(&h, b.data(), sizeof h);
        h.e_shoff = ~uint64_t{0} - 10;
        std::memcpy(b.data(), &h, sizeof h);
        expectRefused(b, "does not fit in the file");
    }
    {
        auto b = good;
        Elf64_Ehdr h;
        std::memcpy(&h, b.data(), sizeof h);
        Elf64_Phdr p;
        std::memcpy(&p, b.data() + h.e_phoff, sizeof p);
        p.p_offset = ~uint64_t{0} - 4;
        p.p_filesz = 16;
        p.p_memsz = 16;
        std::memcpy(b.data() + h.e_phoff, &p, sizeof p);
        expectRefused(b, "segment 0 is truncated");
    }
}

TEST(FirmwareImage, SectionTableFaults) {
    const auto good = fw::build(defaultOptions());
    expectRefused(withHeader(good, [](auto& h, auto&) { h.e_shnum = 0xFFFF; }),
                  "the section header table is truncated: 65535 headers");
    expectRefused(withHeader(good, [](auto& h, auto&) { h.e_shstrndx = h.e_shnum; }),
                  "section name table index 5 is out of range (5 sections)");
    // nullptr: the section name table.
    expectRefused(
        withSection(good, nullptr, [](auto& names, auto&) { names.sh_size = 0x7FFFFFFF; }),
        "the section name table (offset");
    // A name offset outside the name table matches nothing.
    expectRefused(withSection(good, ".resource_table", [](auto& s, auto&) { s.sh_name = 0x10000; }),
                  "no .resource_table section");
    // A name table without a terminating NUL matches nothing either.
    expectRefused(edited(good,
                         [](Elf32Editor& e, auto&) {
                             auto names = e.shdr(e.ehdr().e_shstrndx);
                             names.sh_size = e.shdr(e.section(".resource_table")).sh_name + 5;
                             e.setShdr(e.ehdr().e_shstrndx, names); // ".reso", unterminated
                         }),
                  "no .resource_table section");
    expectRefused(
        withSection(good, ".resource_table", [](auto& s, auto&) { s.sh_offset = 0xFFFFFF00; }),
        "the .resource_table section (offset 0xffffff00");
    expectRefused(withSection(good, ".resource_table", [](auto& s, auto&) { s.sh_size = 15; }),
                  "the resource table has no header");
}

TEST(FirmwareImage, ResourceTableFaults) {
    const auto good = fw::build(defaultOptions());
    const auto edited = [&](auto&& edit) {
        return ::edited(good, [&](Elf32Editor& e, auto&) { edit(e); });
    };
    expectRefused(edited([](Elf32Editor& e) { e.setTableU32(8, 1); }),
                  "non-zero reserved header bytes");
    expectRefused(edited([](Elf32Editor& e) { e.setTableU32(12, 1); }),
                  "non-zero reserved header bytes");
    expectRefused(edited([](Elf32Editor& e) { e.setTableU32(4, 100000); }),
                  "100000 entry offsets do not fit");
    expectRefused(edited([](Elf32Editor& e) { e.setTableU32(4, 0xFFFFFFFF); }),
                  "4294967295 entry offsets do not fit");
    expectRefused(edited([](Elf32Editor& e) { e.setTableU32(20, 0xFFFFFFFE); }),
                  "the resource table is truncated: entry 1 at offset 4294967294");
    expectRefused(edited([](Elf32Editor& e) { e.setTableU32(16, 138); }),
                  "entry 0 at offset 138 lies outside the 140-byte table");
    // Trace entry at 24: reserved at body + 8.
    expectRefused(edited([](Elf32Editor& e) { e.setTableU32(24 + 4 + 8, 1); }),
                  "the trace resource (entry 0) has non-zero reserved bytes");
    // Vdev entry at 72: body at 76; reserved bytes at 98, 99; vrings from 100.
    expectRefused(edited([](Elf32Editor& e) { e.setTableU8(99, 1); }),
                  "the vdev resource (entry 1) has non-zero reserved bytes");
    expectRefused(edited([](Elf32Editor& e) { e.setTableU32(100 + 8, 0); }),
                  "vring 0 of the vdev resource (entry 1) is invalid: num 0, align 16");
    expectRefused(edited([](Elf32Editor& e) { e.setTableU32(120 + 4, 0); }),
                  "vring 1 of the vdev resource (entry 1) is invalid: num 256, align 0");
    expectRefused(edited([](Elf32Editor& e) { e.setTableU32(76 + 16, 1); }),
                  "1 config bytes need 65 bytes, the table has 64 left");
    expectRefused(edited([](Elf32Editor& e) { e.setTableU8(97, 3); }),
                  "the vdev resource (entry 1) is truncated: 3 vrings");
}

TEST(FirmwareImage, HandMadeResourceTables) {
    auto base = fw::build(defaultOptions()); // 140-byte table
    {
        // Three vrings fit in the section but the kernel supports two.
        auto b = base;
        Elf32Editor e(b);
        std::vector<uint32_t> t = {1, 1, 0, 0, 20, fw::RscVdev, 7, 0, 1, 0, 0, 3u << 8};
        for (uint32_t i = 0; i < 3; ++i) {
            t.insert(t.end(), {fw::FwRscAddrAny, 16, 256, i, 0});
        }
        e.rewriteTable(t);
        expectRefused(b, "the vdev resource (entry 0) has 3 vrings; at most 2 are supported");
    }
    {
        auto b = base;
        Elf32Editor e(b);
        std::vector<uint32_t> t = {1, 1, 0, 0, 20, fw::RscDevmem, 0x1000, 0x2000, 0x100, 0, 0};
        e.rewriteTable(t);
        expectRefused(b, "devmem resource (entry 0) needs an IOMMU");
    }
    {
        // Carveout (with name), vendor and unknown types; zero-vring vdev.
        auto b = base;
        Elf32Editor e(b);
        std::vector<uint32_t> t = {1, 4, 0, 0, 32, 88, 92, 96,
                                   // carveout at 32: da pa len flags reserved name[32]
                                   fw::RscCarveout, 0x100000, 0x200000, 0x8000, 3, 0};
        const char name[32] = "dram";
        uint32_t words[8];
        std::memcpy(words, name, sizeof name);
        t.insert(t.end(), words, words + 8);
        t.push_back(128);         // vendor type at 88
        t.push_back(77);          // unknown type at 92
        t.push_back(fw::RscVdev); // vdev at 96, 24-byte body, no vrings
        t.insert(t.end(), {3, 5, 0, 0, 0, 0});
        e.rewriteTable(t);
        const fw::ParseResult r = fw::parse(b);
        ASSERT_TRUE(r) << r.problem.message;
        ASSERT_EQ(r.image->resources.size(), 4u);
        const auto& c = r.image->resources[0];
        EXPECT_EQ(c.type, fw::RscCarveout);
        EXPECT_EQ(c.offset, 32u);
        EXPECT_EQ(c.da, 0x100000u);
        EXPECT_EQ(c.pa, 0x200000u);
        EXPECT_EQ(c.len, 0x8000u);
        EXPECT_EQ(c.flags, 3u);
        EXPECT_EQ(c.name, "dram");
        EXPECT_EQ(r.image->resources[1].type, 128u);
        EXPECT_EQ(r.image->resources[1].offset, 88u);
        EXPECT_EQ(r.image->resources[2].type, 77u);
        EXPECT_EQ(r.image->resources[3].id, 3u);
        EXPECT_TRUE(r.image->resources[3].vrings.empty());
        EXPECT_EQ(fw::describeResourceTable(&*r.image),
                  "Entry 0 is of type carveout\n"
                  "  Device Address 0x100000\n"
                  "  Physical Address 0x200000\n"
                  "  Length 0x8000 Bytes\n"
                  "  Flags 0x3\n"
                  "  Reserved (should be zero) [0]\n"
                  "  Name dram\n"
                  "\n"
                  "Unknown resource type found: 128 [hdr: 0000000000000000]\n"
                  "Unknown resource type found: 77 [hdr: 0000000000000000]\n"
                  "Entry 3 is of type vdev\n"
                  "  ID 3\n"
                  "  Notify ID 5\n"
                  "  Device features 0x0\n"
                  "  Guest features 0x0\n"
                  "  Config length 0x0\n"
                  "  Status 0x0\n"
                  "  Number of vrings 0\n"
                  "  Reserved (should be zero) [0][0]\n"
                  "\n");
    }
    {
        // A 32-byte carveout name without NUL stops at 32 bytes.
        auto b = base;
        Elf32Editor e(b);
        std::vector<uint32_t> t = {1, 1, 0, 0, 20, fw::RscCarveout, 0, 0, 0, 0, 0};
        for (int i = 0; i < 8; ++i) {
            t.push_back(0x41414141);
        }
        e.rewriteTable(t);
        const fw::ParseResult r = fw::parse(b);
        ASSERT_TRUE(r) << r.problem.message;
        EXPECT_EQ(r.image->resources.at(0).name, std::string(32, 'A'));
    }
    {
        // A trace entry in the last 24 bytes of the table is cut short.
        auto b = base;
        Elf32Editor e(b);
        std::vector<uint32_t> t(30, 0);
        t[0] = 1;
        t[1] = 1;
        t[4] = 116;
        t[29] = fw::RscTrace;
        e.rewriteTable(t);
        expectRefused(b, "the trace resource (entry 0) is truncated: it needs 44 bytes, the "
                         "table has 20 left");
    }
    {
        auto b = base;
        Elf32Editor e(b);
        e.rewriteTable({1, 1, 0, 0, 20, fw::RscCarveout, 0, 0, 0, 0, 1});
        expectRefused(b, "the carveout resource (entry 0) has non-zero reserved bytes");
    }
    {
        // An empty table is valid.
        auto b = base;
        Elf32Editor e(b);
        e.rewriteTable({1, 0, 0, 0});
        const fw::ParseResult r = fw::parse(b);
        ASSERT_TRUE(r) << r.problem.message;
        EXPECT_TRUE(r.image->resources.empty());
        EXPECT_EQ(fw::describeResourceTable(&*r.image), "");
    }
}

TEST(FirmwareImage, SegmentChecks) {
    const auto good = fw::build(defaultOptions());
    {
        auto b = good;
        Elf32Editor e(b);
        auto p = e.phdr(0);
        p.p_memsz = p.p_filesz - 1;
        e.setPhdr(0, p);
        expectRefused(b, "segment 0 is invalid: its file size");
    }
    {
        // The resource table is checked before the segments, as the kernel does.
        auto b = good;
        Elf32Editor e(b);
        auto p = e.phdr(0);
        p.p_memsz = p.p_filesz - 1;
        e.setPhdr(0, p);
        e.setTableU32(0, 3);
        expectRefused(b, "unsupported resource table version 3");
    }
    {
        // Since 5.19, empty PT_LOAD segments are skipped before any check.
        auto b = good;
        Elf32Editor e(b);
        auto p = e.phdr(0);
        p.p_filesz = 16;
        p.p_memsz = 0;
        p.p_offset = 0xFFFFFFFF;
        e.setPhdr(0, p);
        const fw::ParseResult r = fw::parse(b);
        ASSERT_TRUE(r) << r.problem.message;
        EXPECT_TRUE(r.image->segments.empty());
    }
    {
        // Only PT_LOAD is looked at.
        auto b = good;
        Elf32Editor e(b);
        auto p = e.phdr(0);
        p.p_type = PT_NOTE;
        p.p_offset = 0xFFFFFFFF;
        e.setPhdr(0, p);
        const fw::ParseResult r = fw::parse(b);
        ASSERT_TRUE(r) << r.problem.message;
        EXPECT_TRUE(r.image->segments.empty());
    }
    expectRefused(withHeader(good, [](auto& h, auto&) { h.e_phnum = 2000; }),
                  "the program header table is truncated: 2000 headers");
}

TEST(FirmwareImage, BehaviourSection) {
    {
        fw::BuildOptions o;
        o.behaviour = std::string("{\"a\":1}\0\0", 9);
        const fw::ParseResult r = fw::parse(fw::build(o));
        ASSERT_TRUE(r) << r.problem.message;
        EXPECT_EQ(r.image->behaviour, "{\"a\":1}"); // trailing NULs dropped
    }
    {
        // An unreadable behaviour section is no kernel matter: the image stays valid.
        auto b = fw::build(defaultOptions());
        Elf32Editor e(b);
        const unsigned i = e.section(".rpmsg_sim");
        auto s = e.shdr(i);
        s.sh_size = 0x7FFFFFFF;
        e.setShdr(i, s);
        const fw::ParseResult r = fw::parse(b);
        ASSERT_TRUE(r) << r.problem.message;
        EXPECT_FALSE(r.image->behaviour.has_value());
    }
}

TEST(FirmwareImage, DescribeResourceTable) {
    EXPECT_EQ(fw::describeResourceTable(nullptr), "No resource table found\n");
    fw::Image none;
    EXPECT_EQ(fw::describeResourceTable(&none), "No resource table found\n");

    const fw::ParseResult r = fw::parse(fw::build(defaultOptions()));
    ASSERT_TRUE(r) << r.problem.message;
    EXPECT_EQ(fw::describeResourceTable(&*r.image), "Entry 0 is of type trace\n"
                                                    "  Device Address 0x1ffe00a0\n"
                                                    "  Length 0x400 Bytes\n"
                                                    "  Reserved (should be zero) [0]\n"
                                                    "  Name trace0\n"
                                                    "\n"
                                                    "Entry 1 is of type vdev\n"
                                                    "  ID 7\n"
                                                    "  Notify ID 0\n"
                                                    "  Device features 0x1\n"
                                                    "  Guest features 0x0\n"
                                                    "  Config length 0x0\n"
                                                    "  Status 0x0\n"
                                                    "  Number of vrings 2\n"
                                                    "  Reserved (should be zero) [0][0]\n"
                                                    "\n"
                                                    "  Vring 0\n"
                                                    "    Device Address 0xffffffff\n"
                                                    "    Alignment 16\n"
                                                    "    Number of buffers 256\n"
                                                    "    Notify ID 0\n"
                                                    "    Physical Address 0x0\n"
                                                    "\n"
                                                    "  Vring 1\n"
                                                    "    Device Address 0xffffffff\n"
                                                    "    Alignment 16\n"
                                                    "    Number of buffers 256\n"
                                                    "    Notify ID 1\n"
                                                    "    Physical Address 0x0\n"
                                                    "\n");
}
