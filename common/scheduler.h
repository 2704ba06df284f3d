// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// Timers and deferred calls on one thread, on sd-event. The simulator model and the daemon use
// this instead of sd-event sources directly.

#include <cstdint>
#include <functional>
#include <memory>

typedef struct sd_event sd_event;
typedef struct sd_event_source sd_event_source;

namespace rpmsgd {

/// @brief A pending one-shot timer; destroying or resetting the handle cancels it.
class Timer {
public:
    Timer() = default;
    ~Timer();
    Timer(Timer&& other) noexcept;
    Timer& operator=(Timer&& other) noexcept;
    Timer(const Timer&) = delete;
    Timer& operator=(const Timer&) = delete;

    /// @brief Cancels the timer if it is pending.
    void cancel();
    /// @brief True while the callback has not run and the timer was not cancelled.
    bool pending() const;

    struct State;

private:
    friend class Scheduler;
    explicit Timer(std::shared_ptr<State> state) : state_(std::move(state)) {}
    std::shared_ptr<State> state_;
};

/// @brief Single-threaded scheduler on an sd-event loop.
class Scheduler {
public:
    explicit Scheduler(sd_event* event);
    ~Scheduler();
    Scheduler(const Scheduler&) = delete;
    Scheduler& operator=(const Scheduler&) = delete;

    /// @brief CLOCK_MONOTONIC now, in microseconds.
    uint64_t nowUs() const;
    /// @brief Runs @p fn once, @p delayMs from now, unless the returned timer is cancelled.
    [[nodiscard]] Timer after(uint64_t delayMs, std::function<void()> fn);
    /// @brief Like after(), for periodic housekeeping: @p fn may run up to @p slackMs late, so
    /// sd-event wakes once for all such timers due about the same time (their windows are
    /// aligned to a per-boot point in each second, as systemd's own timers are).
    [[nodiscard]] Timer afterWithSlack(uint64_t delayMs, uint64_t slackMs,
                                       std::function<void()> fn);
    /// @brief Runs @p fn soon, from the loop, after the current callback returns.
    void post(std::function<void()> fn);
    /// @brief The sd-event loop it runs on (for I/O sources of the caller's own).
    sd_event* event() const { return event_; }

    /// @brief The slack of a housekeeping timer that fires every @p intervalMs: a quarter of
    /// it, at most 250 ms (sd-event's own default).
    static uint64_t housekeepingSlackMs(uint64_t intervalMs) {
        return intervalMs / 4 < 250 ? intervalMs / 4 : 250;
    }

private:
    Timer at(uint64_t whenUs, uint64_t accuracyUs, std::function<void()> fn);
    static int onDefer(sd_event_source* source, void* userdata);
    sd_event* event_;
    sd_event_source* defer_ = nullptr;
    struct Queue;
    std::unique_ptr<Queue> queue_;
};

} // namespace rpmsgd
