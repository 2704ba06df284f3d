// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "nobody.h"

#include "sim_harness.h"

#include <cstring>
#include <filesystem>
#include <grp.h>
#include <map>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>

namespace harness {

namespace fs = std::filesystem;

namespace {

// A file another user must get a copy of: one of the project (a copied program no longer finds
// the build's libraries through its $ORIGIN run path), or one others cannot read. Everything of
// the project is copied, wherever the checkout is, so that this path is the one every run takes.
bool needsCopy(const std::string& path) {
    return path.rfind(RPMSGD_SOURCE_ROOT "/", 0) == 0 ||
           path.rfind(RPMSGD_BUILD_ROOT "/", 0) == 0 || !othersCanRead(path);
}

// The staging directory: made on first use, removed when the process that made it exits
// (forked children leave it alone).
class Staging {
public:
    ~Staging() {
        if (!dir_.empty() && ::getpid() == owner_) {
            std::error_code ec;
            fs::remove_all(dir_, ec);
        }
    }

    std::string copy(const std::string& path) {
        std::lock_guard lock(mutex_);
        if (auto it = copies_.find(path); it != copies_.end()) {
            return it->second;
        }
        struct stat st {};
        if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
            throw std::runtime_error("cannot copy " + path + " for another user: not a file");
        }
        const bool executable = (st.st_mode & 0111) != 0;
        // A directory per copy keeps the file name (PATH lookups, $0, messages).
        const std::string dir = makeDir(root() + "/" + std::to_string(copies_.size()));
        const std::string to = dir + "/" + fs::path(path).filename().string();
        place(path, to, executable ? 0755 : 0644);
        copies_[path] = to;
        if (executable) {
            copyLibraries(path);
        }
        return to;
    }

    std::string libraryDir() {
        std::lock_guard lock(mutex_);
        return libDir_;
    }

private:
    std::string root() {
        if (dir_.empty()) {
            char tmpl[] = "/tmp/rpmsgd-for-nobody-XXXXXX";
            if (::mkdtemp(tmpl) == nullptr) {
                throw std::runtime_error(std::string("mkdtemp: ") + std::strerror(errno));
            }
            ::chmod(tmpl, 0755);
            dir_ = tmpl;
            owner_ = ::getpid();
        }
        return dir_;
    }

    static std::string makeDir(const std::string& dir) {
        fs::create_directories(dir);
        ::chmod(dir.c_str(), 0755);
        return dir;
    }

    static void place(const std::string& from, const std::string& to, mode_t mode) {
        std::error_code ec;
        fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
        if (ec || ::chmod(to.c_str(), mode) != 0) {
            throw std::runtime_error("cannot copy " + from + " to " + to + ": " + ec.message());
        }
    }

    // The shared libraries a program loads from the project or from places others cannot read
    // (the build's own librpmsgd-client): `ldd` lines "NAME => PATH (ADDRESS)".
    void copyLibraries(const std::string& program) {
        const simtest::CommandResult r = simtest::runCommand({"ldd", program});
        std::istringstream lines(r.out);
        std::string name, arrow, lib;
        for (std::string line; std::getline(lines, line);) {
            std::istringstream fields(line);
            if (fields >> name >> arrow >> lib && arrow == "=>" && lib.front() == '/' &&
                needsCopy(lib)) {
                if (libDir_.empty()) {
                    libDir_ = makeDir(root() + "/lib");
                }
                place(lib, libDir_ + "/" + name, 0644);
            }
        }
    }

    std::mutex mutex_;
    std::string dir_;
    std::string libDir_;
    pid_t owner_ = -1;
    std::map<std::string, std::string> copies_;
};

Staging& staging() {
    static Staging s;
    return s;
}

} // namespace

std::string Cred::describe() const {
    std::string s = "uid " + std::to_string(uid) + " gid " + std::to_string(gid);
    for (auto g : groups) {
        s += "," + std::to_string(g);
    }
    return s;
}

bool switchTo(const Cred& cred) {
    return ::setgroups(cred.groups.size(), cred.groups.data()) == 0 && ::setgid(cred.gid) == 0 &&
           ::setuid(cred.uid) == 0;
}

bool othersCanRead(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || (st.st_mode & S_IROTH) == 0) {
        return false;
    }
    for (fs::path dir = fs::path(path).parent_path(); !dir.empty() && dir != dir.root_path();
         dir = dir.parent_path()) {
        if (::stat(dir.c_str(), &st) != 0 || (st.st_mode & S_IXOTH) == 0) {
            return false;
        }
    }
    return true;
}

std::string worldReadableCopy(const std::string& path) {
    return staging().copy(path);
}

std::string stagedLibraryDir() {
    return staging().libraryDir();
}

std::vector<std::string> forOtherUser(const std::vector<std::string>& argv) {
    std::vector<std::string> out;
    for (const auto& a : argv) {
        struct stat st {};
        const bool file =
            !a.empty() && a.front() == '/' && ::stat(a.c_str(), &st) == 0 && S_ISREG(st.st_mode);
        out.push_back(file && needsCopy(a) ? worldReadableCopy(a) : a);
    }
    return out;
}

std::string sanitizerOptionsForOtherUser(const std::string& options) {
    std::string out;
    std::istringstream in(options);
    for (std::string item; std::getline(in, item, ':');) {
        if (item.rfind("suppressions=", 0) == 0) {
            item = "suppressions=" + forOtherUser({item.substr(13)}).front();
        }
        out += (out.empty() ? "" : ":") + item;
    }
    return out;
}

} // namespace harness
