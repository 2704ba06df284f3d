// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "firmware_image.h"

#include <bit>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <elf.h>
#include <limits>
#include <string_view>

namespace rpmsgd::fw {

namespace {

// Sizes of the packed kernel structures (include/linux/remoteproc.h).
constexpr uint64_t TableHeaderSize = 16; // ver, num, reserved[2]
constexpr uint64_t RscHeaderSize = 4;    // struct fw_rsc_hdr
constexpr uint64_t CarveoutSize = 52;    // struct fw_rsc_carveout (also fw_rsc_devmem)
constexpr uint64_t TraceSize = 44;       // struct fw_rsc_trace
constexpr uint64_t VdevSize = 24;        // struct fw_rsc_vdev without vrings and config
constexpr uint64_t VringSize = 20;       // struct fw_rsc_vdev_vring
constexpr uint64_t NameSize = 32;
constexpr uint32_t RscLast = 4;
constexpr size_t MaxVrings = 2;

constexpr const char* ResourceTableName = ".resource_table";
constexpr const char* BehaviourSectionName = ".rpmsg_sim";

[[gnu::format(printf, 1, 2)]] std::string strprintf(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    va_list ap2;
    va_copy(ap2, ap);
    const int n = std::vsnprintf(nullptr, 0, fmt, ap);
    va_end(ap);
    std::string out;
    if (n > 0) {
        out.resize(static_cast<size_t>(n));
        std::vsnprintf(out.data(), out.size() + 1, fmt, ap2);
    }
    va_end(ap2);
    return out;
}

unsigned long long ull(uint64_t v) {
    return static_cast<unsigned long long>(v);
}

ParseResult fail(std::string message) {
    ParseResult r;
    r.problem = Problem{EINVAL, std::move(message)};
    return r;
}

// True when [offset, offset + length) lies inside a buffer of @p size bytes, without overflow.
bool fits(uint64_t offset, uint64_t length, uint64_t size) {
    return offset <= size && length <= size - offset;
}

// Reads in host byte order: the kernel reads the image natively and only accepts images whose
// EI_DATA matches the host, so this is exactly its view. Callers check fits() first; the check
// here is a second line of defence (this parses untrusted uploads as root).
struct OutOfBounds {};

template <typename T>
T load(std::span<const uint8_t> bytes, uint64_t offset) {
    if (!fits(offset, sizeof(T), bytes.size())) {
        throw OutOfBounds{};
    }
    T v{};
    std::memcpy(&v, bytes.data() + offset, sizeof v);
    return v;
}

uint8_t byteAt(std::span<const uint8_t> bytes, uint64_t offset) {
    if (offset >= bytes.size()) {
        throw OutOfBounds{};
    }
    return bytes[offset];
}

// The class-independent view of the ELF structures the loader uses.
struct Header {
    uint16_t machine = 0;
    uint64_t entry = 0, phoff = 0, shoff = 0;
    uint16_t phnum = 0, shnum = 0, shstrndx = 0;
};

struct Section {
    uint32_t name = 0, type = 0;
    uint64_t addr = 0, offset = 0, size = 0;
};

struct Program {
    uint32_t type = 0, flags = 0;
    uint64_t offset = 0, vaddr = 0, paddr = 0, filesz = 0, memsz = 0;
};

template <typename Ehdr>
Header readHeader(std::span<const uint8_t> bytes) {
    const auto e = load<Ehdr>(bytes, 0);
    return Header{e.e_machine, e.e_entry, e.e_phoff, e.e_shoff, e.e_phnum, e.e_shnum, e.e_shstrndx};
}

template <typename Shdr>
Section readSection(std::span<const uint8_t> bytes, uint64_t offset) {
    const auto s = load<Shdr>(bytes, offset);
    return Section{s.sh_name, s.sh_type, s.sh_addr, s.sh_offset, s.sh_size};
}

template <typename Phdr>
Program readProgram(std::span<const uint8_t> bytes, uint64_t offset) {
    const auto p = load<Phdr>(bytes, offset);
    return Program{p.p_type, p.p_flags, p.p_offset, p.p_vaddr, p.p_paddr, p.p_filesz, p.p_memsz};
}

// A char[32] field, which need not be NUL-terminated.
std::string fixedName(std::span<const uint8_t> bytes, uint64_t offset) {
    if (!fits(offset, NameSize, bytes.size())) {
        throw OutOfBounds{};
    }
    const auto* p = reinterpret_cast<const char*>(bytes.data() + offset);
    return std::string(p, strnlen(p, NameSize));
}

class Parser {
public:
    explicit Parser(std::span<const uint8_t> bytes) : bytes_(bytes) {}

