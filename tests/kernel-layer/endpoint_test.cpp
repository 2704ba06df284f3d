// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// Endpoints through daemon/kernel against rpmsg-sim: CREATE_EPT + finding the new /dev/rpmsgN,
// destroy, non-blocking opens, stale endpoint devices (docs/kernel-abi.md §6.3, §6.4).

#include "daemon/kernel/endpoint.h"
#include "daemon/kernel/error.h"
#include "daemon/kernel/remoteproc.h"
#include "kernel_fixture.h"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace kerneltest {
namespace {

using namespace rpmsgd::kernel;

class Endpoints : public KernelTest {
protected:
    void boot() {
        ASSERT_NO_FATAL_FAILURE(startSim());
        ASSERT_TRUE(start(paths(), "remoteproc0"));
        ASSERT_TRUE(waitBusDevice("virtio0.rpmsg-echo.-1.1024"));
        ctrl_ = ctrlOf("remoteproc0");
        ASSERT_EQ(ctrl_, "rpmsg_ctrl0");
    }

    // An endpoint device made directly with the ioctl and left closed, as a daemon that died
    // would leave it.
    std::string rawCreate(const std::string& name, uint32_t src, uint32_t dst) {
        simtest::Fd ctrl(::open((paths().dev + "/" + ctrl_).c_str(), O_RDWR | O_CLOEXEC));
        EXPECT_TRUE(ctrl.valid());
        const auto before = simtest::eptdevNames(sim());
        EXPECT_EQ(simtest::createEpt(ctrl.get(), name, src, dst), 0);
        for (const auto& n : simtest::eptdevNames(sim())) {
            if (std::find(before.begin(), before.end(), n) == before.end()) {
                return n;
            }
        }
        ADD_FAILURE() << "no eptdev appeared for " << name;
        return "";
    }

    bool classExists(const std::string& device) { return exists("sys/class/rpmsg/" + device); }

