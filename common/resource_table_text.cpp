// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "resource_table_text.h"

#include "strprintf.h"

namespace rpmsgd::fw {

namespace {

// The kernel prints u32 fields with %d.
int asInt(uint32_t v) {
    return static_cast<int>(v);
}

} // namespace

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

} // namespace rpmsgd::fw
