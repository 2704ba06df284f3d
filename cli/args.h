// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// rpmsgctl's command-line parsing with the standard library only: options (short and long,
// with or without a value, "--opt=value" and "--opt value" forms) anywhere among positional
// arguments, "--" ending options. Errors are UsageError naming the offending argument.

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace rpmsgctl {

/// @brief A wrong command line (exit code 2).
class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// @brief What a word on the command line names: how shell completion finds candidates for it.
enum class ValueKind {
    None,          ///< free text or a number: nothing to offer
    Processor,     ///< a processor id or kernel name, asked from rpmsgd
    Channel,       ///< a channel name, asked from rpmsgd
    FirmwareImage, ///< an image in rpmsgd's firmware directory (paths.firmware of its config)
    LocalFile,     ///< a file of the caller's, completed by the shell
    RecoveryWord,  ///< on/off or a recovery mode (common/states.h)
    CoredumpWord,  ///< a coredump mode (common/states.h)
    Verb,          ///< a verb name (help VERB)
    Address,       ///< a D-Bus address
};

/// @brief One option a verb (or the program) accepts.
struct OptionSpec {
    std::string longName;              ///< without "--", e.g. "timeout"
    char shortName = 0;                ///< e.g. 'n'; 0 when none
    std::string valueName;             ///< e.g. "MS"; empty for a flag
    std::string help;                  ///< one line for --help
    ValueKind value = ValueKind::None; ///< what the value names (completion)
};

/// @brief The parsed command line.
class Args {
public:
    /// @brief Parses @p argv against @p specs; throws UsageError.
    static Args parse(const std::vector<std::string>& argv, const std::vector<OptionSpec>& specs);

    /// @brief True when the flag or option was given.
    bool has(const std::string& longName) const { return values_.count(longName) != 0; }
    /// @brief The option's value, or @p fallback.
    std::string value(const std::string& longName, const std::string& fallback = {}) const;
    /// @brief The option's value as an unsigned number in [min, max], or @p fallback; throws
    ///        UsageError naming the option for anything else.
    unsigned long long number(const std::string& longName, unsigned long long fallback,
                              unsigned long long min = 0,
                              unsigned long long max = 0xffffffffULL) const;
    const std::vector<std::string>& positional() const { return positional_; }

private:
    std::map<std::string, std::string> values_;
    std::vector<std::string> positional_;
};

/// @brief Parses an unsigned decimal number; nullopt for anything else (sign, junk, overflow).
std::optional<unsigned long long> parseNumber(const std::string& text);

} // namespace rpmsgctl
