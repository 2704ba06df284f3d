// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// drivers/remoteproc/remoteproc_coredump.c (Linux 6.6): rproc_coredump(), which builds an
// ELF32 core of the firmware's segments as they are in its memory (the image's data and the
// trace the firmware wrote) and hands it to devcoredump, either as a copy
// (`enabled`: recovery goes on) or in place (`inline`: recovery waits until the dump is read
// and dismissed). One pending dump per device, as dev_coredumpm() allows. 6.1 and 5.15 are the
// same here.

#include "kernel_model_impl.h"

#include <algorithm>

namespace rpmsgsim {

void Simulator::Impl::coredumpThen(const std::shared_ptr<Processor>& p,
                                   std::function<void()> next) {
    if (p->coredump == CoredumpMode::Disabled || devcdDisabled || p->imageBytes.empty()) {
        return next();
    }
    if (auto pending = p->pendingDump.lock(); pending && !pending->freed) {
        return next(); // one pending dump per device: the new one is dropped at once
    }
    auto d = createDevcd(p, buildCore(*p));
    if (p->coredump == CoredumpMode::Inline) {
        d->onFree = std::move(next); // recovery waits until the dump is dismissed
        return;
    }
    next();
}

std::vector<uint8_t> Simulator::Impl::buildCore(const Processor& p) {
    // An ELF32 core: ET_CORE, the firmware's machine and entry, one PT_LOAD per segment with
    // its data back to back after the program headers (remoteproc_coredump.c).
    std::vector<fw::Segment> segs;
    uint16_t machine = 40;
    uint32_t entry = 0;
    if (p.image) {
        segs = p.image->segments;
        machine = p.image->machine;
        entry = uint32_t(p.image->entry);
    }
    auto put16 = [](std::vector<uint8_t>& b, size_t off, uint16_t v) {
        b[off] = uint8_t(v);
        b[off + 1] = uint8_t(v >> 8);
    };
    auto put32 = [](std::vector<uint8_t>& b, size_t off, uint32_t v) {
        for (int i = 0; i < 4; ++i) {
            b[off + i] = uint8_t(v >> (8 * i));
        }
    };
    constexpr size_t EhSize = 52, PhSize = 32, MaxSeg = 1 << 20;
    size_t dataOff = EhSize + PhSize * segs.size();
    size_t total = dataOff;
    for (const auto& s : segs) {
        total += std::min<uint64_t>(s.memsz, MaxSeg);
    }
    std::vector<uint8_t> b(total, 0);
    const uint8_t ident[] = {0x7f, 'E', 'L', 'F', 1, 1, 1};
    std::memcpy(b.data(), ident, sizeof ident);
    put16(b, 16, 4); // ET_CORE
    put16(b, 18, machine);
    put32(b, 20, 1);
    put32(b, 24, entry);
    put32(b, 28, EhSize);
    put16(b, 40, EhSize);
    put16(b, 42, PhSize);
    put16(b, 44, uint16_t(segs.size()));
    put16(b, 46, 40);
    size_t off = dataOff;
    for (size_t i = 0; i < segs.size(); ++i) {
        const auto& s = segs[i];
        size_t size = std::min<uint64_t>(s.memsz, MaxSeg);
        size_t ph = EhSize + i * PhSize;
        put32(b, ph + 0, 1); // PT_LOAD
        put32(b, ph + 4, uint32_t(off));
        put32(b, ph + 8, uint32_t(s.paddr));
        put32(b, ph + 12, uint32_t(s.paddr));
        put32(b, ph + 16, uint32_t(size));
        put32(b, ph + 20, uint32_t(size));
        put32(b, ph + 24, 7); // RWX
        size_t fromFile = std::min<uint64_t>(s.filesz, size);
        if (s.offset + fromFile <= p.imageBytes.size()) {
            std::memcpy(b.data() + off, p.imageBytes.data() + s.offset, fromFile);
        }
        // What the firmware wrote at run time is in its memory too: its trace buffer.
        for (const auto& r : p.image ? p.image->resources : std::vector<fw::Resource>{}) {
            if (r.type == fw::RscTrace && r.da >= s.paddr && r.da - s.paddr < size) {
                const size_t at = r.da - s.paddr;
                std::memcpy(b.data() + off + at, p.traceBuf.data(),
                            std::min(p.traceBuf.size(), size - at));
            }
        }
        off += size;
    }
    return b;
}

} // namespace rpmsgsim
