// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// The shared words: every state, recovery and coredump word survives a round trip through its
// table, unknown words are refused, and the rpmsg constants agree with the uapi header.

#include "common/json_path.h"
#include "common/rpmsg_abi.h"
#include "common/states.h"

#include <set>
#include <string>

#include <gtest/gtest.h>

namespace {

using namespace rpmsgd;

TEST(States, EveryProcessorStateRoundTrips) {
    std::set<std::string_view> words;
    for (const auto s : allProcessorStates) {
        const auto word = toString(s);
        ASSERT_FALSE(word.empty());
        EXPECT_TRUE(words.insert(word).second) << "two states share the word " << word;
        EXPECT_EQ(processorStateFromString(word), s) << word;
    }
    // The kernel's rproc_state_string (remoteproc_sysfs.c) has exactly these eight words.
    EXPECT_EQ(words, (std::set<std::string_view>{"offline", "suspended", "running", "crashed",
                                                 "deleted", "attached", "detached", "invalid"}));
}

TEST(States, RecoveryAndCoredumpRoundTrip) {
    for (const auto m : {RecoveryMode::Enabled, RecoveryMode::Disabled}) {
        EXPECT_EQ(recoveryModeFromString(toString(m)), m);
    }
    for (const auto m : {CoredumpMode::Disabled, CoredumpMode::Enabled, CoredumpMode::Inline}) {
        EXPECT_EQ(coredumpModeFromString(toString(m)), m);
    }
    EXPECT_EQ(toString(RecoveryMode::Disabled), "disabled");
    EXPECT_EQ(toString(CoredumpMode::Inline), "inline");
}

TEST(States, UnknownWordsAreRefused) {
    for (const char* w : {"", "Running", "running\n", " offline", "start", "on"}) {
        EXPECT_FALSE(processorStateFromString(w)) << '"' << w << '"';
        EXPECT_FALSE(recoveryModeFromString(w)) << '"' << w << '"';
        EXPECT_FALSE(coredumpModeFromString(w)) << '"' << w << '"';
    }
}

TEST(States, UpMeansRunningOrAttached) {
    for (const auto s : allProcessorStates) {
        EXPECT_EQ(isUp(s), s == ProcessorState::Running || s == ProcessorState::Attached)
            << toString(s);
    }
}

TEST(RpmsgAbi, ConstantsMatchTheVirtioLayout) {
    EXPECT_EQ(rpmsg::Mtu, 496u);
    EXPECT_EQ(rpmsg::AddrAny, 0xFFFFFFFFu);
    EXPECT_EQ(rpmsg::IoctlCreateEpt, static_cast<unsigned long>(RPMSG_CREATE_EPT_IOCTL));
    EXPECT_EQ(rpmsg::IoctlDestroyEpt, static_cast<unsigned long>(RPMSG_DESTROY_EPT_IOCTL));
}

TEST(JsonPath, ChildEscapesPerRfc6901) {
    EXPECT_EQ(json_path::child("", "paths"), "/paths");
    EXPECT_EQ(json_path::child("/a", "b/c~d"), "/a/b~1c~0d");
    EXPECT_EQ(json_path::child("/list", std::size_t{3}), "/list/3");
}

TEST(JsonPath, DescribeQuotesScalarsAndNamesContainers) {
    EXPECT_EQ(json_path::describe(nlohmann::json("yes")), "\"yes\"");
    EXPECT_EQ(json_path::describe(nlohmann::json::object()), "an object");
    EXPECT_EQ(json_path::describe(nlohmann::json::array()), "an array");
    EXPECT_EQ(json_path::describe(nlohmann::json(std::string(50, 'x')), 10), "\"xxxxxxxxx...");
}

} // namespace
