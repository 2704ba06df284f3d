// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// Shell completion's answers, for the bash and zsh scripts (rpmsgctl.bash-completion,
// rpmsgctl.zsh-completion): the hidden `rpmsgctl __complete WORD...` reads the verb table for
// verbs, options and what each argument names, asks rpmsgd for processors and channels (with
// the --address of the line), and lists firmware images in the firmware directory of rpmsgd's
// configuration.
//
// The WORDs are the command line's words after the program name, up to the cursor; the last
// is the one being completed (empty after a space). The answer on stdout is a first line
// "words" followed by one candidate per line, "VALUE<TAB>DESCRIPTION<TAB>TAG", or the single
// line "files" when the shell should complete a local file name. A VALUE ending in '/' or '='
// is unfinished: no space goes after it. TAG groups candidates (zsh shows them under it).

#include <string>
#include <vector>

namespace rpmsgctl {

/// @brief The hidden verb's name; dispatch hands it the words after it.
inline constexpr const char* CompleteVerb = "__complete";

/// @brief One candidate for the word being completed.
struct Candidate {
    std::string value;
    std::string description;
    std::string tag;
};

/// @brief What completion offers.
struct Completion {
    bool files = false; ///< the shell completes a local file name instead
    std::vector<Candidate> candidates;
};

/// @brief The candidates for the last of @p words (see above). Never throws: what cannot be
///        learnt (rpmsgd not running, an unreadable directory) offers nothing.
Completion complete(const std::vector<std::string>& words);

/// @brief Runs complete() and prints the answer; the exit status.
int runComplete(const std::vector<std::string>& words);

/// @brief The firmware directory completion lists: paths.firmware of the configuration file
///        in $RPMSGD_CONFIG, else of the installed rpmsgd.json (with its drop-ins); the
///        default /lib/firmware when it sets none or cannot be read.
std::string firmwareDirectory();

} // namespace rpmsgctl
