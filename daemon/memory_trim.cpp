// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "memory_trim.h"

#include <malloc.h>

namespace rpmsgd {

void MemoryTrim::noteActivity() {
    if (timer_.pending()) {
        return;
    }
    timer_ = scheduler_.after(quietMs_, [this] {
        ::malloc_trim(0);
        ++trims_;
    });
}

} // namespace rpmsgd
