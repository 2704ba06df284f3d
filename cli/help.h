// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// rpmsgctl's --help texts, written from the verb table: the verb list with the global options
// and exit codes, and one verb's usage, description and options.

#include "verb.h"

namespace rpmsgctl {

/// @brief `rpmsgctl --help` to stdout.
void printMainHelp();

/// @brief `rpmsgctl VERB --help` to stdout.
void printVerbHelp(const Verb& v);

} // namespace rpmsgctl
