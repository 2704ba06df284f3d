// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// drivers/remoteproc/remoteproc_debugfs.c (Linux 6.6): /sys/kernel/debug/remoteproc/
// remoteprocN with `name`, `crash` (kstrtouint, then rproc_report_crash), `recovery`,
// `coredump` (strncmp word matching, EBUSY while crashed), `resource_table`,
// `carveout_memories`, and the `trace0` file rproc_create_trace_file() adds for a firmware's
// trace resource. 6.1 and 5.15 are the same here.

#include "common/resource_table_text.h"
#include "kernel_model_impl.h"

#include <cerrno>
#include <climits>

namespace rpmsgsim {

void Simulator::Impl::buildDebugfs(const std::shared_ptr<Processor>& p) {
    std::weak_ptr<Processor> weak = p;
    p->debugDir = vfs.dir(debugRemoteproc, p->id);
    vfs.attr(p->debugDir, "name", 0400,
             AttrOps{.show =
                         [weak] {
                             auto sp = weak.lock();
                             return sp ? sp->name.substr(0, 98) + "\n" : std::string();
                         },
                     .debugfs = true});
    vfs.attr(p->debugDir, "crash", 0200,
             AttrOps{.store = [this, weak](std::string_view buf) -> long {
                         auto sp = weak.lock();
                         if (!sp) {
                             return -ENODEV;
                         }
                         // kstrtouint(base 0): one trailing newline allowed.
                         std::string s(buf);
                         if (!s.empty() && s.back() == '\n') {
                             s.pop_back();
                         }
                         if (s.empty() || s[0] == '-' || s[0] == '+' ||
                             s.find_first_of(" \t\n") != std::string::npos ||
                             s.find('\0') != std::string::npos) {
                             return -EINVAL;
                         }
                         errno = 0;
                         char* end = nullptr;
                         unsigned long long v = strtoull(s.c_str(), &end, 0);
                         if (!end || *end != '\0') {
                             return -EINVAL;
                         }
                         if (errno == ERANGE || v > UINT_MAX) {
                             return -ERANGE;
                         }
                         reportCrash(sp, unsigned(v));
                         return long(buf.size());
                     },
                     .maxWrite = 4096,
                     .debugfs = true});
    vfs.attr(p->debugDir, "recovery", 0600, recoveryAttr(weak, true));
    vfs.attr(p->debugDir, "coredump", 0600, coredumpAttr(weak, true));
    vfs.attr(p->debugDir, "resource_table", 0400,
             AttrOps{.show =
                         [weak] {
                             auto sp = weak.lock();
                             return fw::describeResourceTable(sp && sp->image ? &*sp->image
                                                                              : nullptr);
                         },
                     .debugfs = true});
    vfs.attr(p->debugDir, "carveout_memories", 0400,
             AttrOps{.show =
                         [weak] {
                             auto sp = weak.lock();
                             std::string s;
                             if (!sp || !sp->image) {
                                 return s;
                             }
                             for (const auto& r : sp->image->resources) {
                                 if (r.type != fw::RscCarveout) {
                                     continue;
                                 }
                                 char b[256];
                                 snprintf(b, sizeof b,
                                          "Carveout memory entry:\n\tName: %s\n\tVirtual address: "
                                          "0000000000000000\n\tDMA address: 0x%08x\n\tDevice "
                                          "address: 0x%08x\n\tLength: 0x%x Bytes\n\n",
                                          r.name.c_str(), r.pa, r.da, r.len);
                                 s += b;
                             }
                             return s;
                         },
                     .debugfs = true});
}

void Simulator::Impl::createTraceFile(const std::shared_ptr<Processor>& p) {
    // Kept through recovery: a recovered firmware writes to the same file.
    if (p->traceLen && !p->traceNode && p->debugDir) {
        std::weak_ptr<Processor> weak = p;
        p->traceNode =
            vfs.attr(p->debugDir, "trace0", 0400,
                     AttrOps{.show =
                                 [weak] {
                                     auto sp = weak.lock();
                                     // rproc_trace_read: up to the first NUL.
                                     return sp ? std::string(sp->traceBuf.c_str()) : std::string();
                                 },
                             .debugfs = true});
    }
}

} // namespace rpmsgsim