    ParseResult run() {
        if (auto problem = sanityCheck()) {
            return fail(std::move(*problem));
        }
        if (auto problem = readSections()) {
            return fail(std::move(*problem));
        }
        if (auto problem = loadResourceTable()) {
            return fail(std::move(*problem));
        }
        if (auto problem = handleResources()) {
            return fail(std::move(*problem));
        }
        if (auto problem = loadSegments()) {
            return fail(std::move(*problem));
        }
        readBehaviour();
        ParseResult r;
        r.image = std::move(image_);
        return r;
    }

private:
    using Message = std::optional<std::string>;

    // rproc_elf_sanity_check, in its order.
    Message sanityCheck() {
        const uint64_t size = bytes_.size();
        if (size < sizeof(Elf32_Ehdr)) {
            return strprintf("image is too small (%llu bytes; an ELF header needs %zu)", ull(size),
                             sizeof(Elf32_Ehdr));
        }
        if (std::memcmp(bytes_.data(), ELFMAG, SELFMAG) != 0) {
            return std::string("not an ELF file (bad magic)");
        }
        const uint8_t cls = bytes_[EI_CLASS];
        if (cls != ELFCLASS32 && cls != ELFCLASS64) {
            return strprintf("unsupported ELF class %u (only ELFCLASS32 and ELFCLASS64 are valid)",
                             cls);
        }
        if (cls == ELFCLASS64 && size < sizeof(Elf64_Ehdr)) {
            return strprintf("image is too small for an ELF64 header (%llu bytes; it needs %zu)",
                             ull(size), sizeof(Elf64_Ehdr));
        }
        const uint8_t hostData =
            std::endian::native == std::endian::little ? ELFDATA2LSB : ELFDATA2MSB;
        const uint8_t data = bytes_[EI_DATA];
        if (data != hostData) {
            const char* what = data == ELFDATA2MSB   ? "big-endian"
                               : data == ELFDATA2LSB ? "little-endian"
                                                     : "of unknown endianness";
            return strprintf("unsupported firmware endianness: the image is %s, the host is %s",
                             what, hostData == ELFDATA2LSB ? "little-endian" : "big-endian");
        }
        is64_ = cls == ELFCLASS64;
        header_ = is64_ ? readHeader<Elf64_Ehdr>(bytes_) : readHeader<Elf32_Ehdr>(bytes_);
        image_.elfClass = cls;
        image_.machine = header_.machine;
        image_.entry = header_.entry;

        // The kernel insists on room for one section header at e_shoff (even when e_shnum is 0).
        if (!fits(header_.shoff, shdrSize(), size)) {
            return strprintf("image is too small: the section header table at offset 0x%llx "
                             "does not fit in the file (%llu bytes)",
                             ull(header_.shoff), ull(size));
        }
        if (header_.phnum == 0) {
            return std::string("no loadable segments (the ELF header has no program headers)");
        }
        if (header_.phoff > size) {
            return strprintf("the program header table offset 0x%llx is beyond the end of the "
                             "file (%llu bytes)",
                             ull(header_.phoff), ull(size));
        }
        return std::nullopt;
    }

