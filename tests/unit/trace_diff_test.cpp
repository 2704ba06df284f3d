// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// TraceDiff (daemon/trace_diff.h): what a followed trace buffer gained between two reads, table-
// driven over a writer that fills a buffer and then writes on as a ring, as firmware does.

#include "daemon/trace_diff.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace {

using rpmsgd::TraceDiff;
using rpmsgd::traceGapLine;

/// What a read returns after @p stream was written into a ring of @p ring bytes: the stream while
/// it fits, then position i holds the last byte written there.
std::string ringContent(const std::string& stream, size_t ring) {
    const size_t n = stream.size();
    if (n <= ring) {
        return stream;
    }
    const size_t w = n % ring; // where the writer goes on
    return stream.substr(n - w, w) + stream.substr(n - ring, ring - w);
}

std::string counted(int n) {
    return "trace line " + std::to_string(n) + "\n";
}

struct Case {
    const char* name;
    size_t ring;
    std::vector<int> linesPerRead; ///< lines written before each read
    bool gap;                      ///< a gap is expected
};

const Case cases[] = {
    {"grows without wrapping", 4096, {1, 3, 0, 5, 2}, false},
    {"one read of everything", 4096, {40}, false},
    {"wraps, read often enough", 200, {2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3}, false},
    {"fills exactly, then wraps", 150, {10, 2, 2, 2, 2, 2, 2}, false},
    {"fills and wraps between two reads", 300, {12, 10, 5, 5}, false},
    {"one line a read for long", 97, std::vector<int>(120, 1), false},
    {"laps once, then followed again", 200, {3, 40, 2, 2, 2, 2}, true},
    {"laps twice", 256, {2, 60, 2, 2, 70, 2, 2, 2}, true},
    {"wrapped before the first read", 200, {30, 2, 2, 2}, true},
    {"lapped before the first two reads", 200, {30, 30, 2, 2}, true},
};

class TraceDiffTable : public ::testing::TestWithParam<Case> {};

TEST_P(TraceDiffTable, GivesEveryLineOnceInOrderAndMarksGaps) {
    const Case& c = GetParam();
    TraceDiff diff;
    std::string stream;
    int written = 0;
    std::vector<std::string> got;
    for (int lines : c.linesPerRead) {
        for (int i = 0; i < lines; ++i) {
            stream += counted(++written);
        }
        auto out = diff.update(ringContent(stream, c.ring));
        got.insert(got.end(), out.begin(), out.end());
    }
    // The first read is held until a second one tells whether the ring had wrapped.
    auto out = diff.update(ringContent(stream, c.ring));
    got.insert(got.end(), out.begin(), out.end());
    int gaps = 0;
    int lastNumber = 0;
    for (const auto& line : got) {
        if (line.rfind("-- ", 0) == 0) {
            ++gaps;
            EXPECT_NE(line.find(" bytes of trace lost --"), std::string::npos) << line;
            continue;
        }
        ASSERT_EQ(line.rfind("trace line ", 0), 0u) << "not a whole line: '" << line << "'";
        const int n = std::stoi(line.substr(11));
        EXPECT_GT(n, lastNumber) << "line " << n << " repeated or out of order";
        if (!c.gap) {
            EXPECT_EQ(n, lastNumber + 1) << "line " << lastNumber + 1 << " lost silently";
        }
        lastNumber = n;
    }
    EXPECT_EQ(lastNumber, written) << "the newest line did not come";
    EXPECT_EQ(gaps > 0, c.gap) << gaps << " gap lines";
}

INSTANTIATE_TEST_SUITE_P(TraceDiff, TraceDiffTable, ::testing::ValuesIn(cases),
                         [](const auto& info) {
                             std::string n = info.param.name;
                             for (auto& ch : n) {
                                 ch = isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
                             }
                             return n;
                         });

TEST(TraceDiff, ALineComesWhenItsNewlineIsWritten) {
    TraceDiff diff;
    EXPECT_TRUE(diff.update("boot").empty()) << "a first read waits for the second";
    EXPECT_TRUE(diff.update("boot").empty());
    EXPECT_EQ(diff.update("boot ok\nrun"), std::vector<std::string>{"boot ok"});
    EXPECT_TRUE(diff.update("boot ok\nrun").empty()) << "an unchanged read gives nothing";
    EXPECT_EQ(diff.update("boot ok\nrunning\n"), std::vector<std::string>{"running"});
}

TEST(TraceDiff, PrimedContentIsNotRepeated) {
    TraceDiff diff;
    diff.prime("old 1\nold 2\n");
    EXPECT_EQ(diff.update("old 1\nold 2\nnew 3\n"), std::vector<std::string>{"new 3"});
}

TEST(TraceDiff, AShorterBufferIsANewOneAndAHalfLineIsKept) {
    TraceDiff diff;
    EXPECT_TRUE(diff.update("a 1\n").empty());
    EXPECT_EQ(diff.update("a 1\na 2\nhal"), (std::vector<std::string>{"a 1", "a 2"}));
    EXPECT_EQ(diff.update("b 1\n"), (std::vector<std::string>{"hal", "b 1"}));
    diff.reset();
    EXPECT_TRUE(diff.update("b 1\n").empty()) << "reset forgets";
    EXPECT_EQ(diff.update("b 1\nb 2\n"), (std::vector<std::string>{"b 1", "b 2"}));
}

TEST(TraceDiff, ARingWrappedBeforeTheFirstReadComesOldestFirst) {
    TraceDiff diff;
    std::string stream;
    for (int i = 1; i <= 20; ++i) {
        stream += counted(i);
    }
    EXPECT_TRUE(diff.update(ringContent(stream, 100)).empty());
    stream += counted(21);
    const auto out = diff.update(ringContent(stream, 100));
    // 20 lines of 13 or 14 bytes: 271 bytes, of which the ring holds the last 100; the start of
    // the log (and the line cut by the wrap) is a gap.
    ASSERT_GE(out.size(), 3u);
    EXPECT_EQ(out[0].rfind("-- ", 0), 0u) << out[0];
    EXPECT_EQ(out[1], "trace line 14");
    EXPECT_EQ(out.back(), "trace line 21");
}

TEST(TraceDiff, GapLineSaysHowManyBytes) {
    EXPECT_EQ(traceGapLine(1234), "-- 1234 bytes of trace lost --");
    TraceDiff diff;
    std::string stream;
    for (int i = 1; i <= 3; ++i) {
        stream += counted(i);
    }
    diff.update(ringContent(stream, 128));
    diff.update(ringContent(stream, 128));
    for (int i = 4; i <= 40; ++i) {
        stream += counted(i);
    }
    const auto out = diff.update(ringContent(stream, 128));
    EXPECT_EQ(out, std::vector<std::string>{traceGapLine(128)})
        << "at least the ring's length was lost";
    // A line begun before the gap is cut by it: its bytes count as lost too.
    TraceDiff cut;
    cut.update("a\n");
    cut.update("a\nhalf");
    EXPECT_EQ(cut.update("a\nhalf" + std::string(58, 'y')), std::vector<std::string>{})
        << "the ring fills (still a prefix: written on at the end)";
    EXPECT_EQ(cut.update(std::string(64, 'z')),
              std::vector<std::string>{traceGapLine(4 + 64 + 58)});
}

} // namespace
