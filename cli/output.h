// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// rpmsgctl's output: writing to stdout, colour (only on a terminal, never with NO_COLOR),
// aligned tables, hex, and the JSON shapes of processors, channels and events.

#include "rpmsgd/client.h"

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace rpmsgctl {

/// @brief Writes @p s to stdout as it is.
void out(const std::string& s);
/// @brief Writes @p s and a newline.
void outLine(const std::string& s);
/// @brief Writes @p j indented by 2.
void printJson(const nlohmann::json& j);
/// @brief Writes @p j on one line and flushes (JSON Lines streams).
void printJsonLine(const nlohmann::json& j);
/// @brief Flushes stdout; throws an IoError when the reader went away or the write failed.
void flushStream();
/// @brief @p s, or "-" when it is empty.
std::string orDash(const std::string& s);
/// @brief The strings joined with @p sep.
std::string joined(const std::vector<std::string>& v, const char* sep = ",");

/// @brief Whether stdout gets ANSI colour: a terminal, NO_COLOR unset or empty, TERM not dumb,
///        and not disabled by --no-color.
bool colourEnabled(bool disabledByFlag);

/// @brief Text styles for a processor state, a header, a warning.
struct Style {
    bool on = false;
    std::string bold(const std::string& s) const;
    std::string dim(const std::string& s) const;
    /// @brief green running/attached, red crashed, yellow the in-betweens, plain offline.
    std::string state(const std::string& s) const;
    std::string red(const std::string& s) const;
};

/// @brief Rows of cells printed with columns aligned; the header in bold.
class Table {
public:
    explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}
    /// @brief A row; @p styled holds the cells as printed (colour codes), same count as cells.
    void add(std::vector<std::string> cells, std::vector<std::string> styled = {});
    /// @brief Prints to stdout.
    void print(const Style& style) const;

private:
    std::vector<std::string> header_;
    std::vector<std::vector<std::string>> rows_;
    std::vector<std::vector<std::string>> styled_;
};

/// @brief "68 65 6c" for "hel".
std::string toHex(std::string_view bytes);
/// @brief Bytes of hex text; spaces, ':' and ',' between bytes are ignored. Throws UsageError.
std::string fromHex(const std::string& text);
/// @brief True when every byte is printable ASCII, tab, or newline.
bool printable(std::string_view bytes);

nlohmann::json toJson(const rpmsgd::client::ProcessorInfo& p);
nlohmann::json toJson(const rpmsgd::client::ChannelInfo& c);
nlohmann::json toJson(const rpmsgd::client::Event& e);
/// @brief {"size": n, "hex": "...", "text": "..." (only when printable)}.
nlohmann::json messageJson(std::string_view bytes);

/// @brief One line for an event, e.g. "ChannelAdded rpmsg-echo on remoteproc0".
std::string describe(const rpmsgd::client::Event& e);

} // namespace rpmsgctl
