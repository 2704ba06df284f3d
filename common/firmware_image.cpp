// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "firmware_image.h"

#include "strprintf.h"

#include <bit>
#include <cerrno>
#include <cstring>
#include <elf.h>
#include <limits>
#include <string_view>

namespace rpmsgd::fw {

namespace {

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
    if (!fits(offset, RscNameSize, bytes.size())) {
        throw OutOfBounds{};
    }
    const auto* p = reinterpret_cast<const char*>(bytes.data() + offset);
    return std::string(p, strnlen(p, RscNameSize));
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

} // namespace

ParseResult parse(std::span<const uint8_t> bytes) {
    try {
        return Parser(bytes).run();
    } catch (const OutOfBounds&) {
        return fail("the image is malformed: a structure lies beyond the end of the file");
    }
}

} // namespace rpmsgd::fw
