// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "scheduler.h"

#include <deque>
#include <stdexcept>
#include <string>
#include <time.h>

#include <systemd/sd-event.h>

namespace rpmsgd {

struct Timer::State {
    sd_event_source* source = nullptr;
    std::function<void()> fn;
    ~State() {
        if (source) {
            sd_event_source_disable_unref(source);
        }
    }
};

struct Scheduler::Queue {
    std::deque<std::function<void()>> items;
};

Timer::~Timer() {
    cancel();
}

Timer::Timer(Timer&& other) noexcept : state_(std::move(other.state_)) {}

Timer& Timer::operator=(Timer&& other) noexcept {
    if (this != &other) {
        cancel();
        state_ = std::move(other.state_);
    }
    return *this;
}

void Timer::cancel() {
    state_.reset();
}

bool Timer::pending() const {
    return state_ && state_->source;
}

Scheduler::Scheduler(sd_event* event)
    : event_(sd_event_ref(event)), queue_(std::make_unique<Queue>()) {
    int r = sd_event_add_defer(event_, &defer_, &Scheduler::onDefer, this);
    if (r < 0) {
        throw std::runtime_error("sd_event_add_defer: " + std::to_string(r));
    }
    sd_event_source_set_enabled(defer_, SD_EVENT_OFF);
}

Scheduler::~Scheduler() {
    sd_event_source_disable_unref(defer_);
    sd_event_unref(event_);
}

uint64_t Scheduler::nowUs() const {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * 1000000u + uint64_t(ts.tv_nsec) / 1000u;
}

Timer Scheduler::after(uint64_t delayMs, std::function<void()> fn) {
    // Accuracy 1 us: 0 would mean sd-event's 250 ms default slack (docs/toolchain.md).
    return at(nowUs() + delayMs * 1000u, 1, std::move(fn));
}

Timer Scheduler::afterWithSlack(uint64_t delayMs, uint64_t slackMs, std::function<void()> fn) {
    return at(nowUs() + delayMs * 1000u, slackMs > 0 ? slackMs * 1000u : 1, std::move(fn));
}

Timer Scheduler::at(uint64_t when, uint64_t accuracyUs, std::function<void()> fn) {
    auto state = std::make_shared<Timer::State>();
    state->fn = std::move(fn);
    int r = sd_event_add_time(
        event_, &state->source, CLOCK_MONOTONIC, when, accuracyUs,
        [](sd_event_source* source, uint64_t, void* userdata) -> int {
            auto* st = static_cast<Timer::State*>(userdata);
            // The callback may destroy the Timer (and so this State): take what we need first.
            std::function<void()> run = std::move(st->fn);
            sd_event_source_disable_unref(source);
            st->source = nullptr;
            if (run) {
                run();
            }
            return 0;
        },
        state.get());
    if (r < 0) {
        throw std::runtime_error("sd_event_add_time: " + std::to_string(r));
    }
    return Timer(std::move(state));
}

void Scheduler::post(std::function<void()> fn) {
    queue_->items.push_back(std::move(fn));
    sd_event_source_set_enabled(defer_, SD_EVENT_ON);
}

int Scheduler::onDefer(sd_event_source*, void* userdata) {
    auto* self = static_cast<Scheduler*>(userdata);
    // Run only what is queued now; what these calls post runs on the next iteration, so a
    // chain of posts cannot starve FUSE requests and timers.
    size_t n = self->queue_->items.size();
    for (size_t i = 0; i < n && !self->queue_->items.empty(); ++i) {
        auto fn = std::move(self->queue_->items.front());
        self->queue_->items.pop_front();
        fn();
    }
    if (self->queue_->items.empty()) {
        sd_event_source_set_enabled(self->defer_, SD_EVENT_OFF);
    }
    return 0;
}

} // namespace rpmsgd
