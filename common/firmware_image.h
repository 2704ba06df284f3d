// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// Remote-processor firmware images: ELF parsing and the checks the kernel's generic ELF loader
// makes (drivers/remoteproc/remoteproc_elf_loader.c, remoteproc_core.c). Shared by rpmsg-sim
// (which must reject what the kernel rejects, with the same errno) and rpmsgd (which validates
// before the kernel sees a file). Building images (firmware_builder.h) and the debugfs text of a
// resource table (resource_table_text.h) are for the simulator and the tests: rpmsgd does not
// link them.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace rpmsgd::fw {

/// @brief Resource types of struct fw_rsc_hdr (include/linux/remoteproc.h).
enum ResourceType : uint32_t {
    RscCarveout = 0,
    RscDevmem = 1,
    RscTrace = 2,
    RscVdev = 3,
};

inline constexpr uint32_t VirtioIdRpmsg = 7;
inline constexpr uint32_t VirtioRpmsgFNs = 1u << 0;
inline constexpr uint32_t FwRscAddrAny = 0xFFFFFFFFu;

// Sizes of the packed kernel structures (include/linux/remoteproc.h), which the parser reads and
// the builder writes.
inline constexpr uint64_t TableHeaderSize = 16; ///< struct resource_table: ver, num, reserved[2]
inline constexpr uint64_t RscHeaderSize = 4;    ///< struct fw_rsc_hdr
inline constexpr uint64_t CarveoutSize = 52;    ///< struct fw_rsc_carveout (also fw_rsc_devmem)
inline constexpr uint64_t TraceSize = 44;       ///< struct fw_rsc_trace
inline constexpr uint64_t VdevSize = 24;        ///< struct fw_rsc_vdev without vrings and config
inline constexpr uint64_t VringSize = 20;       ///< struct fw_rsc_vdev_vring
inline constexpr uint64_t RscNameSize = 32;     ///< the name fields of carveout, devmem, trace
inline constexpr uint32_t RscLast = 4;          ///< the first type the generic handlers skip
inline constexpr size_t MaxVrings = 2;          ///< vrings of one vdev the kernel supports

/// @brief The section the kernel's find_table() looks for.
inline constexpr const char* ResourceTableName = ".resource_table";
/// @brief rpmsg-sim's own section: the remote's behaviour as JSON (sim/README.md).
inline constexpr const char* BehaviourSectionName = ".rpmsg_sim";

/// @brief One vring of a vdev entry (struct fw_rsc_vdev_vring).
struct Vring {
    uint32_t da = 0, align = 0, num = 0, notifyId = 0, pa = 0;
};

/// @brief One resource-table entry, with the fields of its type filled in.
struct Resource {
    uint32_t type = 0;
    uint32_t offset = 0; ///< offset of the entry within the table
    // carveout / devmem / trace
    uint32_t da = 0, pa = 0, len = 0, flags = 0, reserved = 0;
    std::string name;
    // vdev
    uint32_t id = 0, notifyId = 0, dfeatures = 0, gfeatures = 0, configLen = 0;
    uint8_t status = 0;
    std::vector<Vring> vrings;
};

/// @brief A loadable segment (PT_LOAD program header).
struct Segment {
    uint64_t offset = 0, vaddr = 0, paddr = 0, filesz = 0, memsz = 0;
    uint32_t flags = 0;
};

/// @brief What a valid image holds.
struct Image {
    int elfClass = 0; ///< 1 = ELFCLASS32, 2 = ELFCLASS64
    uint16_t machine = 0;
    uint64_t entry = 0;
    std::vector<Segment> segments;
    bool hasResourceTable = false;
    /// The `.resource_table` section's address (sh_addr: where the firmware is linked to find
    /// it, a device address) and size, when hasResourceTable.
    uint64_t resourceTableAddr = 0, resourceTableSize = 0;
    std::vector<Resource> resources;      ///< in table order
    std::optional<std::string> behaviour; ///< `.rpmsg_sim` contents, if present and inside the file
};

/// @brief Why an image was refused: the errno the kernel's `start` returns and a sentence
/// naming the problem (e.g. "no .resource_table section").
struct Problem {
    int error = 0;
    std::string message;
};

/// @brief Outcome of parse(): either an image or the problem.
struct ParseResult {
    std::optional<Image> image;
    Problem problem;
    explicit operator bool() const { return image.has_value(); }
};

/// @brief Checks an image as `rproc_fw_boot` does with the generic ELF ops: size, magic,
/// class, endianness, section headers present, e_phnum != 0, e_phoff within the file; the
/// `.resource_table` (ver 1, reserved zero, offsets inside, entries not truncated, reserved
/// fields zero, vdev with at most 2 vrings whose num and align are non-zero, devmem refused
/// because there is no IOMMU); PT_LOAD segments (filesz <= memsz, data inside the file).
/// A missing resource table is an error (EINVAL), as with the generic `parse_fw`.
ParseResult parse(std::span<const uint8_t> bytes);

} // namespace rpmsgd::fw