    uint64_t shdrSize() const { return is64_ ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr); }
    uint64_t phdrSize() const { return is64_ ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr); }

    // The kernel walks e_shnum headers and the name table without bounds checks; refuse
    // what it would read out of bounds.
    Message readSections() {
        if (header_.shnum == 0) {
            return std::string("no .resource_table section (the image has no section headers)");
        }
        const uint64_t size = bytes_.size();
        const uint64_t tableBytes = uint64_t{header_.shnum} * shdrSize();
        if (!fits(header_.shoff, tableBytes, size)) {
            return strprintf("the section header table is truncated: %u headers at offset 0x%llx "
                             "need %llu bytes, the file has %llu",
                             header_.shnum, ull(header_.shoff), ull(tableBytes), ull(size));
        }
        sections_.reserve(header_.shnum);
        for (uint64_t i = 0; i < header_.shnum; ++i) {
            const uint64_t at = header_.shoff + i * shdrSize();
            sections_.push_back(is64_ ? readSection<Elf64_Shdr>(bytes_, at)
                                      : readSection<Elf32_Shdr>(bytes_, at));
        }
        if (header_.shstrndx >= header_.shnum) {
            return strprintf("the section name table index %u is out of range (%u sections)",
                             header_.shstrndx, header_.shnum);
        }
        const Section& names = sections_[header_.shstrndx];
        if (names.type != SHT_NOBITS && !fits(names.offset, names.size, size)) {
            return strprintf("the section name table (offset 0x%llx, size 0x%llx) extends beyond "
                             "the end of the file (%llu bytes)",
                             ull(names.offset), ull(names.size), ull(size));
        }
        names_ = names.type == SHT_NOBITS ? std::span<const uint8_t>()
                                          : bytes_.subspan(names.offset, names.size);
        return std::nullopt;
    }

    // A name must lie, NUL-terminated, inside the name table; anything else matches nothing.
    std::string_view sectionName(const Section& s) const {
        if (s.name >= names_.size()) {
            return {};
        }
        const auto* start = reinterpret_cast<const char*>(names_.data()) + s.name;
        const size_t max = names_.size() - s.name;
        const size_t len = strnlen(start, max);
        if (len == max) {
            return {};
        }
        return std::string_view(start, len);
    }

    const Section* findSection(std::string_view name) const {
        for (const auto& s : sections_) {
            if (sectionName(s) == name) {
                return &s;
            }
        }
        return nullptr;
    }

    // find_table: the first section of that name decides, valid or not.
    Message loadResourceTable() {
        const Section* s = findSection(ResourceTableName);
        if (!s) {
            return std::string("no .resource_table section");
        }
        if (!fits(s->offset, s->size, bytes_.size())) {
            return strprintf("the resource table is truncated: the .resource_table section "
                             "(offset 0x%llx, size 0x%llx) extends beyond the end of the file "
                             "(%zu bytes)",
                             ull(s->offset), ull(s->size), bytes_.size());
        }
        if (s->size < TableHeaderSize) {
            return strprintf("the resource table has no header: the .resource_table section is "
                             "%llu bytes, the header needs %llu",
                             ull(s->size), ull(TableHeaderSize));
        }
        table_ = bytes_.subspan(s->offset, s->size);
        const auto ver = load<uint32_t>(table_, 0);
        if (ver != 1) {
            return strprintf("unsupported resource table version %u (only version 1 exists)", ver);
        }
        if (load<uint32_t>(table_, 8) != 0 || load<uint32_t>(table_, 12) != 0) {
            return std::string("the resource table has non-zero reserved header bytes");
        }
        const auto num = load<uint32_t>(table_, 4);
        if (TableHeaderSize + 4 * uint64_t{num} > table_.size()) {
            return strprintf("the resource table is incomplete: %u entry offsets do not fit in "
                             "its %zu bytes",
                             num, table_.size());
        }
        image_.hasResourceTable = true;
        image_.resourceTableAddr = s->addr;
        image_.resourceTableSize = s->size;
        return std::nullopt;
    }

