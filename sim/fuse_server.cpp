// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "fuse_server.h"

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <sys/stat.h>
#include <unordered_map>
#include <vector>

#include <fuse_lowlevel.h>
#include <systemd/sd-event.h>

namespace rpmsgsim {

namespace {

class FuseRequest : public Request {
public:
    FuseRequest(fuse_req_t req, Scheduler& sched) : req_(req), sched_(sched) {}
    ~FuseRequest() override {
        if (req_) {
            fuse_reply_err(req_, EIO); // never leave a caller hanging
        }
    }
    void replyError(int error) override {
        if (auto r = take()) {
            fuse_reply_err(r, error);
        }
    }
    void replyData(const void* data, size_t size) override {
        if (auto r = take()) {
            fuse_reply_buf(r, static_cast<const char*>(data), size);
        }
    }
    void replyWritten(size_t count) override {
        if (auto r = take()) {
            fuse_reply_write(r, count);
        }
    }
    void replyIoctl(int result, const void* out, size_t size) override {
        if (auto r = take()) {
            fuse_reply_ioctl(r, result, out, size);
        }
    }
    void replyPoll(unsigned revents) override {
        if (auto r = take()) {
            fuse_reply_poll(r, revents);
        }
    }
    void onInterrupt(std::function<void()> fn) override {
        if (!req_) {
            return;
        }
        interrupt_ = std::move(fn);
        fuse_req_interrupt_func(req_, &FuseRequest::interrupted, this);
    }
    uint32_t uid() const override { return uid_; }
    void setUid(uint32_t uid) { uid_ = uid; }

private:
    fuse_req_t take() {
        fuse_req_t r = req_;
        if (r && interrupt_) {
            fuse_req_interrupt_func(r, nullptr, nullptr);
        }
        req_ = nullptr;
        return r;
    }
    static void interrupted(fuse_req_t, void* data) {
        // libfuse may call this with its request lock held, even from inside
        // fuse_req_interrupt_func(): answering here would free the request under that lock.
        // Hand the work to the loop instead.
        auto* self = static_cast<FuseRequest*>(data);
        self->sched_.post(self->interrupt_);
    }
    fuse_req_t req_;
    Scheduler& sched_;
    std::function<void()> interrupt_;
    uint32_t uid_ = 0;
};

class FusePollWaiter : public PollWaiter {
public:
    explicit FusePollWaiter(fuse_pollhandle* ph) : ph_(ph) {}
    ~FusePollWaiter() override {
        if (ph_) {
            fuse_pollhandle_destroy(ph_);
        }
    }
    void notify() override {
        if (ph_) {
            fuse_lowlevel_notify_poll(ph_);
        }
    }

private:
    fuse_pollhandle* ph_;
};

struct DirHandle {
    struct Entry {
        std::string name;
        uint64_t ino;
        uint32_t mode;
    };
    std::vector<Entry> entries;
};

} // namespace

struct FuseServer::Impl {
    Vfs& vfs;
    Scheduler& sched;
    sd_event* event;
    fuse_session* session = nullptr;
    sd_event_source* io = nullptr;
    fuse_buf buf{};
    bool mounted = false;
    uint64_t nextFh = 1;
    std::unordered_map<uint64_t, std::unique_ptr<FileHandle>> files;
    std::unordered_map<uint64_t, DirHandle> dirs;
    timespec started{};

    Impl(Vfs& v, Scheduler& s, sd_event* e) : vfs(v), sched(s), event(e) {
        clock_gettime(CLOCK_REALTIME, &started);
    }

    static Impl* self(fuse_req_t req) { return static_cast<Impl*>(fuse_req_userdata(req)); }

    RequestPtr wrap(fuse_req_t req) {
        auto r = std::make_unique<FuseRequest>(req, sched);
        if (const fuse_ctx* ctx = fuse_req_ctx(req)) {
            r->setUid(ctx->uid);
        }
        return r;
    }

