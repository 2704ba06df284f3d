// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// `rpmsg-sim mkfw`: build a simulated firmware image from a behaviour spec.

namespace rpmsgsim {

/// @brief Entry point of `rpmsg-sim mkfw --spec FILE --out FILE [--defect KIND]`; argv[0] is
/// "mkfw". Returns the process exit code (0 ok, 1 error, 2 usage).
int runMkfw(int argc, char** argv);

} // namespace rpmsgsim
