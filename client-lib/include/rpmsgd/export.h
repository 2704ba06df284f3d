// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// Symbol visibility of librpmsgd-client: the library is built with hidden visibility, and only
// what carries RPMSGD_CLIENT_API is part of its ABI.

#if defined(__GNUC__)
#define RPMSGD_CLIENT_API __attribute__((visibility("default")))
#else
#define RPMSGD_CLIENT_API
#endif
