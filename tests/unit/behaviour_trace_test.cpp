// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// The firmware spec's `trace_every_ms` (sim/README.md "Simulated firmware"): parsed, bounded, kept
// through the image's stored JSON, and the ring the sim writes trace lines into.

#include "sim/behaviour_spec.h"
#include "sim/trace_ring.h"

#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace {

using namespace rpmsgsim;

TEST(BehaviourTraceEvery, ParsesDefaultsAndRoundTrips) {
    EXPECT_EQ(parseBehaviour("{}").spec.traceEveryMs, 0u);
    const BehaviourParse r = parseBehaviour(R"({"trace_every_ms": 25})");
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.spec.traceEveryMs, 25u);
    const BehaviourParse back = parseBehaviour(behaviourToJson(r.spec));
    ASSERT_TRUE(back.ok) << back.error;
    EXPECT_EQ(back.spec.traceEveryMs, 25u);
    EXPECT_EQ(behaviourToJson(parseBehaviour("{}").spec).find("trace_every_ms"), std::string::npos)
        << "images without it stay as they were";
}

TEST(BehaviourTraceEvery, BadValuesNameThePath) {
    for (const char* v : {"-1", "1.5", "\"10\"", "true", "3600001"}) {
        const BehaviourParse r = parseBehaviour(std::string(R"({"trace_every_ms": )") + v + "}");
        EXPECT_FALSE(r.ok) << v;
        EXPECT_EQ(r.error.rfind("/trace_every_ms: ", 0), 0u) << v << ": " << r.error;
    }
}

TEST(BehaviourTraceEvery, TheTraceBufferIsARingWithTheLastByteNul) {
    std::vector<uint8_t> buf(8, 0);
    uint32_t pos = 0;
    writeTraceRing(buf.data(), 8, pos, "abc\n");
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(buf.data())), "abc\n");
    writeTraceRing(buf.data(), 8, pos, "defg\n");
    // 7 bytes of ring: "abc\ndef" then "g\n" over the start.
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(buf.data())), "g\nc\ndef");
    EXPECT_EQ(pos, 2u);
    EXPECT_EQ(buf[7], 0);
    writeTraceRing(nullptr, 8, pos, "x");    // no buffer: nothing
    writeTraceRing(buf.data(), 1, pos, "x"); // no room for text: nothing
    EXPECT_EQ(buf[0], 'g');
}

} // namespace
