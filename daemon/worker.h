// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// Runs blocking kernel writes off the event loop. A `start` can take seconds on a real board
// (firmware load), and a `recover` with an inline coredump blocks until the dump is dismissed,
// which only the loop can do. Jobs for one key (a processor) run one after another, so two
// requests never race into the kernel's start refcount. A job may have a deadline: the loop is
// told when its work has not returned by then (limits.kernel_write_timeout_ms), and still gets
// the outcome when it does.

#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <string>

typedef struct sd_event sd_event;
typedef struct sd_event_source sd_event_source;

namespace rpmsgd {

class Worker {
public:
    using Done = std::function<void(std::exception_ptr)>;
    /// @brief With a null @p event, jobs run inline (unit tests).
    explicit Worker(sd_event* event);
    ~Worker();
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

    /// @brief Runs @p work on a thread (after earlier jobs with the same @p key), then @p done
    /// on the loop with the exception @p work threw, if any. With @p deadlineMs, @p overdue
    /// runs on the loop when @p work has been running that long without returning (@p done
    /// still runs when it returns).
    void run(const std::string& key, std::function<void()> work, Done done, uint64_t deadlineMs = 0,
             std::function<void()> overdue = nullptr);
    /// @brief True while a job for @p key is queued or running.
    bool busy(const std::string& key) const;
    /// @brief Ends the jobs queued for @p key behind the running one: they never run, and
    ///        their @p done gets @p why.
    void dropQueued(const std::string& key, std::exception_ptr why);

private:
    struct Job {
        std::function<void()> work;
        Done done;
        std::exception_ptr error;
        uint64_t deadlineMs = 0;
        std::function<void()> overdue;
        sd_event_source* deadline = nullptr;
    };
    void launch(const std::string& key);
    static int onPipe(sd_event_source*, int fd, uint32_t, void* userdata);
    static int onDeadline(sd_event_source*, uint64_t, void* userdata);

    static constexpr int ShutdownWaitS = 2; ///< how long shutdown waits for running jobs

    sd_event* event_;
    sd_event_source* source_ = nullptr;
    int pipe_[2] = {-1, -1};
    std::map<std::string, std::deque<Job>> queues_;
    unsigned running_ = 0;
};

} // namespace rpmsgd
