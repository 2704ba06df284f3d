// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "worker.h"

#include <cerrno>
#include <chrono>
#include <fcntl.h>
#include <iterator>
#include <stdexcept>
#include <thread>
#include <unistd.h>

#include <systemd/sd-event.h>

namespace rpmsgd {

namespace {
struct Finished {
    std::string* key;
};
} // namespace

Worker::Worker(sd_event* event) : event_(event) {
    if (!event_) {
        return;
    }
    if (pipe2(pipe_, O_CLOEXEC | O_NONBLOCK) != 0) {
        throw std::runtime_error("cannot create the worker pipe");
    }
    if (sd_event_add_io(event_, &source_, pipe_[0], EPOLLIN, &Worker::onPipe, this) < 0) {
        throw std::runtime_error("cannot watch the worker pipe");
    }
}

Worker::~Worker() {
    // Jobs still running hold a copy of the write end's number; joining them is not possible
    // without blocking, so wait for them here (shutdown only), for a while: a kernel write that
    // never returns must not keep the daemon from exiting. Jobs still running then are left
    // what they use (their queue and the pipe's write end), and the process exits under them.
    const auto giveUp = std::chrono::steady_clock::now() + std::chrono::seconds(ShutdownWaitS);
    while (running_ > 0 && pipe_[0] >= 0 && std::chrono::steady_clock::now() < giveUp) {
        std::string* key = nullptr;
        ssize_t n = ::read(pipe_[0], &key, sizeof key);
        if (n == sizeof key) {
            delete key;
            --running_;
        } else if (n < 0 && errno == EAGAIN) {
            usleep(1000);
        } else {
            break;
        }
    }
    if (running_ > 0) {
        new std::map<std::string, std::deque<Job>>(std::move(queues_)); // left to the threads
        pipe_[1] = -1;
    }
    if (source_) {
        sd_event_source_disable_unref(source_);
    }
    for (auto& [key, q] : queues_) {
        for (auto& job : q) {
            if (job.deadline) {
                sd_event_source_disable_unref(job.deadline);
            }
        }
    }
    for (int fd : pipe_) {
        if (fd >= 0) {
            ::close(fd);
        }
    }
}

bool Worker::busy(const std::string& key) const {
    auto it = queues_.find(key);
    return it != queues_.end() && !it->second.empty();
}

void Worker::run(const std::string& key, std::function<void()> work, Done done, uint64_t deadlineMs,
                 std::function<void()> overdue) {
    if (!event_) {
        std::exception_ptr error;
        try {
            work();
        } catch (...) {
            error = std::current_exception();
        }
        done(error);
        return;
    }
    auto& q = queues_[key];
    q.push_back(Job{std::move(work), std::move(done), nullptr, deadlineMs, std::move(overdue)});
    if (q.size() == 1) {
        launch(key);
    }
}

void Worker::dropQueued(const std::string& key, std::exception_ptr why) {
    auto it = queues_.find(key);
    if (it == queues_.end() || it->second.size() < 2) {
        return;
    }
    std::deque<Job> dropped(std::make_move_iterator(std::next(it->second.begin())),
                            std::make_move_iterator(it->second.end()));
    it->second.erase(std::next(it->second.begin()), it->second.end());
    for (auto& job : dropped) {
        job.done(why);
    }
}

int Worker::onDeadline(sd_event_source* source, uint64_t, void* userdata) {
    auto* job = static_cast<Job*>(userdata);
    sd_event_source_disable_unref(source);
    job->deadline = nullptr;
    if (job->overdue) {
        auto overdue = std::move(job->overdue);
        job->overdue = nullptr;
        overdue();
    }
    return 0;
}

void Worker::launch(const std::string& key) {
    Job* job = &queues_[key].front();
    if (job->deadlineMs > 0 && job->overdue) {
        uint64_t now = 0;
        sd_event_now(event_, CLOCK_MONOTONIC, &now);
        if (sd_event_add_time(event_, &job->deadline, CLOCK_MONOTONIC, now + job->deadlineMs * 1000,
                              1000, &Worker::onDeadline, job) < 0) {
            job->deadline = nullptr;
        }
    }
    auto* token = new std::string(key);
    int fd = pipe_[1];
    ++running_;
    std::thread([job, token, fd] {
        try {
            job->work();
        } catch (...) {
            job->error = std::current_exception();
        }
        // Hand the job back to the loop; a pointer-sized write to a pipe is atomic.
        while (::write(fd, &token, sizeof token) < 0 && errno == EINTR) {
        }
    }).detach();
}

int Worker::onPipe(sd_event_source*, int fd, uint32_t, void* userdata) {
    auto* self = static_cast<Worker*>(userdata);
    std::string* token = nullptr;
    while (::read(fd, &token, sizeof token) == sizeof token) {
        std::string key = *token;
        delete token;
        --self->running_;
        auto& q = self->queues_[key];
        Job job = std::move(q.front());
        q.pop_front();
        if (job.deadline) {
            sd_event_source_disable_unref(job.deadline);
            job.deadline = nullptr;
        }
        if (!q.empty()) {
            self->launch(key);
        } else {
            self->queues_.erase(key);
        }
        job.done(job.error);
    }
    return 0;
}

} // namespace rpmsgd
