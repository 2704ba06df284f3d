// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "args.h"

#include <charconv>

namespace rpmsgctl {

std::optional<unsigned long long> parseNumber(const std::string& text) {
    unsigned long long v = 0;
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, v);
    if (text.empty() || ec != std::errc() || ptr != end) {
        return std::nullopt;
    }
    return v;
}

Args Args::parse(const std::vector<std::string>& argv, const std::vector<OptionSpec>& specs) {
    Args args;
    auto byLong = [&](const std::string& name) -> const OptionSpec* {
        for (const auto& s : specs) {
            if (s.longName == name) {
                return &s;
            }
        }
        return nullptr;
    };
    auto byShort = [&](char c) -> const OptionSpec* {
        for (const auto& s : specs) {
            if (s.shortName == c) {
                return &s;
            }
        }
        return nullptr;
    };
    bool optionsEnded = false;
    for (size_t i = 0; i < argv.size(); ++i) {
        const std::string& a = argv[i];
        if (optionsEnded || a.size() < 2 || a[0] != '-') {
            args.positional_.push_back(a);
            continue;
        }
        if (a == "--") {
            optionsEnded = true;
            continue;
        }
        const OptionSpec* spec = nullptr;
        std::optional<std::string> inlineValue;
        std::string shown;
        if (a.rfind("--", 0) == 0) {
            std::string name = a.substr(2);
            if (auto eq = name.find('='); eq != std::string::npos) {
                inlineValue = name.substr(eq + 1);
                name.resize(eq);
            }
            spec = byLong(name);
            shown = "--" + name;
        } else {
            spec = byShort(a[1]);
            shown = a.substr(0, 2);
            if (a.size() > 2) {
                inlineValue = a.substr(2); // -n5
            }
        }
        if (spec == nullptr) {
            throw UsageError("unknown option '" + shown + "'");
        }
        if (spec->valueName.empty()) {
            if (inlineValue) {
                throw UsageError("option '" + shown + "' takes no value");
            }
            args.values_[spec->longName] = "";
            continue;
        }
        if (!inlineValue) {
            if (i + 1 >= argv.size()) {
                throw UsageError("option '" + shown + "' needs a value (" + spec->valueName + ")");
            }
            inlineValue = argv[++i];
        }
        args.values_[spec->longName] = *inlineValue;
    }
    return args;
}

std::string Args::value(const std::string& longName, const std::string& fallback) const {
    auto it = values_.find(longName);
    return it == values_.end() ? fallback : it->second;
}

unsigned long long Args::number(const std::string& longName, unsigned long long fallback,
                                unsigned long long min, unsigned long long max) const {
    auto it = values_.find(longName);
    if (it == values_.end()) {
        return fallback;
    }
    auto v = parseNumber(it->second);
    if (!v || *v < min || *v > max) {
        throw UsageError("--" + longName + " expects a number from " + std::to_string(min) +
                         " to " + std::to_string(max) + ", not '" + it->second + "'");
    }
    return *v;
}

} // namespace rpmsgctl
