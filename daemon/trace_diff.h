// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// Following a remote's trace buffer (debugfs traceN) by reading it again and again: what was
// written since the last read, as whole lines. Pure logic, no I/O (unit-tested on its own).
//
// The buffer is text up to its first NUL, as rproc_trace_read() returns it. Firmware fills it
// from the start and, once full, keeps writing as a ring (Zephyr's RAM console, rpmsg-sim): the
// newest bytes then lie before the write position and the oldest after it, and a read always
// returns the whole ring. A read that extends the last one is new text at the end; a read of
// the same length that differs is the ring written on from where the writer was (found by
// comparing byte by byte with the last read). When the writer went all the way round between
// two reads, what it wrote before cannot be told from what is there, and a gap line
// `-- N bytes of trace lost --` says so (N: the bytes known to be lost, at least the ring's
// length); following then resumes at the ring's next change.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace rpmsgd {

/// @brief The line that marks a gap of @p bytes in a followed trace.
std::string traceGapLine(uint64_t bytes);

class TraceDiff {
public:
    /// @brief The lines written since the last call, gap lines included. A line still being
    /// written (no '\n' yet) comes once it is complete. The first read after construction or
    /// reset() gives nothing yet: whether the buffer had wrapped before it can only be told
    /// from the next one, which then gives the first read's lines too (in order, with a gap
    /// line for the start of the log a wrapped ring no longer holds).
    std::vector<std::string> update(const std::string& content);
    /// @brief Takes @p content as already seen (following starts with what comes after it).
    void prime(const std::string& content);
    /// @brief Forgets everything: the next content is a new buffer (a new boot).
    void reset();

private:
    void emit(const std::string& bytes, std::vector<std::string>& out);
    /// Where the changes from prev_ to @p cur (of the same length) begin; nullopt when every
    /// byte changed.
    std::optional<size_t> changesBegin(const std::string& cur) const;
    /// The gap when the writer went all the way round since prev_.
    std::vector<std::string> lapped(const std::string& cur);

    std::string prev_;              ///< the last content read
    std::optional<size_t> pos_ = 0; ///< where the writer goes on; nullopt: not known
    std::string partial_;           ///< the start of a line whose '\n' is not written yet
    bool skipToNewline_ = false;    ///< after a gap: the rest of a cut line is not a line
    bool unconfirmed_ = true;       ///< prev_ is a first read, not given out yet
};

} // namespace rpmsgd
