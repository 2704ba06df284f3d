// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// remoteproc through sysfs (/sys/class/remoteproc/remoteprocN), its debugfs trace buffers and
// the devcoredumps it leaves (/sys/class/devcoredump/devcdN). Facts: docs/kernel-abi.md §1, §2, §4.
//
// Lifecycle writes are guarded: `start` is written only from `offline` or `detached`, never to
// a processor that is already powered (running/attached, where 5.19+ silently takes a second
// power reference that makes the next `stop` a no-op, and crashed, where every version does).

#include "daemon/kernel/paths.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace rpmsgd::kernel {

/// @brief What sysfs says about one processor at one moment.
struct ProcessorInfo {
    std::string id;          ///< remoteprocN
    std::string name;        ///< driver-supplied `name`
    std::string state;       ///< offline, running, attached, detached, crashed, deleted, ...
    std::string firmware;    ///< `firmware` ("unknown" while attached)
    std::string recovery;    ///< enabled/disabled; "" on kernels without the attribute
    std::string coredump;    ///< disabled/enabled/inline; "" on kernels without the attribute
    std::string devicePath;  ///< the resolved device directory under /sys/devices
    std::string devcoredump; ///< devcdN while a dump of this processor is pending, else ""
};

/// @brief The processor ids under /sys/class/remoteproc, in index order; empty when the class
/// does not exist (remoteproc not built in).
std::vector<std::string> listProcessors(const Paths& paths);

/// @brief Snapshot of one processor; nullopt when it vanished (or never existed). Throws
/// KernelError for other read failures (e.g. EACCES).
std::optional<ProcessorInfo> readProcessor(const Paths& paths, const std::string& id);

/// @brief Snapshots of every processor; processors vanishing during the scan are skipped.
std::vector<ProcessorInfo> readProcessors(const Paths& paths);

/// @brief `state` of one processor without the newline; throws KernelError
/// ("read remoteproc0/state: ...").
std::string readState(const Paths& paths, const std::string& id);

/// @brief Boots (or, from `detached`, attaches) the processor by writing `start`. Returns false
/// without writing when it is already running/attached; throws StateError when it is crashed,
/// deleted or in any other state where a `start` would be wrong, KernelError when the kernel
/// refuses (the boot error: ENOENT missing firmware, EINVAL bad image, ...).
bool start(const Paths& paths, const std::string& id);

/// @brief Shuts the processor down by writing `stop`. Returns false without writing when it is
/// offline/detached; throws StateError when crashed (recover first) or deleted, KernelError when
/// the kernel refuses.
bool stop(const Paths& paths, const std::string& id);

/// @brief Writes `recover` to `recovery`: restarts a crashed processor (the kernel ignores it in
/// any other state). Synchronous; with coredump `inline` it blocks until the dump is dismissed.
void recover(const Paths& paths, const std::string& id);

/// @brief Writes the firmware name (EBUSY unless offline; takes effect at the next start).
/// Names that are empty or contain a newline are refused as InvalidArgument.
void setFirmware(const Paths& paths, const std::string& id, const std::string& name);

/// @brief Writes `enabled`/`disabled` to `recovery`. Note: `enabled` also recovers a processor
/// that is crashed at that moment.
void setRecovery(const Paths& paths, const std::string& id, bool enabled);

/// @brief Writes @p mode (`disabled`, `enabled` or `inline`) to `coredump` (EBUSY while crashed,
/// EINVAL for other words).
void setCoredump(const Paths& paths, const std::string& id, const std::string& mode);

/// @brief Contents of debugfs remoteproc/<id>/trace<index>, at most @p maxBytes. A missing
/// buffer throws KernelError ENOENT with code NotFound ("remoteproc0: no trace buffer 1").
std::string readTrace(const Paths& paths, const std::string& id, unsigned index,
                      size_t maxBytes = 1024 * 1024);

/// @brief A pending devcoredump.
struct Coredump {
    std::string device;        ///< devcdN
    std::string failingDevice; ///< final component of the failing_device link
    std::string processorId;   ///< remoteprocN, or "" when the dump is not a remoteproc's
};

/// @brief Pending dumps under /sys/class/devcoredump, in index order (dumps vanishing during the
/// scan are skipped; an absent class gives an empty list).
std::vector<Coredump> listCoredumps(const Paths& paths);

/// @brief A dump's bytes.
struct CoredumpData {
    std::vector<uint8_t> bytes;
    bool truncated = false; ///< the dump was longer than the limit; only the start was read
};

/// @brief Reads devcdN/data to EOF, at most @p maxBytes. Throws KernelError ("read
/// devcd1/data: ...").
CoredumpData readCoredump(const Paths& paths, const std::string& device, size_t maxBytes);

/// @brief Dismisses a dump (writes "1" to its data), which also lets an `inline` recovery go on.
/// Returns false when it was already gone.
bool dismissCoredump(const Paths& paths, const std::string& device);

} // namespace rpmsgd::kernel
