// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "worker.h"

#include <cerrno>
#include <fcntl.h>
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
    // without blocking, so wait for them here (shutdown only).
    while (running_ > 0 && pipe_[0] >= 0) {
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
    if (source_) {
        sd_event_source_disable_unref(source_);
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

void Worker::run(const std::string& key, std::function<void()> work, Done done) {
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
    q.push_back(Job{std::move(work), std::move(done), nullptr});
    if (q.size() == 1) {
        launch(key);
    }
}

void Worker::launch(const std::string& key) {
    Job* job = &queues_[key].front();
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
