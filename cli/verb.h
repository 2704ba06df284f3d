// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// rpmsgctl's verb table: every verb with its group, synopsis, help, options, arguments and
// handler. Dispatch, --help, the verb list and shell completion all read this one table, so a
// verb added here is parsed, documented and completed without another edit.

#include "args.h"
#include "output.h"
#include "rpmsgd/client.h"

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rpmsgctl {

/// @brief What a handler gets besides its arguments: the global options and the connection.
struct Context {
    rpmsgd::client::ConnectOptions connect;
    bool json = false;
    Style style;
    std::unique_ptr<rpmsgd::client::Client> client;

    /// @brief The client, connected on first use (so --help needs no bus).
    rpmsgd::client::Client& c() {
        if (!client) {
            client = std::make_unique<rpmsgd::client::Client>(connect);
        }
        return *client;
    }
};

/// @brief The groups of verbs, one source file each (verbs_*.cpp) and the man page's sections.
enum class Group { Processors, Channels, Events };

/// @brief The group's name for completion headings ("processor verbs"): "processor",
///        "channel", "event".
std::string_view groupName(Group group);

/// @brief A verb's handler; returns the exit status, throws UsageError or client::Error.
using Handler = int (*)(Context&, const Args&);

/// @brief One verb.
struct Verb {
    std::string name;
    Group group;
    std::string synopsis; ///< usage after the verb name, e.g. "PROC [NAME]"
    std::string summary;  ///< one line for the verb list
    std::string details;  ///< paragraph for VERB --help
    std::vector<OptionSpec> options;
    /// @brief What each positional argument names, in order; their count is the most the verb
    ///        takes.
    std::vector<ValueKind> args;
    std::size_t minArgs = 0;
    /// @brief The verb prints something that --json gives as JSON (completion offers --json
    ///        only then; every verb still accepts it, as it always has).
    bool json = false;
    Handler run = nullptr;
};

/// @brief "help": not a verb of the table but understood by dispatch (help [VERB]).
inline constexpr std::string_view HelpVerb = "help";

/// @brief Every verb, in the order of `rpmsgctl --help`.
const std::vector<Verb>& verbTable();

/// @brief The options every verb takes (before or after it).
const std::vector<OptionSpec>& globalOptions();

/// @brief The verb called @p name; nullptr when there is none.
const Verb* findVerb(std::string_view name);

/// @brief The option that @p word (-x, --long, --long=value) names among the global options and
///        @p verb's (every verb's when @p verb is null); nullptr for anything else.
const OptionSpec* findOption(const std::string& word, const Verb* verb);

/// @brief Where the verb is in @p argv: the first argument that is neither an option nor an
///        option's value (any verb's options may come first: "rpmsgctl -p cm4 wait
///        rpmsg-echo"); nullopt when there is none before "--" or the end.
std::optional<std::size_t> verbPosition(const std::vector<std::string>& argv);

} // namespace rpmsgctl
