// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// The text debugfs `resource_table` shows for a firmware image (rproc_rsc_table_show in
// drivers/remoteproc/remoteproc_debugfs.c). For the simulator and the tests only.

#include "firmware_image.h"

#include <string>

namespace rpmsgd::fw {

/// @brief Text of debugfs `resource_table` for an image (or "No resource table found\n").
std::string describeResourceTable(const Image* image);

} // namespace rpmsgd::fw
