// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// printf into a std::string, for messages that quote numbers the way the kernel prints them.

#include <cstdarg>
#include <cstddef>
#include <cstdio>
#include <string>

namespace rpmsgd {

/// @brief vsnprintf into a std::string.
[[gnu::format(printf, 1, 2)]] inline std::string strprintf(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    va_list ap2;
    va_copy(ap2, ap);
    const int n = std::vsnprintf(nullptr, 0, fmt, ap);
    va_end(ap);
    std::string out;
    if (n > 0) {
        out.resize(static_cast<std::size_t>(n));
        std::vsnprintf(out.data(), out.size() + 1, fmt, ap2);
    }
    va_end(ap2);
    return out;
}

} // namespace rpmsgd