    // rproc_handle_resources with the generic handlers and no IOMMU.
    Message handleResources() {
        const uint64_t tableSize = table_.size();
        const auto num = load<uint32_t>(table_, 4);
        for (uint32_t i = 0; i < num; ++i) {
            const auto offset = load<uint32_t>(table_, TableHeaderSize + 4 * uint64_t{i});
            if (uint64_t{offset} + RscHeaderSize > tableSize) {
                return strprintf("the resource table is truncated: entry %u at offset %u lies "
                                 "outside the %llu-byte table",
                                 i, offset, ull(tableSize));
            }
            const uint64_t avail = tableSize - offset - RscHeaderSize;
            const uint64_t body = offset + RscHeaderSize;
            Resource r;
            r.type = load<uint32_t>(table_, offset);
            r.offset = offset;
            Message problem;
            // Vendor types (128..512) go to ops->handle_rsc, which the generic ops lack, and
            // other unknown types are skipped with a warning: both are only recorded.
            if (r.type < RscLast) {
                switch (r.type) {
                case RscCarveout:
                    problem = memoryEntry(r, i, "carveout", body, avail);
                    break;
                case RscDevmem:
                    // rproc_handle_devmem refuses before anything else without an IOMMU domain.
                    return strprintf("devmem resource (entry %u) needs an IOMMU, which this "
                                     "processor does not have",
                                     i);
                case RscTrace:
                    problem = traceEntry(r, i, body, avail);
                    break;
                case RscVdev:
                    problem = vdevEntry(r, i, body, avail);
                    break;
                }
            }
            if (problem) {
                return problem;
            }
            image_.resources.push_back(std::move(r));
        }
        return std::nullopt;
    }

    Message memoryEntry(Resource& r, uint32_t i, const char* kind, uint64_t body, uint64_t avail) {
        if (avail < CarveoutSize) {
            return strprintf("the %s resource (entry %u) is truncated: it needs %llu bytes, the "
                             "table has %llu left",
                             kind, i, ull(CarveoutSize), ull(avail));
        }
        r.da = load<uint32_t>(table_, body);
        r.pa = load<uint32_t>(table_, body + 4);
        r.len = load<uint32_t>(table_, body + 8);
        r.flags = load<uint32_t>(table_, body + 12);
        r.reserved = load<uint32_t>(table_, body + 16);
        r.name = fixedName(table_, body + 20);
        if (r.reserved != 0) {
            return strprintf("the %s resource (entry %u) has non-zero reserved bytes", kind, i);
        }
        return std::nullopt;
    }

    Message traceEntry(Resource& r, uint32_t i, uint64_t body, uint64_t avail) {
        if (avail < TraceSize) {
            return strprintf("the trace resource (entry %u) is truncated: it needs %llu bytes, "
                             "the table has %llu left",
                             i, ull(TraceSize), ull(avail));
        }
        r.da = load<uint32_t>(table_, body);
        r.len = load<uint32_t>(table_, body + 4);
        r.reserved = load<uint32_t>(table_, body + 8);
        r.name = fixedName(table_, body + 12);
        if (r.reserved != 0) {
            return strprintf("the trace resource (entry %u) has non-zero reserved bytes", i);
        }
        return std::nullopt;
    }

