// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// Fuzz target: trace_diff. A remote's trace buffer is text the remote writes, read again and again
// by the daemon (daemon/trace_diff.h). The input is successive reads separated by NUL bytes (a
// read never holds one: it stops at the first); the first byte, when it is '!', primes with the
// first read instead. Whatever the reads, the lines given never hold a newline, and never carry
// more text than the reads did.

#include "daemon/trace_diff.h"

#include "fuzz_check.h"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    const bool prime = !text.empty() && text[0] == '!';
    if (prime) {
        text.erase(0, 1);
    }
    auto reads = fuzz::split(text, '\0');
    rpmsgd::TraceDiff diff;
    size_t readBytes = 0, lineBytes = 0;
    for (size_t i = 0; i < reads.size(); ++i) {
        const std::string read(reads[i]);
        readBytes += read.size();
        if (i == 0 && prime) {
            diff.prime(read);
            continue;
        }
        for (const auto& line : diff.update(read)) {
            FUZZ_CHECK(line.find('\n') == std::string::npos);
            if (line.rfind("-- ", 0) != 0 ||
                line.find(" bytes of trace lost --") == std::string::npos) {
                lineBytes += line.size() + 1;
            }
        }
        if (read.empty()) {
            diff.reset();
        }
    }
    FUZZ_CHECK(lineBytes <= readBytes + reads.size());
    return 0;
}
