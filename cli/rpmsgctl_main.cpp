// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// rpmsgctl: control rpmsgd and talk to remote processors from a shell. Built only on
// librpmsgd-client. This file holds the global options and the dispatch to the verb table
// (verb_table.cpp); the verbs live in verbs_*.cpp. Every verb has --help; lists and reports
// have --json; errors print one line on stderr and exit with a code per error class
// (exit_codes.h).

#include "complete.h"
#include "exit_codes.h"
#include "help.h"
#include "project_version.h"
#include "verb.h"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>

namespace rpmsgctl {
namespace {

namespace rc = rpmsgd::client;

// The message of an error, with the hint a person needs for the classes that are about the
// environment rather than the request.
std::string errorLine(const rc::Error& e) {
    switch (e.code()) {
    case rc::ErrorCode::ServiceUnknown:
        return "rpmsgd is not running (nobody owns org.rpmsgd.Broker1 on the bus)";
    case rc::ErrorCode::NoReply:
        return std::string("rpmsgd did not reply in time: ") + e.what();
    default:
        return e.what();
    }
}

// "help" and "help VERB"; the words after "help" are not parsed as options.
int runHelp(const std::vector<std::string>& argv, std::size_t helpAt) {
    if (helpAt + 1 < argv.size()) {
        if (const Verb* v = findVerb(argv[helpAt + 1])) {
            printVerbHelp(*v);
            return ExitOk;
        }
        throw UsageError("unknown verb '" + argv[helpAt + 1] + "'");
    }
    printMainHelp();
    return ExitOk;
}

int dispatch(const std::vector<std::string>& argv) {
    if (!argv.empty() && argv[0] == CompleteVerb) { // the shell scripts' own, never listed
        return runComplete(std::vector<std::string>(argv.begin() + 1, argv.end()));
    }
    const auto verbAt = verbPosition(argv);
    const Verb* verb = nullptr;
    std::vector<std::string> rest = argv;
    if (verbAt) {
        const std::string& name = argv[*verbAt];
        verb = findVerb(name);
        if (verb == nullptr) {
            if (name == HelpVerb) {
                return runHelp(argv, *verbAt);
            }
            throw UsageError("unknown verb '" + name + "' (see rpmsgctl --help)");
        }
        rest.erase(rest.begin() + static_cast<std::ptrdiff_t>(*verbAt));
    }
    std::vector<OptionSpec> specs = globalOptions();
    if (verb != nullptr) {
        specs.insert(specs.end(), verb->options.begin(), verb->options.end());
    }
    Args args;
    try {
        args = Args::parse(rest, specs);
    } catch (const UsageError& e) {
        throw UsageError(std::string(e.what()) + " (see rpmsgctl " +
                         (verb ? verb->name + " " : std::string()) + "--help)");
    }
    if (args.has("version")) {
        outLine("rpmsgctl " RPMSGD_VERSION);
        return ExitOk;
    }
    if (args.has("help")) {
        if (verb != nullptr) {
            printVerbHelp(*verb);
        } else {
            printMainHelp();
        }
        return ExitOk;
    }
    if (verb == nullptr) {
        throw UsageError("no verb given (see rpmsgctl --help)");
    }
    const size_t n = args.positional().size();
    if (n < verb->minArgs || n > verb->args.size()) {
        throw UsageError(verb->name + " expects " +
                         (verb->synopsis.empty() ? std::string("no arguments") : verb->synopsis) +
                         ", got " + std::to_string(n) + " argument" + (n == 1 ? "" : "s") +
                         " (see rpmsgctl " + verb->name + " --help)");
    }
    Context ctx;
    ctx.connect.address = args.value("address");
    ctx.json = args.has("json");
    ctx.style.on = colourEnabled(args.has("no-color"));
    return verb->run(ctx, args);
}

} // namespace
} // namespace rpmsgctl

int main(int argc, char** argv) {
    using namespace rpmsgctl;
    std::signal(SIGPIPE, SIG_IGN); // a closed stdout is an error to report, not a kill
    std::vector<std::string> args(argv + 1, argv + argc);
    int rc = ExitOk;
    try {
        rc = dispatch(args);
    } catch (const UsageError& e) {
        std::fflush(stdout);
        std::fprintf(stderr, "rpmsgctl: %s\n", e.what());
        return ExitUsage;
    } catch (const rpmsgd::client::Error& e) {
        std::fflush(stdout);
        std::fprintf(stderr, "rpmsgctl: %s\n", errorLine(e).c_str());
        return exitCodeOf(e.code());
    } catch (const std::exception& e) {
        std::fflush(stdout);
        std::fprintf(stderr, "rpmsgctl: %s\n", e.what());
        return ExitFailure;
    }
    if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
        std::fprintf(stderr, "rpmsgctl: writing to stdout failed: %s\n", std::strerror(errno));
        return ExitIoError;
    }
    return rc;
}
