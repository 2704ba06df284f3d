// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// Reads a file descriptor a client passed (a firmware upload: a file, memfd or pipe) to its
// end, up to a size limit, without ever blocking the loop: a writer that is slow or stuck must
// not stall every other client. One loop serves both kinds: a file is read from its start at
// once (it never blocks, and epoll refuses it), a pipe or socket as far as it has data each time
// it becomes readable. No D-Bus here: the Processor glue answers LoadFirmware from the result.

#include "common/scheduler.h"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <vector>

typedef struct sd_event sd_event;
typedef struct sd_event_source sd_event_source;

namespace rpmsgd {

class UploadReader {
public:
    /// @brief 0 with the bytes, or an errno: EFBIG beyond the limit, ETIMEDOUT after
    ///        TimeoutMs, ESHUTDOWN when the reader is stopped, else what fstat or read said.
    using Done = std::function<void(int error, std::vector<uint8_t> data)>;
    static constexpr uint64_t TimeoutMs = 30000;

    UploadReader(sd_event* event, Scheduler& scheduler, uint64_t maxBytes);
    ~UploadReader();
    UploadReader(const UploadReader&) = delete;
    UploadReader& operator=(const UploadReader&) = delete;

    void setMaxBytes(uint64_t n) { maxBytes_ = n; }
    uint64_t maxBytes() const { return maxBytes_; }

    /// @brief Reads @p fd (owned: closed when done) and calls @p done once, from the loop or,
    ///        for a file, before read() returns.
    void read(int fd, Done done);
    /// @brief Ends every pending read with ESHUTDOWN.
    void abortAll();

private:
    struct Upload;
    void pump(uint64_t id);
    void finish(uint64_t id, int error);
    static int onReadable(sd_event_source*, int, uint32_t, void* userdata);

    sd_event* event_;
    Scheduler& scheduler_;
    uint64_t maxBytes_;
    std::map<uint64_t, std::unique_ptr<Upload>> uploads_;
    uint64_t next_ = 1;
};

} // namespace rpmsgd
