// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// JSON as the config files need it read: strictly, with every problem named.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace rpmsgd::config {

/// @brief Parses @p text (from @p file) into @p root like nlohmann's DOM parser, but reports
/// each duplicate key (the default parser silently keeps the last one) and a syntax error with
/// its line and column, as "FILE: POINTER: duplicate key" / "FILE: line L, column C: ...", to
/// @p errors. Returns false on a syntax error (duplicate keys alone still parse).
bool parseStrictJson(const std::string& file, const std::string& text, nlohmann::json& root,
                     std::vector<std::string>& errors);

} // namespace rpmsgd::config
