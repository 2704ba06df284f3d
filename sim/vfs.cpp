// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "vfs.h"

#include <cerrno>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>

namespace rpmsgsim {

void FileHandle::read(RequestPtr req, size_t, uint64_t, int) {
    req->replyError(EINVAL);
}

void FileHandle::write(RequestPtr req, std::span<const uint8_t>, uint64_t, int) {
    req->replyError(EINVAL);
}

void FileHandle::ioctl(RequestPtr req, unsigned, void*, std::span<const uint8_t>, size_t) {
    req->replyError(ENOTTY);
}

void FileHandle::poll(RequestPtr req, PollWaiterPtr) {
    req->replyPoll(POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM);
}

std::string Node::path() const {
    // Collect the names upwards, then join (appending avoids GCC 12's -Wrestrict false
    // positive on chained std::string operator+).
    std::vector<const Node*> chain;
    for (const Node* n = this; n && n->parent; n = n->parent) {
        chain.push_back(n);
    }
    std::string out;
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
        out.append("/");
        out.append((*it)->name);
    }
    return out;
}

Vfs::Vfs() {
    root_ = std::make_shared<Node>();
    root_->ino = 1; // FUSE_ROOT_ID
    root_->type = NodeType::Directory;
    root_->mode = 0755;
    inodes_[1] = root_;
}

NodePtr Vfs::byIno(uint64_t ino) const {
    auto it = inodes_.find(ino);
    return it == inodes_.end() ? nullptr : it->second;
}

NodePtr Vfs::at(const std::string& path) const {
    NodePtr cur = root_;
    size_t pos = 0;
    while (cur && pos < path.size()) {
        while (pos < path.size() && path[pos] == '/') {
            ++pos;
        }
        if (pos >= path.size()) {
            break;
        }
        size_t end = path.find('/', pos);
        std::string part =
            path.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
        auto it = cur->children.find(part);
        cur = it == cur->children.end() ? nullptr : it->second;
        pos = end == std::string::npos ? path.size() : end;
    }
    return cur;
}

NodePtr Vfs::add(const NodePtr& parent, NodePtr node) {
    node->ino = nextIno_++;
    node->parent = parent.get();
    auto old = parent->children.find(node->name);
    if (old != parent->children.end()) {
        remove(old->second);
    }
    parent->children[node->name] = node;
    inodes_[node->ino] = node;
    return node;
}

NodePtr Vfs::dir(const NodePtr& parent, const std::string& name, uint32_t mode) {
    auto it = parent->children.find(name);
    if (it != parent->children.end() && it->second->type == NodeType::Directory) {
        return it->second;
    }
    auto node = std::make_shared<Node>();
    node->type = NodeType::Directory;
    node->name = name;
    node->mode = mode;
    return add(parent, node);
}

NodePtr Vfs::mkdirs(const std::string& path) {
    NodePtr cur = root_;
    size_t pos = 0;
    while (pos < path.size()) {
        size_t end = path.find('/', pos);
        if (end == std::string::npos) {
            end = path.size();
        }
        if (end > pos) {
            cur = dir(cur, path.substr(pos, end - pos));
        }
        pos = end + 1;
    }
    return cur;
}

NodePtr Vfs::file(const NodePtr& parent, const std::string& name, uint32_t mode, uint64_t size,
                  Opener opener) {
    auto node = std::make_shared<Node>();
    node->type = NodeType::File;
    node->name = name;
    node->mode = mode;
    node->size = size;
    node->opener = std::move(opener);
    return add(parent, node);
}

NodePtr Vfs::symlink(const NodePtr& parent, const std::string& name,
                     const std::string& targetPath) {
    auto node = std::make_shared<Node>();
    node->type = NodeType::Symlink;
    node->name = name;
    node->mode = 0777;
    node->target = relative(parent->path(), targetPath);
    node->size = node->target.size();
    return add(parent, node);
}

NodePtr Vfs::absoluteSymlink(const NodePtr& parent, const std::string& name,
                             const std::string& target) {
    auto node = std::make_shared<Node>();
    node->type = NodeType::Symlink;
    node->name = name;
    node->mode = 0777;
    node->target = target;
    node->size = target.size();
    return add(parent, node);
}

void Vfs::markRemoved(const NodePtr& node) {
    for (auto& [name, child] : node->children) {
        markRemoved(child);
    }
    node->children.clear();
    node->removed = true;
    node->parent = nullptr;
    if (node->lookups == 0) {
        inodes_.erase(node->ino);
    }
}

void Vfs::remove(const NodePtr& node) {
    if (!node || node == root_ || node->removed) {
        return;
    }
    NodePtr keep = node;
    if (node->parent) {
        node->parent->children.erase(node->name);
    }
    markRemoved(keep);
}

