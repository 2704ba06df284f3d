// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// The firmware image builder behind `rpmsg-sim mkfw`, with the defects it can plant so that
// tests see each of the kernel's refusals. For the simulator and the tests only: rpmsgd links the
// validation (firmware_image.h) and not this (the rpmsgd-firmware-tools library,
// common/meson.build).

#include "firmware_image.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace rpmsgd::fw {

/// @brief Defects the builder can plant, for tests.
enum class Defect {
    None,
    BadMagic,
    TooSmall,
    NoSectionHeaders,
    NoResourceTable,
    TruncatedResourceTable,
    BadResourceTableVersion,
    NoLoadableSegments,
    BigEndian,
    SegmentBeyondFile,
};

/// @brief Parses a defect name as used by `rpmsg-sim mkfw --defect` ("bad-magic", ...).
std::optional<Defect> defectFromName(const std::string& name);

/// @brief The name of a defect ("none" for Defect::None), the inverse of defectFromName().
const char* defectName(Defect defect);

/// @brief Every defect name accepted by defectFromName(), in declaration order.
std::vector<std::string> defectNames();

/// @brief Image options for the builder.
struct BuildOptions {
    bool nameService = true;  ///< VIRTIO_RPMSG_F_NS in the vdev's dfeatures
    uint32_t traceLen = 1024; ///< length of the trace0 buffer; 0 = no trace entry
    uint16_t machine = 40;    ///< EM_ARM
    uint32_t vringNum = 256;
    std::string behaviour; ///< JSON stored in `.rpmsg_sim`; empty = no section
    Defect defect = Defect::None;
    bool elf64 = false; ///< build ELFCLASS64 instead (to exercise the parser's 64-bit path)
};

/// @brief Builds a little-endian ELF32 image with one PT_LOAD segment, `.resource_table`
/// (trace entry, then the rpmsg vdev), the behaviour section and `.shstrtab`. The segment holds
/// `.text` and `.resource_table`; its memsz also covers the trace buffer (zero-filled).
std::vector<uint8_t> build(const BuildOptions& options);

} // namespace rpmsgd::fw
