// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// rpmsgctl's --help texts (help.h).

#include "help.h"

#include "exit_codes.h"

#include <cctype>

namespace rpmsgctl {

namespace {

std::string optionLine(const OptionSpec& o) {
    std::string s = "  ";
    s += o.shortName ? std::string("-") + o.shortName + ", " : "    ";
    s += "--" + o.longName + (o.valueName.empty() ? "" : " " + o.valueName);
    if (s.size() < 26) {
        s.append(26 - s.size(), ' ');
    } else {
        s += "  ";
    }
    return s + o.help;
}

// @p text broken into lines of at most @p width columns at spaces.
std::string wrapped(const std::string& text, size_t width = 78) {
    std::string out;
    size_t col = 0;
    size_t i = 0;
    while (i < text.size()) {
        size_t end = text.find(' ', i);
        if (end == std::string::npos) {
            end = text.size();
        }
        const std::string word = text.substr(i, end - i);
        if (col > 0 && col + 1 + word.size() > width) {
            out += "\n";
            col = 0;
        } else if (col > 0) {
            out += " ";
            ++col;
        }
        out += word;
        col += word.size();
        i = end + 1;
    }
    return out;
}

} // namespace

void printMainHelp() {
    std::string s = "Usage: rpmsgctl [OPTIONS] VERB [ARGS]\n\n"
                    "Control rpmsgd (org.rpmsgd.Broker1) and talk to remote processors.\n"
                    "PROC is a processor id (remoteproc0) or kernel name; CHANNEL a channel "
                    "name.\n\nVerbs:\n";
    for (const auto& v : verbTable()) {
        std::string head = "  " + v.name + (v.synopsis.empty() ? "" : " " + v.synopsis);
        head.append(head.size() < 28 ? 28 - head.size() : 2, ' ');
        s += head + v.summary + "\n";
    }
    s += "\nOptions:\n";
    for (const auto& o : globalOptions()) {
        s += optionLine(o) + "\n";
    }
    s += "\n'rpmsgctl VERB --help' describes a verb.\n\n";
    s += exitCodeHelp();
    out(s);
}

void printVerbHelp(const Verb& v) {
    std::string summary = v.summary;
    summary[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(summary[0])));
    std::string s = "Usage: rpmsgctl " + v.name + (v.synopsis.empty() ? "" : " " + v.synopsis) +
                    " [OPTIONS]\n\n" + summary + ".\n" + wrapped(v.details) + "\n";
    s += "\nOptions:\n";
    for (const auto& o : v.options) {
        s += optionLine(o) + "\n";
    }
    for (const auto& o : globalOptions()) {
        s += optionLine(o) + "\n";
    }
    s += "\nSee 'rpmsgctl --help' for the exit status of each error class.\n";
    out(s);
}

} // namespace rpmsgctl