    std::string ctrl_;
};

TEST_F(Endpoints, CreateEndpointEchoRoundTrip) {
    ASSERT_NO_FATAL_FAILURE(boot());
    auto ep = createEndpoint(paths(), ctrl_, "rpmsgd-1", AddrAny, 1024, false);
    simtest::Fd fd(ep.fd);
    ASSERT_TRUE(fd.valid());
    EXPECT_EQ(ep.device, "rpmsg0");
    EXPECT_EQ(roundTrip(fd.get(), "hello"), "hello");
    const auto list = listEptdevs(paths(), ctrl_);
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0].device, ep.device);
    EXPECT_EQ(list[0].name, "rpmsgd-1");
    EXPECT_EQ(list[0].src, AddrAny);
    EXPECT_EQ(list[0].dst, 1024u);
    EXPECT_EQ(eptdev(ep.device)["open"], true);
    EXPECT_EQ(fcntl(fd.get(), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
    EXPECT_EQ(fcntl(fd.get(), F_GETFL) & O_ACCMODE, O_RDWR);
}

TEST_F(Endpoints, TwoEndpointsOnOneChannelHaveTheirOwnAddresses) {
    ASSERT_NO_FATAL_FAILURE(boot());
    auto a = createEndpoint(paths(), ctrl_, "rpmsgd-1", AddrAny, 1024, false);
    simtest::Fd fa(a.fd);
    auto b = createEndpoint(paths(), ctrl_, "rpmsgd-2", AddrAny, 1024, false);
    simtest::Fd fb(b.fd);
    EXPECT_NE(a.device, b.device);
    const long addrA = eptdev(a.device)["addr"].get<long>();
    const long addrB = eptdev(b.device)["addr"].get<long>();
    EXPECT_NE(addrA, addrB);
    EXPECT_GE(addrA, 1024);
    EXPECT_GE(addrB, 1024);
    EXPECT_EQ(roundTrip(fb.get(), "to b"), "to b");
    EXPECT_EQ(roundTrip(fa.get(), "to a"), "to a");
    EXPECT_EQ(roundTrip(fb.get(), "b again"), "b again");
}

TEST_F(Endpoints, ExplicitSourceAddress) {
    ASSERT_NO_FATAL_FAILURE(boot());
    auto a = createEndpoint(paths(), ctrl_, "rpmsgd-1", 2000, 1024, false);
    simtest::Fd fa(a.fd);
    EXPECT_EQ(eptdev(a.device)["addr"], 2000);
    EXPECT_EQ(roundTrip(fa.get(), "x"), "x");
    // The same address again would fail the kernel's open and leave a device nobody can
    // destroy: refused before anything is created.
    try {
        createEndpoint(paths(), ctrl_, "rpmsgd-2", 2000, 1024, false);
        FAIL() << "duplicate explicit src accepted";
    } catch (const KernelError& e) {
        EXPECT_EQ(e.error(), EADDRINUSE);
        EXPECT_EQ(e.code(), rpmsgd::ErrorCode::InvalidArgument);
        EXPECT_NE(std::string(e.what()).find(a.device), std::string::npos) << e.what();
    }
    EXPECT_EQ(listEptdevs(paths(), ctrl_).size(), 1u) << "nothing may leak";
}

TEST_F(Endpoints, ExplicitSourceOfTheNameServiceIsRefused) {
    ASSERT_NO_FATAL_FAILURE(boot());
    try {
        createEndpoint(paths(), ctrl_, "rpmsgd-1", 53, 1024, false);
        FAIL() << "src 53 accepted";
    } catch (const KernelError& e) {
        EXPECT_EQ(e.error(), EADDRINUSE);
        EXPECT_NE(std::string(e.what()).find("virtio0.rpmsg_ns.53.53"), std::string::npos)
            << e.what();
    }
    EXPECT_TRUE(listEptdevs(paths(), ctrl_).empty());
}

// An address bound by an open ANY endpoint is invisible in sysfs (class `src` shows what was
// requested), so the kernel's open fails: the error says so, and that the device could not be
// removed either (opening it fails the same way). Once the address is free, the startup sweep
// removes it.
TEST_F(Endpoints, ExplicitSourceTakenByADynamicEndpointFailsWithTheReason) {
    ASSERT_NO_FATAL_FAILURE(boot());
    auto any = createEndpoint(paths(), ctrl_, "rpmsgd-1", AddrAny, 1024, false);
    simtest::Fd fany(any.fd);
    const long bound = eptdev(any.device)["addr"].get<long>();
    try {
        createEndpoint(paths(), ctrl_, "rpmsgd-2", static_cast<uint32_t>(bound), 1024, false);
        FAIL() << "an endpoint at a bound address was opened";
    } catch (const KernelError& e) {
        EXPECT_EQ(e.error(), EINVAL);
        const std::string dev = paths().dev + "/rpmsg1";
        EXPECT_EQ(std::string(e.what()), "open " + dev +
                                             ": Invalid argument (EINVAL); endpoint device "
                                             "rpmsg1 could not be removed (open " +
                                             dev + ": Invalid argument (EINVAL))");
    }
    std::string reason;
    EXPECT_FALSE(destroyStaleEptdev(paths(), "rpmsg1", &reason));
    EXPECT_NE(reason.find("in use"), std::string::npos) << reason;
    fany.reset(); // the address is free again
    EXPECT_TRUE(destroyStaleEptdev(paths(), "rpmsg1", &reason)) << reason;
    EXPECT_FALSE(classExists("rpmsg1"));
}

TEST_F(Endpoints, DestroyEndpointGivesEpipeAndRemovesTheDevice) {
    ASSERT_NO_FATAL_FAILURE(boot());
    auto ep = createEndpoint(paths(), ctrl_, "rpmsgd-1", AddrAny, 1024, false);
    simtest::Fd fd(ep.fd);
    simtest::Fd client(::dup(fd.get())); // the copy handed to the client
    ASSERT_TRUE(classExists(ep.device));
    EXPECT_TRUE(destroyEndpoint(fd.get()));
    EXPECT_EQ(simtest::ioErrnos(client.get()), std::make_pair(EPIPE, EPIPE));
    EXPECT_FALSE(classExists(ep.device));
    EXPECT_FALSE(exists("dev/" + ep.device));
    EXPECT_TRUE(listEptdevs(paths(), ctrl_).empty());
    EXPECT_FALSE(destroyEndpoint(fd.get())) << "already gone: no second ioctl";
}

TEST_F(Endpoints, DestroyAfterTheRemoteStoppedIsANoop) {
    ASSERT_NO_FATAL_FAILURE(boot());
    auto ep = createEndpoint(paths(), ctrl_, "rpmsgd-1", AddrAny, 1024, false);
    simtest::Fd fd(ep.fd);
    ASSERT_TRUE(stop(paths(), "remoteproc0"));
    EXPECT_FALSE(destroyEndpoint(fd.get())) << "the ctrl removal destroyed it already";
    EXPECT_THROW(destroyEndpoint(-1), KernelError);
}

TEST_F(Endpoints, NonblockFlagIsHonoured) {
    ASSERT_NO_FATAL_FAILURE(boot());
    auto nb = createEndpoint(paths(), ctrl_, "rpmsgd-nb", AddrAny, 1024, true);
    simtest::Fd fnb(nb.fd);
    EXPECT_EQ(fcntl(fnb.get(), F_GETFL) & O_NONBLOCK, O_NONBLOCK);
    char buf[16];
    errno = 0;
    EXPECT_EQ(::read(fnb.get(), buf, sizeof buf), -1);
    EXPECT_EQ(errno, EAGAIN);
    auto bl = createEndpoint(paths(), ctrl_, "rpmsgd-bl", AddrAny, 1024, false);
    simtest::Fd fbl(bl.fd);
    EXPECT_EQ(fcntl(fbl.get(), F_GETFL) & O_NONBLOCK, 0);
}

TEST_F(Endpoints, SameNameAsAStaleDeviceTakesTheNewOne) {
    ASSERT_NO_FATAL_FAILURE(boot());
    const std::string stale = rawCreate("rpmsgd-1", AddrAny, 1024);
    ASSERT_EQ(stale, "rpmsg0");
    auto ep = createEndpoint(paths(), ctrl_, "rpmsgd-1", AddrAny, 1024, false);
    simtest::Fd fd(ep.fd);
    EXPECT_EQ(ep.device, "rpmsg1");
    EXPECT_EQ(eptdev(stale)["open"], false);
    EXPECT_EQ(roundTrip(fd.get(), "new"), "new");
}

TEST_F(Endpoints, BadArguments) {
    ASSERT_NO_FATAL_FAILURE(boot());
    try {
        createEndpoint(paths(), "rpmsg_ctrl7", "rpmsgd-1", AddrAny, 1024, false);
        FAIL() << "missing ctrl accepted";
    } catch (const KernelError& e) {
        // A ctrl device that is not there: its processor is not running (or just went).
        EXPECT_EQ(e.error(), ENOENT);
        EXPECT_EQ(e.code(), rpmsgd::ErrorCode::Unavailable);
        EXPECT_EQ(std::string(e.what()),
                  "rpmsg_ctrl7 is gone (its processor stopped or crashed): open " + paths().dev +
                      "/rpmsg_ctrl7: No such file or directory (ENOENT)");
    }
    EXPECT_THROW(createEndpoint(paths(), ctrl_, std::string(32, 'x'), AddrAny, 1024, false),
                 rpmsgd::Error);
    EXPECT_THROW(createEndpoint(paths(), "../rpmsg_ctrl0", "a", AddrAny, 1024, false),
                 rpmsgd::Error);
    // 31 bytes is the longest name the kernel keeps.
    auto ep = createEndpoint(paths(), ctrl_, std::string(31, 'n'), AddrAny, 1024, false);
    simtest::Fd fd(ep.fd);
    EXPECT_EQ(listEptdevs(paths(), ctrl_).at(0).name, std::string(31, 'n'));
}

TEST_F(Endpoints, StaleEndpointDevicesAreRemovedAtStartup) {
    ASSERT_NO_FATAL_FAILURE(boot());
    const std::string s1 = rawCreate("rpmsgd-7", AddrAny, 1024);
    const std::string s2 = rawCreate("rpmsgd-8", AddrAny, 1024);
    const std::string other = rawCreate("someone-else", AddrAny, 1024);
    simtest::Fd held(::open((paths().dev + "/" + s2).c_str(), O_RDWR | O_CLOEXEC));
    ASSERT_TRUE(held.valid()) << "a process still holding an old endpoint";

    std::vector<std::string> kept;
    std::vector<std::string> reasons;
    for (const auto& e : listEptdevs(paths(), ctrl_)) {
        if (e.name.rfind("rpmsgd-", 0) != 0) {
            continue;
        }
        std::string reason;
        if (!destroyStaleEptdev(paths(), e.device, &reason)) {
            kept.push_back(e.device);
            reasons.push_back(reason);
        }
    }
    EXPECT_EQ(kept, (std::vector<std::string>{s2}));
    ASSERT_EQ(reasons.size(), 1u);
    EXPECT_NE(reasons[0].find("held open"), std::string::npos) << reasons[0];
    EXPECT_FALSE(classExists(s1));
    EXPECT_TRUE(classExists(s2));
    EXPECT_TRUE(classExists(other)) << "only our prefix is swept";
    EXPECT_TRUE(destroyStaleEptdev(paths(), "rpmsg42")) << "an absent device is already gone";
    held.reset();
    EXPECT_TRUE(destroyStaleEptdev(paths(), s2));
    EXPECT_FALSE(classExists(s2));
}

} // namespace
} // namespace kerneltest
