// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// Copies a file descriptor a client passed (a firmware upload: a file, memfd, pipe or socket)
// into a file of ours, up to a size limit, as fast as the kernel lets it: copy_file_range
// (in-kernel, reflinks where the filesystem can), then sendfile, then read and write. It blocks,
// so it runs off the loop (on the Worker). A file is copied from its start (the sender's offset
// is its own); a pipe or socket from where it is, until its writer closes it, within a timeout.

#include <cstdint>

namespace rpmsgd {

struct UploadCopy {
    /// @brief 0, or an errno: EFBIG beyond the limit (a file that is, or grows, larger),
    ///        ETIMEDOUT when a pipe or socket has not ended after the timeout, else what
    ///        fstat, read or write said.
    int error = 0;
    /// @brief The errno came from writing our file (else from the passed fd).
    bool writing = false;
    uint64_t bytes = 0; ///< copied
};

/// @brief Copies @p src into @p dst (an empty regular file, at its position), at most
///        @p maxBytes; a pipe or socket must end within @p timeoutMs.
UploadCopy copyUpload(int src, int dst, uint64_t maxBytes, uint64_t timeoutMs);

} // namespace rpmsgd
