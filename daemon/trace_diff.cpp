// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "trace_diff.h"

#include <algorithm>

namespace rpmsgd {

namespace {
// How many bytes before the writer's position must be unchanged for a read to be taken as the
// ring written on from there (more than one line of a busy log, so a lap is not mistaken for
// text that happens to repeat).
constexpr size_t AnchorBytes = 48;
} // namespace

std::string traceGapLine(uint64_t bytes) {
    return "-- " + std::to_string(bytes) + " bytes of trace lost --";
}

void TraceDiff::reset() {
    prev_.clear();
    pos_ = 0;
    partial_.clear();
    skipToNewline_ = false;
    unconfirmed_ = true;
}

void TraceDiff::prime(const std::string& content) {
    reset();
    unconfirmed_ = false; // seen, and not to be given out
    prev_ = content;
    // Whether the ring has wrapped already cannot be told from one read.
    pos_.reset();
}

void TraceDiff::emit(const std::string& bytes, std::vector<std::string>& out) {
    size_t from = 0;
    if (skipToNewline_) {
        const size_t nl = bytes.find('\n');
        if (nl == std::string::npos) {
            return;
        }
        skipToNewline_ = false;
        from = nl + 1;
    }
    partial_.append(bytes, from);
    size_t start = 0;
    for (size_t nl; (nl = partial_.find('\n', start)) != std::string::npos; start = nl + 1) {
        out.push_back(partial_.substr(start, nl - start));
    }
    partial_.erase(0, start);
}

std::optional<size_t> TraceDiff::changesBegin(const std::string& cur) const {
    // The changes begin after the longest unchanged stretch (the bytes the writer has not
    // reached yet), when there is one.
    const size_t len = cur.size();
    size_t best = 0, bestEnd = 0, run = 0;
    for (size_t k = 0; k < 2 * len; ++k) {
        const size_t i = k % len;
        const bool changed = i >= prev_.size() || cur[i] != prev_[i];
        run = changed ? 0 : std::min(run + 1, len);
        if (run > best) {
            best = run;
            bestEnd = i;
        }
    }
    // Too short a stretch is text that happens to repeat where the writer went round.
    if (best < std::min(AnchorBytes, len / 2) || best == len) {
        return std::nullopt;
    }
    return (bestEnd + 1) % len;
}

std::vector<std::string> TraceDiff::lapped(const std::string& cur) {
    // The writer went all the way round: the ring holds only bytes written since the last
    // read, and where the newest end cannot be told.
    // A line it had begun is cut by the gap: it counts as lost.
    std::vector<std::string> out{traceGapLine(partial_.size() + cur.size())};
    partial_.clear();
    prev_ = cur;
    pos_.reset();
    skipToNewline_ = true;
    return out;
}

std::vector<std::string> TraceDiff::update(const std::string& cur) {
    std::vector<std::string> out;
    if (unconfirmed_) {
        if (prev_.empty() && !cur.empty()) {
            prev_ = cur; // the first read: held until the next one tells what it was
            return out;
        }
        unconfirmed_ = false;
        const std::string first = std::move(prev_);
        prev_.clear();
        pos_ = 0;
        const bool grew = cur.size() >= first.size() && cur.compare(0, first.size(), first) == 0;
        if (grew) {
            // Written on at the end, or not at all: the first read was the log from its start.
            emit(cur, out);
            prev_ = cur;
            pos_ = cur.size();
            return out;
        }
        if (cur.size() != first.size()) {
            // Not a full ring then (it grew since, or the buffer started again): the first
            // read was the log from its start, and cur is read on from there.
            emit(first, out);
            prev_ = first;
            pos_ = first.size();
            auto more = update(cur);
            out.insert(out.end(), more.begin(), more.end());
            return out;
        }
        // The same length, changed: a ring that had wrapped before the first read. Where the
        // writer stood then is where the changes since begin; the first read, oldest byte
        // first, starts there with a cut line, and the start of the log is gone.
        prev_ = first;
        const std::optional<size_t> w0 = changesBegin(cur);
        if (!w0) {
            return lapped(cur);
        }
        const std::string oldestFirst = first.substr(*w0) + first.substr(0, *w0);
        const size_t nl = oldestFirst.find('\n');
        const size_t cut = nl == std::string::npos ? oldestFirst.size() : nl + 1;
        out.push_back(traceGapLine(*w0 + cut));
        emit(oldestFirst.substr(cut), out);
        pos_ = *w0;
        auto more = update(cur);
        out.insert(out.end(), more.begin(), more.end());
        return out;
    }
    if (cur == prev_) {
        return out;
    }
    const bool extends = cur.size() > prev_.size() && cur.compare(0, prev_.size(), prev_) == 0;
    if (extends && (!pos_ || *pos_ == prev_.size())) {
        // Written on at the end, not wrapped (yet).
        emit(cur.substr(prev_.size()), out);
        prev_ = cur;
        pos_ = cur.size();
        return out;
    }
    if (cur.size() < prev_.size() || (cur.size() > prev_.size() && pos_ && *pos_ < prev_.size())) {
        // Shorter, or longer than a ring that had wrapped: a new buffer (the firmware started
        // again). What was half written before is a line of its own.
        if (!partial_.empty()) {
            out.push_back(partial_);
        }
        partial_.clear();
        skipToNewline_ = false;
        prev_.clear();
        pos_ = 0;
        emit(cur, out);
        prev_ = cur;
        pos_ = cur.size();
        return out;
    }
    // A ring of cur.size() bytes written on from where the writer was.
    const size_t len = cur.size();
    auto changed = [&](size_t i) {
        return i >= prev_.size() || cur[i] != prev_[i];
    };
    std::optional<size_t> start;
    if (pos_) {
        start = *pos_ % len;
    } else {
        start = changesBegin(cur);
        if (start) {
            skipToNewline_ = skipToNewline_ || (cur[(*start + len - 1) % len] != '\n');
        }
    }
    // The bytes just before the writer's position were read last time: if any of them changed,
    // the writer went all the way round (or nearly: then nothing is lost, but where it stands
    // cannot be told either).
    bool wentRound = !start;
    size_t anchor = 0;
    if (start) {
        for (size_t j = 1; j <= AnchorBytes && j < len; ++j) {
            const size_t i = (*start + len - j) % len;
            if (i >= prev_.size()) {
                break;
            }
            ++anchor;
            wentRound = wentRound || changed(i);
        }
    }
    size_t last = 0;
    bool any = false;
    if (!wentRound) {
        for (size_t k = 0; k + anchor < len; ++k) {
            if (changed((*start + k) % len)) {
                any = true;
                last = k;
            }
        }
        wentRound = !any;
    }
    if (wentRound) {
        return lapped(cur);
    }
    std::string fresh;
    fresh.reserve(last + 1);
    for (size_t k = 0; k <= last; ++k) {
        fresh.push_back(cur[(*start + k) % len]);
    }
    emit(fresh, out);
    prev_ = cur;
    pos_ = (*start + last + 1) % len;
    return out;
}

} // namespace rpmsgd
