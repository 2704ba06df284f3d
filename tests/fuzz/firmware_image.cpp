// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// Fuzz target: the firmware validator (common/firmware_image.h), i.e. the ELF and
// resource-table checks rpmsgd makes before the kernel sees a file, and what follows a valid
// image: the debugfs resource_table text and the simulator's `.rpmsg_sim` behaviour parser.

#include "common/firmware_image.h"

#include "common/resource_table_text.h"
#include "fuzz_check.h"
#include "sim/behaviour_spec.h"

#include <cstddef>
#include <cstdint>
#include <span>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const auto parsed = rpmsgd::fw::parse(std::span<const uint8_t>(data, size));
    if (!parsed) {
        // A refusal always says why, with an errno the kernel would return.
        FUZZ_CHECK(parsed.problem.error > 0);
        FUZZ_CHECK(!parsed.problem.message.empty());
        return 0;
    }
    const auto& image = *parsed.image;
    FUZZ_CHECK(image.elfClass == 1 || image.elfClass == 2);
    FUZZ_CHECK(image.hasResourceTable);
    for (const auto& s : image.segments) {
        FUZZ_CHECK(s.filesz <= s.memsz);
        FUZZ_CHECK(s.offset <= size && s.filesz <= size - s.offset);
    }
    for (const auto& r : image.resources) {
        FUZZ_CHECK(r.vrings.size() <= 2);
    }
    // Like the kernel's debugfs file, a table with no entries prints nothing.
    FUZZ_CHECK(rpmsgd::fw::describeResourceTable(&image).empty() == image.resources.empty());
    if (image.behaviour) {
        const auto spec = rpmsgsim::parseBehaviour(*image.behaviour);
        if (spec.ok) {
            // What the simulator stores must read back as the same behaviour.
            const std::string json = rpmsgsim::behaviourToJson(spec.spec);
            const auto again = rpmsgsim::parseBehaviour(json);
            FUZZ_CHECK(again.ok);
            FUZZ_CHECK(rpmsgsim::behaviourToJson(again.spec) == json);
        } else {
            FUZZ_CHECK(!spec.error.empty());
        }
    }
    return 0;
}