    Message vdevEntry(Resource& r, uint32_t i, uint64_t body, uint64_t avail) {
        // The kernel reads num_of_vrings before checking; we check that the fixed part is there.
        if (avail < VdevSize) {
            return strprintf("the vdev resource (entry %u) is truncated: it needs at least %llu "
                             "bytes, the table has %llu left",
                             i, ull(VdevSize), ull(avail));
        }
        r.id = load<uint32_t>(table_, body);
        r.notifyId = load<uint32_t>(table_, body + 4);
        r.dfeatures = load<uint32_t>(table_, body + 8);
        r.gfeatures = load<uint32_t>(table_, body + 12);
        r.configLen = load<uint32_t>(table_, body + 16);
        r.status = byteAt(table_, body + 20);
        const uint8_t numVrings = byteAt(table_, body + 21);
        const uint64_t need = VdevSize + numVrings * VringSize + r.configLen;
        if (need > avail) {
            return strprintf("the vdev resource (entry %u) is truncated: %u vrings and %u config "
                             "bytes need %llu bytes, the table has %llu left",
                             i, numVrings, r.configLen, ull(need), ull(avail));
        }
        if (byteAt(table_, body + 22) != 0 || byteAt(table_, body + 23) != 0) {
            return strprintf("the vdev resource (entry %u) has non-zero reserved bytes", i);
        }
        if (numVrings > MaxVrings) {
            return strprintf("the vdev resource (entry %u) has %u vrings; at most %zu are "
                             "supported",
                             i, numVrings, MaxVrings);
        }
        for (uint32_t v = 0; v < numVrings; ++v) {
            const uint64_t at = body + VdevSize + v * VringSize;
            Vring vr;
            vr.da = load<uint32_t>(table_, at);
            vr.align = load<uint32_t>(table_, at + 4);
            vr.num = load<uint32_t>(table_, at + 8);
            vr.notifyId = load<uint32_t>(table_, at + 12);
            vr.pa = load<uint32_t>(table_, at + 16);
            if (vr.num == 0 || vr.align == 0) {
                return strprintf("vring %u of the vdev resource (entry %u) is invalid: num %u, "
                                 "align %u (both must be non-zero)",
                                 v, i, vr.num, vr.align);
            }
            r.vrings.push_back(vr);
        }
        return std::nullopt;
    }

    // rproc_elf_load_segments, minus the address translation (there is no device memory).
    Message loadSegments() {
        const uint64_t size = bytes_.size();
        const uint64_t tableBytes = uint64_t{header_.phnum} * phdrSize();
        if (!fits(header_.phoff, tableBytes, size)) {
            return strprintf("the program header table is truncated: %u headers at offset 0x%llx "
                             "need %llu bytes, the file has %llu",
                             header_.phnum, ull(header_.phoff), ull(tableBytes), ull(size));
        }
        for (uint32_t i = 0; i < header_.phnum; ++i) {
            const uint64_t at = header_.phoff + i * phdrSize();
            const Program p =
                is64_ ? readProgram<Elf64_Phdr>(bytes_, at) : readProgram<Elf32_Phdr>(bytes_, at);
            // Since 5.19 empty segments are skipped with the non-loadable ones, before any check.
            if (p.type != PT_LOAD || p.memsz == 0) {
                continue;
            }
            if (p.filesz > p.memsz) {
                return strprintf("segment %u is invalid: its file size 0x%llx exceeds its memory "
                                 "size 0x%llx",
                                 i, ull(p.filesz), ull(p.memsz));
            }
            if (!fits(p.offset, p.filesz, size)) {
                return strprintf("segment %u is truncated: its data (offset 0x%llx, size 0x%llx) "
                                 "extends beyond the end of the file (0x%llx bytes)",
                                 i, ull(p.offset), ull(p.filesz), ull(size));
            }
            if constexpr (sizeof(size_t) < sizeof(uint64_t)) {
                if (p.memsz > std::numeric_limits<size_t>::max()) {
                    return strprintf("segment %u is too large (0x%llx bytes)", i, ull(p.memsz));
                }
            }
            image_.segments.push_back(
                Segment{p.offset, p.vaddr, p.paddr, p.filesz, p.memsz, p.flags});
        }
        return std::nullopt;
    }

