// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "firmware_builder.h"

#include <cstring>
#include <elf.h>
#include <limits>

namespace rpmsgd::fw {

namespace {

// Little-endian writer into a growing buffer.
class Writer {
public:
    explicit Writer(std::vector<uint8_t>& out) : out_(out) {}

    void ensure(uint64_t end) {
        if (out_.size() < end) {
            out_.resize(end, 0);
        }
    }
    void put8(uint64_t at, uint8_t v) {
        ensure(at + 1);
        out_[at] = v;
    }
    void put16(uint64_t at, uint16_t v) { putLe(at, v, 2); }
    void put32(uint64_t at, uint32_t v) { putLe(at, v, 4); }
    void put64(uint64_t at, uint64_t v) { putLe(at, v, 8); }
    // An ELF "address-sized" field: Elf32_Addr/Off or Elf64_Addr/Off.
    void putAddr(uint64_t at, uint64_t v, bool is64) {
        if (is64) {
            put64(at, v);
        } else {
            put32(at, static_cast<uint32_t>(v));
        }
    }
    void putBytes(uint64_t at, const void* data, size_t len) {
        ensure(at + len);
        if (len) {
            std::memcpy(out_.data() + at, data, len);
        }
    }

private:
    void putLe(uint64_t at, uint64_t v, unsigned width) {
        ensure(at + width);
        for (unsigned i = 0; i < width; ++i) {
            out_[at + i] = static_cast<uint8_t>(v >> (8 * i));
        }
    }
    std::vector<uint8_t>& out_;
};

uint64_t alignUp(uint64_t v, uint64_t a) {
    return (v + a - 1) / a * a;
}

struct SectionSpec {
    std::string name;
    uint32_t type = SHT_NULL;
    uint64_t flags = 0, addr = 0, offset = 0, size = 0, align = 0;
    uint32_t nameOffset = 0;
};

// Where the builder put things, for planting defects afterwards.
struct Layout {
    bool is64 = false;
    uint64_t phoff = 0;
    uint64_t shoff = 0;
    uint64_t tableOffset = 0;     // file offset of the resource table
    uint64_t vdevEntryOffset = 0; // within the table
    int tableSection = -1;        // index of .resource_table
    uint64_t segmentOffset = 0;   // p_offset of the PT_LOAD
};

// Field offsets inside the ELF structures, per class.
struct ElfOffsets {
    uint64_t ehdrSize, phdrSize, shdrSize;
    uint64_t eEntry, ePhoff, eShoff, eFlags, eEhsize, ePhentsize, ePhnum, eShentsize, eShnum,
        eShstrndx;
};

constexpr ElfOffsets Elf32Offsets{52, 32, 40, 24, 28, 32, 36, 40, 42, 44, 46, 48, 50};
constexpr ElfOffsets Elf64Offsets{64, 56, 64, 24, 32, 40, 48, 52, 54, 56, 58, 60, 62};

uint64_t tableSize(const BuildOptions& o) {
    const bool trace = o.traceLen > 0;
    return TableHeaderSize + 4 * (trace ? 2 : 1) + (trace ? RscHeaderSize + TraceSize : 0) +
           RscHeaderSize + VdevSize + 2 * VringSize;
}

std::vector<uint8_t> resourceTable(const BuildOptions& o, uint32_t traceDa,
                                   uint64_t& vdevEntryOffset) {
    std::vector<uint8_t> t;
    Writer w(t);
    const uint32_t num = o.traceLen > 0 ? 2 : 1;
    w.put32(0, 1); // ver
    w.put32(4, num);
    uint64_t at = TableHeaderSize + 4 * num;
    uint32_t index = 0;
    if (o.traceLen > 0) {
        w.put32(TableHeaderSize + 4 * index++, static_cast<uint32_t>(at));
        w.put32(at, RscTrace);
        w.put32(at + 4, traceDa);
        w.put32(at + 8, o.traceLen);
        w.put32(at + 12, 0);
        const char name[] = "trace0";
        w.putBytes(at + 16, name, sizeof name);
        at += RscHeaderSize + TraceSize;
    }
    vdevEntryOffset = at;
    w.put32(TableHeaderSize + 4 * index, static_cast<uint32_t>(at));
    w.put32(at, RscVdev);
    const uint64_t v = at + RscHeaderSize;
    w.put32(v, VirtioIdRpmsg);
    w.put32(v + 4, 0); // notifyid: the host assigns it
    w.put32(v + 8, o.nameService ? VirtioRpmsgFNs : 0);
    w.put32(v + 12, 0); // gfeatures
    w.put32(v + 16, 0); // config_len
    w.put8(v + 20, 0);  // status
    w.put8(v + 21, 2);  // num_of_vrings: rx then tx
    w.put16(v + 22, 0); // reserved
    for (uint32_t i = 0; i < 2; ++i) {
        const uint64_t r = v + VdevSize + i * VringSize;
        w.put32(r, FwRscAddrAny);
        w.put32(r + 4, 16);
        w.put32(r + 8, o.vringNum);
        w.put32(r + 12, i);
        w.put32(r + 16, 0);
    }
    w.ensure(v + VdevSize + 2 * VringSize);
    return t; // tableSize(o) bytes
}

// Typical Cortex-M4 tightly coupled memory (i.MX8M TCML), so the image looks like real firmware.
constexpr uint64_t LoadAddress = 0x1FFE0000;

std::vector<uint8_t> buildImage(const BuildOptions& o, Layout& layout) {
    const bool is64 = o.elf64;
    const ElfOffsets& eo = is64 ? Elf64Offsets : Elf32Offsets;
    layout.is64 = is64;
    const bool withTable = o.defect != Defect::NoResourceTable;

    // .text: a minimal Cortex-M vector table (initial SP, reset handler) and `b .` (Thumb).
    std::vector<uint8_t> text;
    {
        Writer w(text);
        w.put32(0, static_cast<uint32_t>(LoadAddress + 0x8000));
        w.put32(4, static_cast<uint32_t>(LoadAddress + 8 + 1));
        w.put16(8, 0xE7FE);
        for (uint64_t at = 10; at < 16; at += 2) {
            w.put16(at, 0xBF00); // nop
        }
    }

    layout.phoff = eo.ehdrSize;
    const uint64_t textOffset = alignUp(layout.phoff + eo.phdrSize, 16);
    const uint64_t tableOffset = alignUp(textOffset + text.size(), 8);
    layout.segmentOffset = textOffset;

    // The trace buffer lives in the segment's zero-filled tail, like a .bss array would.
    std::vector<uint8_t> table;
    uint64_t fileEnd = textOffset + text.size();
    uint64_t traceDa = 0;
    if (withTable) {
        traceDa = LoadAddress + alignUp(tableOffset + tableSize(o) - textOffset, 16);
        table = resourceTable(o, static_cast<uint32_t>(traceDa), layout.vdevEntryOffset);
        fileEnd = tableOffset + table.size();
    }
    const uint64_t filesz = fileEnd - textOffset;
    uint64_t memsz = filesz;
    if (withTable && o.traceLen > 0) {
        const uint64_t traceEnd = traceDa - LoadAddress + o.traceLen;
        if (LoadAddress + traceEnd <= std::numeric_limits<uint32_t>::max()) {
            memsz = traceEnd;
        }
    }

    std::vector<SectionSpec> sections;
    sections.push_back({});
    sections.push_back({".text", SHT_PROGBITS, SHF_ALLOC | SHF_EXECINSTR, LoadAddress, textOffset,
                        text.size(), 4, 0});
    if (withTable) {
        layout.tableSection = static_cast<int>(sections.size());
        layout.tableOffset = tableOffset;
        sections.push_back({ResourceTableName, SHT_PROGBITS, SHF_ALLOC,
                            LoadAddress + (tableOffset - textOffset), tableOffset, table.size(), 4,
                            0});
    }
    uint64_t at = fileEnd;
    if (!o.behaviour.empty()) {
        sections.push_back(
            {BehaviourSectionName, SHT_PROGBITS, 0, 0, at, o.behaviour.size(), 1, 0});
        at += o.behaviour.size();
    }
    sections.push_back({".shstrtab", SHT_STRTAB, 0, 0, 0, 0, 1, 0});
    std::string names(1, '\0');
    for (auto& s : sections) {
        if (s.name.empty()) {
            continue;
        }
        s.nameOffset = static_cast<uint32_t>(names.size());
        names += s.name;
        names += '\0';
    }
    sections.back().offset = at;
    sections.back().size = names.size();
    at += names.size();
    layout.shoff = alignUp(at, is64 ? 8 : 4);

    std::vector<uint8_t> out;
    Writer w(out);
    // ELF header
    const unsigned char ident[EI_NIDENT] = {
        ELFMAG0,
        ELFMAG1,
        ELFMAG2,
        ELFMAG3,
        static_cast<unsigned char>(is64 ? ELFCLASS64 : ELFCLASS32),
        ELFDATA2LSB,
        EV_CURRENT,
        ELFOSABI_NONE};
    w.putBytes(0, ident, sizeof ident);
    w.put16(16, ET_EXEC);
    w.put16(18, o.machine);
    w.put32(20, EV_CURRENT);
    w.putAddr(eo.eEntry, LoadAddress + 8 + 1, is64);
    w.putAddr(eo.ePhoff, layout.phoff, is64);
    w.putAddr(eo.eShoff, layout.shoff, is64);
    w.put32(eo.eFlags, o.machine == EM_ARM ? EF_ARM_EABI_VER5 : 0);
    w.put16(eo.eEhsize, static_cast<uint16_t>(eo.ehdrSize));
    w.put16(eo.ePhentsize, static_cast<uint16_t>(eo.phdrSize));
    w.put16(eo.ePhnum, 1);
    w.put16(eo.eShentsize, static_cast<uint16_t>(eo.shdrSize));
    w.put16(eo.eShnum, static_cast<uint16_t>(sections.size()));
    w.put16(eo.eShstrndx, static_cast<uint16_t>(sections.size() - 1));

    // Program header: one RWX PT_LOAD (the host writes into the resource table at run time).
    const uint64_t ph = layout.phoff;
    w.put32(ph, PT_LOAD);
    if (is64) {
        w.put32(ph + 4, PF_R | PF_W | PF_X);
        w.put64(ph + 8, textOffset);
        w.put64(ph + 16, LoadAddress);
        w.put64(ph + 24, LoadAddress);
        w.put64(ph + 32, filesz);
        w.put64(ph + 40, memsz);
        w.put64(ph + 48, 4);
    } else {
        w.put32(ph + 4, static_cast<uint32_t>(textOffset));
        w.put32(ph + 8, static_cast<uint32_t>(LoadAddress));
        w.put32(ph + 12, static_cast<uint32_t>(LoadAddress));
        w.put32(ph + 16, static_cast<uint32_t>(filesz));
        w.put32(ph + 20, static_cast<uint32_t>(memsz));
        w.put32(ph + 24, PF_R | PF_W | PF_X);
        w.put32(ph + 28, 4);
    }

    w.putBytes(textOffset, text.data(), text.size());
    if (withTable) {
        w.putBytes(tableOffset, table.data(), table.size());
    }
    for (const auto& s : sections) {
        if (s.name == BehaviourSectionName) {
            w.putBytes(s.offset, o.behaviour.data(), o.behaviour.size());
        }
    }
    w.putBytes(sections.back().offset, names.data(), names.size());

    for (size_t i = 0; i < sections.size(); ++i) {
        const SectionSpec& s = sections[i];
        const uint64_t sh = layout.shoff + i * eo.shdrSize;
        w.put32(sh, s.nameOffset);
        w.put32(sh + 4, s.type);
        if (is64) {
            w.put64(sh + 8, s.flags);
            w.put64(sh + 16, s.addr);
            w.put64(sh + 24, s.offset);
            w.put64(sh + 32, s.size);
            w.put32(sh + 40, 0); // link
            w.put32(sh + 44, 0); // info
            w.put64(sh + 48, s.align);
            w.put64(sh + 56, 0); // entsize
        } else {
            w.put32(sh + 8, static_cast<uint32_t>(s.flags));
            w.put32(sh + 12, static_cast<uint32_t>(s.addr));
            w.put32(sh + 16, static_cast<uint32_t>(s.offset));
            w.put32(sh + 20, static_cast<uint32_t>(s.size));
            w.put32(sh + 24, 0);
            w.put32(sh + 28, 0);
            w.put32(sh + 32, static_cast<uint32_t>(s.align));
            w.put32(sh + 36, 0);
        }
    }
    w.ensure(layout.shoff + sections.size() * eo.shdrSize);
    return out;
}

void plantDefect(std::vector<uint8_t>& out, const BuildOptions& o, const Layout& layout) {
    const ElfOffsets& eo = layout.is64 ? Elf64Offsets : Elf32Offsets;
    Writer w(out);
    switch (o.defect) {
    case Defect::None:
    case Defect::NoResourceTable: // built without the section
        break;
    case Defect::BadMagic:
        w.putBytes(EI_MAG1, "BAD", 3);
        break;
    case Defect::TooSmall:
        out.resize(40);
        break;
    case Defect::NoSectionHeaders:
        w.putAddr(eo.eShoff, 0, layout.is64);
        w.put16(eo.eShnum, 0);
        w.put16(eo.eShstrndx, SHN_UNDEF);
        out.resize(layout.shoff);
        break;
    case Defect::TruncatedResourceTable: {
        // Cut the section in the middle of the vdev entry's fixed part.
        const uint64_t cut = layout.vdevEntryOffset + RscHeaderSize + VdevSize / 2;
        const uint64_t sh = layout.shoff + static_cast<uint64_t>(layout.tableSection) * eo.shdrSize;
        if (layout.is64) {
            w.put64(sh + 32, cut);
        } else {
            w.put32(sh + 20, static_cast<uint32_t>(cut));
        }
        break;
    }
    case Defect::BadResourceTableVersion:
        w.put32(layout.tableOffset, 2);
        break;
    case Defect::NoLoadableSegments:
        w.put16(eo.ePhnum, 0);
        break;
    case Defect::BigEndian:
        w.put8(EI_DATA, ELFDATA2MSB);
        break;
    case Defect::SegmentBeyondFile: {
        // memsz grows too, so that the first failing check is the file one.
        const uint64_t beyond = out.size() - layout.segmentOffset + 0x1000;
        const uint64_t ph = layout.phoff;
        if (layout.is64) {
            w.put64(ph + 32, beyond);
            w.put64(ph + 40, beyond);
        } else {
            w.put32(ph + 16, static_cast<uint32_t>(beyond));
            w.put32(ph + 20, static_cast<uint32_t>(beyond));
        }
        break;
    }
    }
}

struct DefectName {
    Defect defect;
    const char* name;
};

constexpr DefectName DefectNames[] = {
    {Defect::BadMagic, "bad-magic"},
    {Defect::TooSmall, "too-small"},
    {Defect::NoSectionHeaders, "no-section-headers"},
    {Defect::NoResourceTable, "no-resource-table"},
    {Defect::TruncatedResourceTable, "truncated-resource-table"},
    {Defect::BadResourceTableVersion, "bad-resource-table-version"},
    {Defect::NoLoadableSegments, "no-loadable-segments"},
    {Defect::BigEndian, "big-endian"},
    {Defect::SegmentBeyondFile, "segment-beyond-file"},
};

} // namespace

std::optional<Defect> defectFromName(const std::string& name) {
    for (const auto& d : DefectNames) {
        if (name == d.name) {
            return d.defect;
        }
    }
    return std::nullopt;
}

const char* defectName(Defect defect) {
    for (const auto& d : DefectNames) {
        if (d.defect == defect) {
            return d.name;
        }
    }
    return "none";
}

std::vector<std::string> defectNames() {
    std::vector<std::string> names;
    for (const auto& d : DefectNames) {
        names.emplace_back(d.name);
    }
    return names;
}

std::vector<uint8_t> build(const BuildOptions& options) {
    Layout layout;
    std::vector<uint8_t> out = buildImage(options, layout);
    plantDefect(out, options, layout);
    return out;
}

} // namespace rpmsgd::fw