    void fill(const Node& n, struct stat& st) const {
        std::memset(&st, 0, sizeof st);
        st.st_ino = n.ino;
        switch (n.type) {
        case NodeType::Directory:
            st.st_mode = S_IFDIR | n.mode;
            st.st_nlink = 2;
            break;
        case NodeType::File:
            st.st_mode = S_IFREG | n.mode;
            st.st_nlink = 1;
            break;
        case NodeType::Symlink:
            st.st_mode = S_IFLNK | 0777;
            st.st_nlink = 1;
            break;
        }
        st.st_size = off_t(n.size);
        st.st_blksize = 4096;
        st.st_atim = st.st_mtim = st.st_ctim = started;
    }

    // --- operations ----------------------------------------------------------------------
    static void opLookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
        Impl* s = self(req);
        auto dir = s->vfs.byIno(parent);
        if (!dir || dir->type != NodeType::Directory) {
            return (void)fuse_reply_err(req, ENOTDIR);
        }
        auto it = dir->children.find(name);
        if (it == dir->children.end()) {
            return (void)fuse_reply_err(req, ENOENT);
        }
        fuse_entry_param e{};
        e.ino = it->second->ino;
        e.generation = 1;
        e.attr_timeout = 0; // the tree changes behind the kernel's back: never cache
        e.entry_timeout = 0;
        s->fill(*it->second, e.attr);
        if (fuse_reply_entry(req, &e) == 0) {
            s->vfs.lookedUp(it->second);
        }
    }

    static void opForget(fuse_req_t req, fuse_ino_t ino, uint64_t n) {
        self(req)->vfs.forget(ino, n);
        fuse_reply_none(req);
    }

    static void opForgetMulti(fuse_req_t req, size_t count, fuse_forget_data* forgets) {
        for (size_t i = 0; i < count; ++i) {
            self(req)->vfs.forget(forgets[i].ino, forgets[i].nlookup);
        }
        fuse_reply_none(req);
    }

