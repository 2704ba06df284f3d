// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// JSON pointers (RFC 6901) for error messages that name where in a document a bad value sits,
// and a short quotation of that value. Shared by the config parser and rpmsg-sim's firmware
// spec parser. Escaping is nlohmann::json's own json_pointer, not ours.

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace rpmsgd::json_path {

/// @brief The pointer to member `key` of the value at `pointer` ("" is the root), escaped:
///        child("/a", "b/c") == "/a/b~1c".
inline std::string child(const std::string& pointer, std::string_view key) {
    return (nlohmann::json::json_pointer(pointer) / std::string(key)).to_string();
}

/// @brief The pointer to element `index` of the array at `pointer`.
inline std::string child(const std::string& pointer, std::size_t index) {
    return (nlohmann::json::json_pointer(pointer) / index).to_string();
}

/// @brief How a bad value is quoted in a message: JSON spelling for scalars, cut after
///        `maxChars` characters, and "an object" / "an array" for containers.
inline std::string describe(const nlohmann::json& v, std::size_t maxChars = 40) {
    if (v.is_object()) {
        return "an object";
    }
    if (v.is_array()) {
        return "an array";
    }
    std::string s = v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    if (s.size() > maxChars) {
        s = s.substr(0, maxChars) + "...";
    }
    return s;
}

} // namespace rpmsgd::json_path
