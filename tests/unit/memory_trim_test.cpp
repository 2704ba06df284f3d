// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// The memory trim (daemon/memory_trim.h) on a real sd-event loop: a burst of activity arms one
// trim, which runs once the quiet time has passed, and nothing stays armed while idle (an idle
// daemon must not wake up for it).

#include "common/scheduler.h"
#include "daemon/memory_trim.h"

#include <optional>

#include <gtest/gtest.h>
#include <systemd/sd-event.h>

namespace {

class MemoryTrimTest : public ::testing::Test {
protected:
    MemoryTrimTest() {
        EXPECT_EQ(sd_event_new(&event_), 0);
        scheduler_.emplace(event_);
        trim_.emplace(*scheduler_, 20);
    }
    ~MemoryTrimTest() override {
        trim_.reset();
        scheduler_.reset();
        sd_event_unref(event_);
    }
    // Runs the loop until the armed trim has run.
    void runUntilTrimmed() {
        while (trim_->pending()) {
            ASSERT_GE(sd_event_run(event_, UINT64_MAX), 0);
        }
    }

    sd_event* event_ = nullptr;
    std::optional<rpmsgd::Scheduler> scheduler_;
    std::optional<rpmsgd::MemoryTrim> trim_;
};

TEST_F(MemoryTrimTest, NothingIsArmedWithoutActivity) {
    EXPECT_FALSE(trim_->pending());
    EXPECT_EQ(sd_event_run(event_, 0), 0) << "an idle loop has nothing to dispatch";
    EXPECT_EQ(trim_->trims(), 0u);
}

TEST_F(MemoryTrimTest, ABurstArmsOneTrim) {
    for (int i = 0; i < 100; ++i) {
        trim_->noteActivity();
    }
    EXPECT_TRUE(trim_->pending());
    EXPECT_EQ(trim_->trims(), 0u) << "it waits for the quiet time";
    runUntilTrimmed();
    EXPECT_EQ(trim_->trims(), 1u);
    EXPECT_FALSE(trim_->pending()) << "after the trim nothing stays armed";
    EXPECT_EQ(sd_event_run(event_, 0), 0);
}

TEST_F(MemoryTrimTest, TheNextBurstArmsTheNextTrim) {
    trim_->noteActivity();
    runUntilTrimmed();
    trim_->noteActivity();
    EXPECT_TRUE(trim_->pending());
    runUntilTrimmed();
    EXPECT_EQ(trim_->trims(), 2u);
}

} // namespace
