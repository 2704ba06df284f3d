// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// FdStore: names of stored endpoint fds, and the sd_notify messages it sends when a service
// manager listens ($NOTIFY_SOCKET), received here on a real datagram socket.

#include "daemon/fd_store.h"
#include "fd_io.h"

#include <cstdlib>
#include <cstring>
#include <string>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace rpmsgd {
namespace {

TEST(FdStore, EndpointNamesRoundTrip) {
    for (uint64_t n : {1ull, 42ull, 9999999999999999999ull}) {
        EXPECT_EQ(FdStore::endpointNumber(FdStore::endpointName(n)), n);
    }
    EXPECT_EQ(FdStore::endpointName(7), "endpoint-7");
}

TEST(FdStore, OtherNamesAreNotEndpoints) {
    for (const char* name : {"", "endpoint-", "endpoint-x", "endpoint-1x", "endpoint--1", "stored",
                             "endpoint-99999999999999999999", "Endpoint-1", "unknown"}) {
        EXPECT_EQ(FdStore::endpointNumber(name), 0u) << name;
    }
}

class NotifySocket {
public:
    NotifySocket() {
        char dir[] = "/tmp/fdstore-XXXXXX";
        dir_ = ::mkdtemp(dir);
        path_ = dir_ + "/notify";
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strcpy(addr.sun_path, path_.c_str());
        ok_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
        ::setenv("NOTIFY_SOCKET", path_.c_str(), 1);
    }
    ~NotifySocket() {
        ::unsetenv("NOTIFY_SOCKET");
        ::close(fd_);
        ::unlink(path_.c_str());
        ::rmdir(dir_.c_str());
    }
    bool ok() const { return ok_; }
    /// @brief One datagram's text and how many fds came with it.
    std::pair<std::string, int> receive() {
        harness::FdMessage m = harness::receiveFds(fd_, 512, 4, MSG_DONTWAIT);
        if (m.err != 0) {
            return {"<nothing>", 0};
        }
        harness::closeAll(m.fds);
        return {m.data, int(m.fds.size())};
    }

private:
    std::string dir_, path_;
    int fd_ = -1;
    bool ok_ = false;
};

TEST(FdStore, AddAndRemoveSpeakTheNotifyProtocol) {
    NotifySocket sock;
    ASSERT_TRUE(sock.ok());
    FdStore store;
    ASSERT_TRUE(store.enabled());
    int pipeFds[2];
    ASSERT_EQ(::pipe(pipeFds), 0);
    store.add(FdStore::endpointName(3), pipeFds[0]);
    EXPECT_EQ(sock.receive(), std::make_pair(std::string("FDSTORE=1\nFDNAME=endpoint-3"), 1));
    store.remove(FdStore::endpointName(3));
    EXPECT_EQ(sock.receive(), std::make_pair(std::string("FDSTOREREMOVE=1\nFDNAME=endpoint-3"), 0));
    ::close(pipeFds[0]);
    ::close(pipeFds[1]);
}

TEST(FdStore, WithoutAServiceManagerNothingIsSent) {
    ::unsetenv("NOTIFY_SOCKET");
    FdStore store;
    EXPECT_FALSE(store.enabled());
    store.add("endpoint-1", 0); // no-op, no crash
    store.remove("endpoint-1");
}

TEST(FdStore, InheritedIsEmptyWithoutListenFds) {
    ::unsetenv("LISTEN_FDS");
    ::unsetenv("LISTEN_PID");
    EXPECT_TRUE(FdStore::inherited().empty());
}

} // namespace
} // namespace rpmsgd
