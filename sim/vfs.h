// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// The simulator's in-memory tree: directories, symlinks (stored relative, as sysfs does) and
// files whose behaviour is given by the model. Nodes stay addressable by inode number while the
// kernel still references them, even after they are removed from the tree.

#include "request.h"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace rpmsgsim {

/// @brief One open file. The FUSE layer calls these; each call answers its request, now or
/// later. Defaults answer as a plain file without that operation would.
class FileHandle {
public:
    virtual ~FileHandle() = default;
    virtual void read(RequestPtr req, size_t size, uint64_t offset, int flags);
    virtual void write(RequestPtr req, std::span<const uint8_t> data, uint64_t offset, int flags);
    virtual void ioctl(RequestPtr req, unsigned cmd, void* arg, std::span<const uint8_t> in,
                       size_t outSize);
    /// @brief Answers the current poll mask; keeps @p waiter (may be null) to notify later.
    virtual void poll(RequestPtr req, PollWaiterPtr waiter);
    /// @brief The last close of this open file.
    virtual void release() {}
};

/// @brief Opens a file node: returns 0 and a handle, or a positive errno.
using Opener = std::function<int(int flags, uint32_t uid, std::unique_ptr<FileHandle>& out)>;

enum class NodeType { Directory, File, Symlink };

struct Node {
    uint64_t ino = 0;
    NodeType type = NodeType::Directory;
    std::string name;
    uint32_t mode = 0;      ///< permission bits
    uint64_t size = 0;      ///< st_size reported
    Node* parent = nullptr; ///< null for the root and for removed nodes
    std::map<std::string, std::shared_ptr<Node>> children;
    std::string target; ///< symlink target (relative)
    Opener opener;      ///< files only
    bool removed = false;
    uint64_t lookups = 0; ///< kernel references (FUSE lookup count)

    /// @brief Absolute path inside the mount, "/sys/class/...".
    std::string path() const;
};

using NodePtr = std::shared_ptr<Node>;

/// @brief The tree and the inode table.
class Vfs {
public:
    Vfs();

    NodePtr root() const { return root_; }
    /// @brief Node by inode number, or null.
    NodePtr byIno(uint64_t ino) const;
    /// @brief Node at an absolute path ("/sys/class"), or null.
    NodePtr at(const std::string& path) const;

    /// @brief Returns the directory @p name under @p parent, creating it (mode 0755) if needed.
    NodePtr dir(const NodePtr& parent, const std::string& name, uint32_t mode = 0755);
    /// @brief Creates every missing directory of an absolute path and returns the last one.
    NodePtr mkdirs(const std::string& path);
    /// @brief Adds (or replaces) a file.
    NodePtr file(const NodePtr& parent, const std::string& name, uint32_t mode, uint64_t size,
                 Opener opener);
    /// @brief Adds a symlink named @p name in @p parent pointing at absolute path @p targetPath,
    /// stored as a relative target as sysfs does.
    NodePtr symlink(const NodePtr& parent, const std::string& name, const std::string& targetPath);
    /// @brief Adds a symlink whose target is kept as given: an absolute path outside the mount
    /// (a device node of the host, e.g. /dev/pts/3).
    NodePtr absoluteSymlink(const NodePtr& parent, const std::string& name,
                            const std::string& target);
    /// @brief Adds a text attribute file (see AttrOps).
    NodePtr attr(const NodePtr& parent, const std::string& name, uint32_t mode, struct AttrOps ops);
    /// @brief Removes a node and everything below it from the tree.
    void remove(const NodePtr& node);
    /// @brief Removes the child @p name of @p parent if present.
    void removeChild(const NodePtr& parent, const std::string& name);

    /// @brief The kernel took @p n more references to @p node.
    void lookedUp(const NodePtr& node, uint64_t n = 1);
    /// @brief The kernel dropped @p n references.
    void forget(uint64_t ino, uint64_t n);

    /// @brief Relative path from directory @p fromDir to @p to (both absolute).
    static std::string relative(const std::string& fromDir, const std::string& to);

private:
    NodePtr add(const NodePtr& parent, NodePtr node);
    void markRemoved(const NodePtr& node);
    NodePtr root_;
    uint64_t nextIno_ = 2;
    std::unordered_map<uint64_t, NodePtr> inodes_;
};

/// @brief A text attribute: `show` renders the whole content; `store` handles one write and
/// returns the byte count or a negative errno. Writes of more than 4096 bytes get E2BIG, like
/// sysfs. A removed attribute answers ENODEV.
struct AttrOps {
    std::function<std::string()> show;
    std::function<long(std::string_view)> store;
    /// @brief Optional: a store that may answer later (e.g. a `recover` that waits).
    std::function<void(std::string_view, RequestPtr)> storeAsync;
    size_t maxWrite = 4096;
    bool debugfs = false; ///< debugfs semantics: open never refused, read of write-only = EINVAL
};

} // namespace rpmsgsim
