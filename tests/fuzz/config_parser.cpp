// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// Fuzz target: the configuration parser (config/config.h). The input is one or more JSON texts
// separated by NUL bytes (the main file, then drop-ins), parsed and merged as loadConfig() does.
// A parsed configuration is then queried with the rule matchers.

#include "config/config.h"
#include "fuzz_check.h"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    auto parts = fuzz::split(text, '\0');
    if (parts.size() > 4) {
        return 0; // drop-ins add nothing new past a few; keep the inputs meaningful
    }
    std::vector<rpmsgd::config::Source> sources;
    for (size_t i = 0; i < parts.size(); ++i) {
        sources.push_back(
            {i == 0 ? "rpmsgd.json" : "rpmsgd.json.d/" + std::to_string(i) + ".json", parts[i]});
    }
    const auto result = rpmsgd::config::parseConfig(sources);
    FUZZ_CHECK(result.ok == result.errors.empty());
    for (const auto& e : result.errors) {
        // Every error names the file it comes from.
        FUZZ_CHECK(e.rfind("rpmsgd.json", 0) == 0);
    }
    if (!result.ok) {
        FUZZ_CHECK(result.config == rpmsgd::config::Config{});
        return 0;
    }
    // Parsing is a pure function.
    FUZZ_CHECK(rpmsgd::config::parseConfig(sources).config == result.config);
    const auto& config = result.config;
    for (const char* name : {"rpmsg-echo", "rpmsg-tty", "", "*", "a/b"}) {
        rpmsgd::config::matchChannelRule(config, name, "remoteproc0", "m4");
        rpmsgd::config::matchProcessorPolicy(config, "remoteproc0", name);
    }
    for (const auto& rule : config.channels) {
        rpmsgd::config::globMatch(rule.match, rule.processor);
    }
    for (const auto& p : config.processors) {
        const auto* hit = rpmsgd::config::matchProcessorPolicy(config, p.match, p.match);
        FUZZ_CHECK(hit != nullptr || rpmsgd::config::globMatch(p.match, p.match) == false);
    }
    return 0;
}