    static void opGetattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info*) {
        Impl* s = self(req);
        auto n = s->vfs.byIno(ino);
        if (!n) {
            return (void)fuse_reply_err(req, ENOENT);
        }
        struct stat st;
        s->fill(*n, st);
        fuse_reply_attr(req, &st, 0);
    }

    static void opSetattr(fuse_req_t req, fuse_ino_t ino, struct stat*, int valid,
                          fuse_file_info*) {
        Impl* s = self(req);
        auto n = s->vfs.byIno(ino);
        if (!n) {
            return (void)fuse_reply_err(req, ENOENT);
        }
        // `echo x > attr` truncates first; sysfs ignores that. Ownership and modes are fixed.
        if (valid & (FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
            return (void)fuse_reply_err(req, EPERM);
        }
        struct stat st;
        s->fill(*n, st);
        fuse_reply_attr(req, &st, 0);
    }

    static void opReadlink(fuse_req_t req, fuse_ino_t ino) {
        auto n = self(req)->vfs.byIno(ino);
        if (!n || n->type != NodeType::Symlink) {
            return (void)fuse_reply_err(req, EINVAL);
        }
        fuse_reply_readlink(req, n->target.c_str());
    }

    static void opOpen(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
        Impl* s = self(req);
        auto n = s->vfs.byIno(ino);
        if (!n || n->removed) {
            return (void)fuse_reply_err(req, ENOENT);
        }
        if (n->type != NodeType::File || !n->opener) {
            return (void)fuse_reply_err(req, n->type == NodeType::Directory ? EISDIR : EACCES);
        }
        std::unique_ptr<FileHandle> handle;
        const fuse_ctx* ctx = fuse_req_ctx(req);
        int err = n->opener(fi->flags, ctx ? ctx->uid : 0, handle);
        if (err) {
            return (void)fuse_reply_err(req, err);
        }
        uint64_t fh = s->nextFh++;
        fi->fh = fh;
        fi->direct_io = 1; // every read and write reaches us with the caller's own size
        fi->keep_cache = 0;
        s->files[fh] = std::move(handle);
        if (fuse_reply_open(req, fi) != 0) {
            // The opener vanished (interrupted open): undo.
            auto it = s->files.find(fh);
            if (it != s->files.end()) {
                it->second->release();
                s->files.erase(it);
            }
        }
    }

    FileHandle* handle(fuse_file_info* fi) {
        auto it = files.find(fi->fh);
        return it == files.end() ? nullptr : it->second.get();
    }

    static void opRead(fuse_req_t req, fuse_ino_t, size_t size, off_t off, fuse_file_info* fi) {
        Impl* s = self(req);
        FileHandle* h = s->handle(fi);
        if (!h) {
            return (void)fuse_reply_err(req, EBADF);
        }
        h->read(s->wrap(req), size, uint64_t(off), fi->flags);
    }

    static void opWrite(fuse_req_t req, fuse_ino_t, const char* data, size_t size, off_t off,
                        fuse_file_info* fi) {
        Impl* s = self(req);
        FileHandle* h = s->handle(fi);
        if (!h) {
            return (void)fuse_reply_err(req, EBADF);
        }
        h->write(s->wrap(req),
                 std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(data), size),
                 uint64_t(off), fi->flags);
    }

    static void opIoctl(fuse_req_t req, fuse_ino_t, unsigned int cmd, void* arg, fuse_file_info* fi,
                        unsigned flags, const void* in, size_t inSize, size_t outSize) {
        Impl* s = self(req);
        if (flags & FUSE_IOCTL_DIR) {
            return (void)fuse_reply_err(req, ENOTTY);
        }
        FileHandle* h = s->handle(fi);
        if (!h) {
            return (void)fuse_reply_err(req, EBADF);
        }
        h->ioctl(s->wrap(req), cmd, arg,
                 std::span<const uint8_t>(static_cast<const uint8_t*>(in), in ? inSize : 0),
                 outSize);
    }

    static void opPoll(fuse_req_t req, fuse_ino_t, fuse_file_info* fi, fuse_pollhandle* ph) {
        Impl* s = self(req);
        FileHandle* h = s->handle(fi);
        if (!h) {
            if (ph) {
                fuse_pollhandle_destroy(ph);
            }
            return (void)fuse_reply_err(req, EBADF);
        }
        h->poll(s->wrap(req), ph ? std::make_unique<FusePollWaiter>(ph) : nullptr);
    }

    static void opRelease(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
        Impl* s = self(req);
        auto it = s->files.find(fi->fh);
        if (it != s->files.end()) {
            auto h = std::move(it->second);
            s->files.erase(it);
            h->release();
        }
        fuse_reply_err(req, 0);
    }

    static void opOpendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
        Impl* s = self(req);
        auto n = s->vfs.byIno(ino);
        if (!n || n->removed) {
            return (void)fuse_reply_err(req, ENOENT);
        }
        if (n->type != NodeType::Directory) {
            return (void)fuse_reply_err(req, ENOTDIR);
        }
        DirHandle d;
        d.entries.push_back({".", n->ino, S_IFDIR});
        d.entries.push_back({"..", n->parent ? n->parent->ino : n->ino, S_IFDIR});
        for (const auto& [name, child] : n->children) {
            uint32_t type = child->type == NodeType::Directory ? S_IFDIR
                            : child->type == NodeType::Symlink ? S_IFLNK
                                                               : S_IFREG;
            d.entries.push_back({name, child->ino, type});
        }
        uint64_t fh = s->nextFh++;
        s->dirs[fh] = std::move(d);
        fi->fh = fh;
        if (fuse_reply_open(req, fi) != 0) {
            s->dirs.erase(fh);
        }
    }

    static void opReaddir(fuse_req_t req, fuse_ino_t, size_t size, off_t off, fuse_file_info* fi) {
        Impl* s = self(req);
        auto it = s->dirs.find(fi->fh);
        if (it == s->dirs.end()) {
            return (void)fuse_reply_err(req, EBADF);
        }
        std::vector<char> out(size);
        size_t used = 0;
        const auto& entries = it->second.entries;
        for (size_t i = size_t(off); i < entries.size(); ++i) {
            struct stat st {};
            st.st_ino = entries[i].ino;
            st.st_mode = entries[i].mode;
            size_t need = fuse_add_direntry(req, out.data() + used, size - used,
                                            entries[i].name.c_str(), &st, off_t(i + 1));
            if (need > size - used) {
                break;
            }
            used += need;
        }
        fuse_reply_buf(req, out.data(), used);
    }

    static void opReleasedir(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
        self(req)->dirs.erase(fi->fh);
        fuse_reply_err(req, 0);
    }

    static void opInit(void*, fuse_conn_info* conn) {
        // Plain reads: no splice, so one read of /dev/fuse is one request in our buffer.
        conn->want &= ~(FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE);
        conn->want &= ~FUSE_CAP_ATOMIC_O_TRUNC;
    }

    static int onIo(sd_event_source*, int, uint32_t, void* userdata) {
        auto* s = static_cast<Impl*>(userdata);
        // Bounded batch so that timers and deferred work still run under a request flood.
        for (int i = 0; i < 64; ++i) {
            int res = fuse_session_receive_buf(s->session, &s->buf);
            if (res == -EAGAIN || res == -EINTR) {
                break;
            }
            if (res <= 0) {
                if (fuse_session_exited(s->session)) {
                    sd_event_exit(s->event, 0); // unmounted under us
                }
                break;
            }
            fuse_session_process_buf(s->session, &s->buf);
        }
        return 0;
    }
};

