// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "upload_reader.h"

#include <cerrno>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <systemd/sd-event.h>

namespace rpmsgd {

namespace {
constexpr size_t ChunkBytes = 65536;
constexpr int ChunksPerWakeup = 64; ///< a pipe yields to other clients after this many
} // namespace

struct UploadReader::Upload {
    UploadReader* reader = nullptr;
    uint64_t id = 0;
    int fd = -1;
    bool positional = false; ///< a file: pread from its start (the sender's offset is its own)
    sd_event_source* source = nullptr;
    Timer timeout;
    std::vector<uint8_t> data;
    Done done;
    ~Upload() {
        if (source) {
            sd_event_source_disable_unref(source);
        }
        if (fd >= 0) {
            ::close(fd);
        }
    }
};

UploadReader::UploadReader(sd_event* event, Scheduler& scheduler, uint64_t maxBytes)
    : event_(event), scheduler_(scheduler), maxBytes_(maxBytes) {}

UploadReader::~UploadReader() {
    abortAll();
}

void UploadReader::read(int fd, Done done) {
    const uint64_t id = next_++;
    auto owned = std::make_unique<Upload>();
    Upload& u = *owned;
    u.reader = this;
    u.id = id;
    u.fd = fd;
    u.done = std::move(done);
    uploads_[id] = std::move(owned);
    struct stat st {};
    if (fstat(fd, &st) != 0) {
        return finish(id, errno);
    }
    if (S_ISREG(st.st_mode) && uint64_t(st.st_size) > maxBytes_) {
        return finish(id, EFBIG);
    }
    u.positional = S_ISREG(st.st_mode) || S_ISBLK(st.st_mode);
    if (u.positional) {
        return pump(id); // never blocks: read it all now
    }
    const int flags = fcntl(fd, F_GETFL);
    if (flags >= 0 && !(flags & O_NONBLOCK)) {
        fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    }
    if (int r = sd_event_add_io(event_, &u.source, fd, EPOLLIN, &UploadReader::onReadable, &u);
        r < 0) {
        return finish(id, -r);
    }
    u.timeout = scheduler_.after(TimeoutMs, [this, id] { finish(id, ETIMEDOUT); });
}

int UploadReader::onReadable(sd_event_source*, int, uint32_t, void* userdata) {
    auto* u = static_cast<Upload*>(userdata);
    u->reader->pump(u->id);
    return 0;
}

void UploadReader::pump(uint64_t id) {
    auto it = uploads_.find(id);
    if (it == uploads_.end()) {
        return;
    }
    Upload& u = *it->second;
    std::vector<uint8_t> buf(ChunkBytes);
    for (int i = 0; u.positional || i < ChunksPerWakeup; ++i) {
        const ssize_t n = u.positional ? ::pread(u.fd, buf.data(), buf.size(), off_t(u.data.size()))
                                       : ::read(u.fd, buf.data(), buf.size());
        if (n > 0) {
            if (u.data.size() + size_t(n) > maxBytes_) {
                return finish(id, EFBIG);
            }
            u.data.insert(u.data.end(), buf.begin(), buf.begin() + n);
            continue;
        }
        if (n == 0) {
            return finish(id, 0);
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno == EAGAIN && !u.positional) {
            return; // the rest when it becomes readable again
        }
        return finish(id, errno);
    }
}

void UploadReader::finish(uint64_t id, int error) {
    auto it = uploads_.find(id);
    if (it == uploads_.end()) {
        return;
    }
    std::shared_ptr<Upload> u(std::move(it->second));
    uploads_.erase(it);
    u->timeout.cancel();
    if (u->source) {
        // This may run inside the source's own callback: stop it now, free it from the loop.
        sd_event_source_set_enabled(u->source, SD_EVENT_OFF);
        scheduler_.post([u] {});
    }
    Done done = std::move(u->done);
    done(error, std::move(u->data));
}

void UploadReader::abortAll() {
    auto pending = std::move(uploads_);
    uploads_.clear();
    for (auto& [id, u] : pending) {
        Done done = std::move(u->done);
        done(ESHUTDOWN, {});
    }
}

} // namespace rpmsgd