    // Not a kernel check: a missing or unreadable section just means "no behaviour".
    void readBehaviour() {
        const Section* s = findSection(BehaviourSectionName);
        if (!s || s->type == SHT_NOBITS || !fits(s->offset, s->size, bytes_.size())) {
            return;
        }
        const auto* p = reinterpret_cast<const char*>(bytes_.data() + s->offset);
        std::string text(p, s->size);
        // Tolerate a C-style terminator written by other tools.
        while (!text.empty() && text.back() == '\0') {
            text.pop_back();
        }
        image_.behaviour = std::move(text);
    }

    std::span<const uint8_t> bytes_;
    bool is64_ = false;
    Header header_;
    std::vector<Section> sections_;
    std::span<const uint8_t> names_;
    std::span<const uint8_t> table_;
    Image image_;
};

// ---- builder ----

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

// The kernel prints u32 fields with %d.
int asInt(uint32_t v) {
    return static_cast<int>(v);
}

} // namespace

ParseResult parse(std::span<const uint8_t> bytes) {
    try {
        return Parser(bytes).run();
    } catch (const OutOfBounds&) {
        return fail("the image is malformed: a structure lies beyond the end of the file");
    }
}

std::string describeResourceTable(const Image* image) {
    if (!image || !image->hasResourceTable) {
        return "No resource table found\n";
    }
    static const char* const types[] = {"carveout", "devmem", "trace", "vdev"};
    std::string out;
    int i = 0;
    for (const Resource& r : image->resources) {
        switch (r.type) {
        case RscCarveout:
        case RscDevmem:
            out += strprintf("Entry %d is of type %s\n", i, types[r.type]);
            out += strprintf("  Device Address 0x%x\n", r.da);
            out += strprintf("  Physical Address 0x%x\n", r.pa);
            out += strprintf("  Length 0x%x Bytes\n", r.len);
            out += strprintf("  Flags 0x%x\n", r.flags);
            out += strprintf("  Reserved (should be zero) [%d]\n", asInt(r.reserved));
            out += strprintf("  Name %s\n\n", r.name.c_str());
            break;
        case RscTrace:
            out += strprintf("Entry %d is of type %s\n", i, types[r.type]);
            out += strprintf("  Device Address 0x%x\n", r.da);
            out += strprintf("  Length 0x%x Bytes\n", r.len);
            out += strprintf("  Reserved (should be zero) [%d]\n", asInt(r.reserved));
            out += strprintf("  Name %s\n\n", r.name.c_str());
            break;
        case RscVdev: {
            out += strprintf("Entry %d is of type %s\n", i, types[r.type]);
            out += strprintf("  ID %d\n", asInt(r.id));
            out += strprintf("  Notify ID %d\n", asInt(r.notifyId));
            out += strprintf("  Device features 0x%x\n", r.dfeatures);
            out += strprintf("  Guest features 0x%x\n", r.gfeatures);
            out += strprintf("  Config length 0x%x\n", r.configLen);
            out += strprintf("  Status 0x%x\n", r.status);
            out += strprintf("  Number of vrings %zu\n", r.vrings.size());
            // parse() only accepts zero reserved bytes.
            out += strprintf("  Reserved (should be zero) [%d][%d]\n\n", 0, 0);
            int j = 0;
            for (const Vring& v : r.vrings) {
                out += strprintf("  Vring %d\n", j++);
                out += strprintf("    Device Address 0x%x\n", v.da);
                out += strprintf("    Alignment %d\n", asInt(v.align));
                out += strprintf("    Number of buffers %d\n", asInt(v.num));
                out += strprintf("    Notify ID %d\n", asInt(v.notifyId));
                out += strprintf("    Physical Address 0x%x\n\n", v.pa);
            }
            break;
        }
        default:
            // The kernel prints a %pK pointer here; kptr_restrict shows it as zeros.
            out += strprintf("Unknown resource type found: %d [hdr: %016x]\n", asInt(r.type), 0);
            break;
        }
        ++i;
    }
    return out;
}

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
