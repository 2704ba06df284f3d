// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// `watch.trace_interval_ms` (config.md "Additions (version 1.1)"): default, off, range and the
// errors that name the key and the reason.

#include "config/config.h"

#include <string>

#include <gtest/gtest.h>

namespace {

using rpmsgd::config::LoadResult;
using rpmsgd::config::parseConfig;
using rpmsgd::config::Source;

LoadResult parse(const std::string& watch) {
    return parseConfig({Source{"rpmsgd.json", "{\"watch\": " + watch + "}"}});
}

TEST(ConfigTraceInterval, DefaultsToOneSecond) {
    const auto r = parse("{}");
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.config.watch.traceIntervalMs, 1000u);
}

TEST(ConfigTraceInterval, ZeroTurnsFollowingOffAndTheRangeIsAccepted) {
    for (uint32_t v : {0u, 10u, 250u, 3600000u}) {
        const auto r = parse("{\"trace_interval_ms\": " + std::to_string(v) + "}");
        ASSERT_TRUE(r.ok) << v;
        EXPECT_EQ(r.config.watch.traceIntervalMs, v);
    }
}

TEST(ConfigTraceInterval, BadValuesNameTheKeyAndTheRange) {
    const std::string bad[] = {"5", "9", "3600001", "-1", "1.5", "\"100\"", "true", "null", "[]"};
    for (const auto& v : bad) {
        const auto r = parse("{\"trace_interval_ms\": " + v + "}");
        ASSERT_FALSE(r.ok) << v;
        ASSERT_EQ(r.errors.size(), 1u) << v;
        const std::string& e = r.errors[0];
        EXPECT_NE(e.find("rpmsgd.json: /watch/trace_interval_ms: expected 0 (not followed) or an "
                         "integer from 10 to 3600000, got "),
                  std::string::npos)
            << v << ": " << e;
    }
}

} // namespace