void Vfs::removeChild(const NodePtr& parent, const std::string& name) {
    if (!parent) {
        return;
    }
    auto it = parent->children.find(name);
    if (it != parent->children.end()) {
        remove(it->second);
    }
}

void Vfs::lookedUp(const NodePtr& node, uint64_t n) {
    node->lookups += n;
}

void Vfs::forget(uint64_t ino, uint64_t n) {
    auto it = inodes_.find(ino);
    if (it == inodes_.end() || ino == 1) {
        return;
    }
    NodePtr node = it->second;
    node->lookups = node->lookups > n ? node->lookups - n : 0;
    if (node->lookups == 0 && node->removed) {
        inodes_.erase(it);
    }
}

std::string Vfs::relative(const std::string& fromDir, const std::string& to) {
    auto split = [](const std::string& p) {
        std::vector<std::string> parts;
        size_t pos = 0;
        while (pos <= p.size()) {
            size_t end = p.find('/', pos);
            if (end == std::string::npos) {
                end = p.size();
            }
            if (end > pos) {
                parts.push_back(p.substr(pos, end - pos));
            }
            pos = end + 1;
        }
        return parts;
    };
    auto a = split(fromDir);
    auto b = split(to);
    size_t common = 0;
    while (common < a.size() && common < b.size() && a[common] == b[common]) {
        ++common;
    }
    std::string out;
    for (size_t i = common; i < a.size(); ++i) {
        out += "../";
    }
    for (size_t i = common; i < b.size(); ++i) {
        out += b[i];
        if (i + 1 < b.size()) {
            out += "/";
        }
    }
    if (!out.empty() && out.back() == '/') {
        out.pop_back();
    }
    return out.empty() ? std::string(".") : out;
}

namespace {

/// An open text attribute: content rendered at offset 0 and served in slices, like seq_file.
class AttrHandle : public FileHandle {
public:
    AttrHandle(std::weak_ptr<Node> node, std::shared_ptr<AttrOps> ops)
        : node_(std::move(node)), ops_(std::move(ops)) {}

    void read(RequestPtr req, size_t size, uint64_t offset, int) override {
        auto node = node_.lock();
        if (!node || node->removed) {
            return req->replyError(ENODEV);
        }
        if (!ops_->show) {
            return req->replyError(EINVAL);
        }
        if (offset == 0 || !rendered_) {
            content_ = ops_->show();
            rendered_ = true;
        }
        if (offset >= content_.size()) {
            return req->replyData(nullptr, 0);
        }
        size_t n = std::min(size, content_.size() - size_t(offset));
        req->replyData(content_.data() + offset, n);
    }

    void write(RequestPtr req, std::span<const uint8_t> data, uint64_t, int) override {
        auto node = node_.lock();
        if (!node || node->removed) {
            return req->replyError(ENODEV);
        }
        if (!ops_->store && !ops_->storeAsync) {
            return req->replyError(EINVAL);
        }
        if (data.empty()) {
            return req->replyWritten(0);
        }
        if (data.size() > ops_->maxWrite) {
            return req->replyError(ops_->debugfs ? EINVAL : E2BIG);
        }
        std::string_view text(reinterpret_cast<const char*>(data.data()), data.size());
        if (ops_->storeAsync) {
            return ops_->storeAsync(text, std::move(req));
        }
        long r = ops_->store(text);
        if (r < 0) {
            return req->replyError(int(-r));
        }
        req->replyWritten(size_t(r));
    }

private:
    std::weak_ptr<Node> node_;
    std::shared_ptr<AttrOps> ops_;
    std::string content_;
    bool rendered_ = false;
};

} // namespace

NodePtr Vfs::attr(const NodePtr& parent, const std::string& name, uint32_t mode, AttrOps ops) {
    auto shared = std::make_shared<AttrOps>(std::move(ops));
    auto node = file(parent, name, mode, shared->debugfs ? 0 : 4096, nullptr);
    std::weak_ptr<Node> weak = node;
    node->opener = [weak, shared](int flags, uint32_t, std::unique_ptr<FileHandle>& out) -> int {
        auto n = weak.lock();
        if (!n || n->removed) {
            return ENOENT;
        }
        int acc = flags & O_ACCMODE;
        bool wantWrite = acc == O_WRONLY || acc == O_RDWR;
        bool wantRead = acc == O_RDONLY || acc == O_RDWR;
        if (!shared->debugfs) {
            // kernfs refuses an open for an access the attribute does not have, even for root.
            bool canWrite = (n->mode & 0222) && (shared->store || shared->storeAsync);
            bool canRead = (n->mode & 0444) && shared->show;
            if ((wantWrite && !canWrite) || (wantRead && !canRead)) {
                return EACCES;
            }
        }
        out = std::make_unique<AttrHandle>(weak, shared);
        return 0;
    };
    return node;
}

} // namespace rpmsgsim