FuseServer::FuseServer(Vfs& vfs, Scheduler& scheduler, sd_event* event)
    : impl_(std::make_unique<Impl>(vfs, scheduler, event)) {}

FuseServer::~FuseServer() {
    unmount();
    free(impl_->buf.mem);
}

bool FuseServer::mount(const std::string& mountpoint, std::string& error) {
    static const fuse_lowlevel_ops ops = [] {
        fuse_lowlevel_ops o{};
        o.init = &Impl::opInit;
        o.lookup = &Impl::opLookup;
        o.forget = &Impl::opForget;
        o.forget_multi = &Impl::opForgetMulti;
        o.getattr = &Impl::opGetattr;
        o.setattr = &Impl::opSetattr;
        o.readlink = &Impl::opReadlink;
        o.open = &Impl::opOpen;
        o.read = &Impl::opRead;
        o.write = &Impl::opWrite;
        o.release = &Impl::opRelease;
        o.opendir = &Impl::opOpendir;
        o.readdir = &Impl::opReaddir;
        o.releasedir = &Impl::opReleasedir;
        o.ioctl = &Impl::opIoctl;
        o.poll = &Impl::opPoll;
        return o;
    }();
    // auto_unmount makes fusermount3 clean up even if we are killed; fall back without it
    // where fusermount3 is unavailable.
    for (const char* opts :
         {"allow_other,default_permissions,auto_unmount,fsname=rpmsg-sim,"
          "subtype=rpmsg-sim",
          "allow_other,default_permissions,fsname=rpmsg-sim,subtype=rpmsg-sim"}) {
        const char* argv[] = {"rpmsg-sim", "-o", opts};
        fuse_args args = FUSE_ARGS_INIT(3, const_cast<char**>(argv));
        fuse_session* se = fuse_session_new(&args, &ops, sizeof ops, impl_.get());
        // Parsing may have copied the arguments into a list of its own (args.allocated); the
        // session keeps copies of what it needs, so the list is freed here, on every path.
        fuse_opt_free_args(&args);
        if (!se) {
            error = "cannot create the FUSE session";
            continue;
        }
        if (fuse_session_mount(se, mountpoint.c_str()) != 0) {
            fuse_session_destroy(se);
            error =
                "cannot mount FUSE at " + mountpoint + " (is /dev/fuse there and are you root?)";
            continue;
        }
        impl_->session = se;
        break;
    }
    if (!impl_->session) {
        return false;
    }
    int fd = fuse_session_fd(impl_->session);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    int r = sd_event_add_io(impl_->event, &impl_->io, fd, EPOLLIN, &Impl::onIo, impl_.get());
    if (r < 0) {
        error = std::string("sd_event_add_io: ") + strerror(-r);
        unmount();
        return false;
    }
    impl_->mounted = true;
    return true;
}

void FuseServer::unmount() {
    if (impl_->io) {
        sd_event_source_disable_unref(impl_->io);
        impl_->io = nullptr;
    }
    if (impl_->session) {
        impl_->files.clear();
        fuse_session_unmount(impl_->session);
        fuse_session_destroy(impl_->session);
        impl_->session = nullptr;
    }
    impl_->mounted = false;
}

} // namespace rpmsgsim
