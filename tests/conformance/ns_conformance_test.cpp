// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// The name service: remote announcements create and destroy rpmsg channels, and rpmsg_char
// binds those named rpmsg-raw (docs/kernel-abi.md §5, §6.4, §7 "Name service"). Announced addresses
// stay below 1024, clear of Linux's dynamic addresses.

#include "conformance_fixture.h"

#include <algorithm>
#include <cerrno>
#include <regex>
#include <unistd.h>

namespace conformance {
namespace {

class NameService : public ConformanceTest {};

TEST_F(NameService, AnnounceCreatesAndDestroyRemovesChannel) {
    const std::string dev = channel("conf-svc", 96);
    remoteOk({"announce", "conf-svc", "96"});
    ASSERT_TRUE(waitFor([&] { return exists(busDev(dev)); })) << dev << " did not appear";
    EXPECT_EQ(readAttr(busDev(dev, "name")), "conf-svc\n");
    EXPECT_EQ(readAttr(busDev(dev, "dst")), "0x60\n");
    EXPECT_EQ(readAttr(busDev(dev, "src")), "0xffffffff\n") << "no driver, no endpoint";
    // The remote serves an announced name as an echo service.
    Fd ctrl = openCtrl();
    const auto ept = createEptDev(ctrl.get(), "c", RPMSG_ADDR_ANY, 96);
    Fd fd = openDev(ept);
    ASSERT_TRUE(fd.valid());
    ASSERT_EQ(::write(fd.get(), "svc", 3), 3);
    EXPECT_EQ(readMessage(fd.get()).data, "svc");

    remoteOk({"destroy", "conf-svc", "96"});
    EXPECT_TRUE(waitFor([&] { return !exists(busDev(dev)); })) << dev << " is still there";
    EXPECT_TRUE(exists(busDev(channel("rpmsg-echo", echoAddr()))));
}

TEST_F(NameService, DuplicateAnnouncementIsIgnored) {
    const std::string dev = channel("conf-dup", 97);
    remoteOk({"announce", "conf-dup", "97"});
    ASSERT_TRUE(waitFor([&] { return exists(busDev(dev)); }));
    remote({"announce", "conf-dup", "97"}); // the kernel logs "already exist" and goes on
    barrier();
    const auto devs = list("sys/bus/rpmsg/devices");
    EXPECT_EQ(std::count_if(
                  devs.begin(), devs.end(),
                  [](const std::string& d) { return d.find(".conf-dup.") != std::string::npos; }),
              1)
        << ::testing::PrintToString(devs);
    EXPECT_TRUE(exists(busDev(dev)));
}

TEST_F(NameService, DestroyDoesNotAffectCreateEptEptdevs) {
    const std::string dev = channel("conf-gone", 98);
    remoteOk({"announce", "conf-gone", "98"});
    ASSERT_TRUE(waitFor([&] { return exists(busDev(dev)); }));
    Fd ctrl = openCtrl();
    const auto ept = createEptDev(ctrl.get(), "c", RPMSG_ADDR_ANY, 98);
    Fd fd = openDev(ept, O_RDWR | O_NONBLOCK);
    ASSERT_TRUE(fd.valid());
    remoteOk({"destroy", "conf-gone", "98"});
    ASSERT_TRUE(waitFor([&] { return !exists(busDev(dev)); }));
    EXPECT_TRUE(exists("dev/" + ept));
    EXPECT_TRUE(exists(classRpmsg(ept)));
    // Writes to the withdrawn address still "succeed".
    EXPECT_EQ(::write(fd.get(), "x", 1), 1);
}

TEST_F(NameService, RawChannelIsBoundToRpmsgChar) {
    const std::string dev = channel("rpmsg-raw", rawAddr());
    const std::string ept = rawEptdev();
    ASSERT_TRUE(std::regex_match(ept, std::regex("rpmsg[0-9]+"))) << ept;
    EXPECT_TRUE(exists("dev/" + ept));
    EXPECT_EQ(canonical(classRpmsg(ept)), canonical(busDev(dev)) + "/rpmsg/" + ept)
        << "a channel's eptdev sits in the channel's rpmsg/ glue directory";
    EXPECT_EQ(readAttr(busDev(dev, "name")), "rpmsg-raw\n");
    EXPECT_EQ(readAttr(busDev(dev, "dst")), hexLine(rawAddr()));
    EXPECT_EQ(readAttr(busDev(dev, "modalias")), "rpmsg:rpmsg-raw\n");
    EXPECT_EQ(readAttr(busDev(dev, "announce")), "false\n");
    EXPECT_EQ(readAttr(classRpmsg(ept, "name")), "rpmsg-raw\n");
    EXPECT_EQ(readAttr(classRpmsg(ept, "dst")), std::to_string(rawAddr()) + "\n");

    Fd fd = openDev(ept);
    ASSERT_TRUE(fd.valid());
    ASSERT_EQ(::write(fd.get(), "raw", 3), 3);
    EXPECT_EQ(readMessage(fd.get()).data, "raw");
    const long addr = peer(rawAddr());
    EXPECT_GE(addr, 1024) << "the channel's default endpoint";
    EXPECT_EQ(readAttr(busDev(dev, "src")), hexLine(addr)) << "bus src: the bound address";
    EXPECT_EQ(readAttr(classRpmsg(ept, "src")), std::to_string(addr) + "\n")
        << "class src: the channel's src when rpmsg_char probed, i.e. the bound address";
}

TEST_F(NameService, AnnouncedRawChannelGetsANodeAndDestroyGivesEPIPE) {
    const std::string dev = channel("rpmsg-raw", 99);
    const std::string expect = "rpmsg" + std::to_string(lowestFreeIndex());
    remoteOk({"announce", "rpmsg-raw", "99"});
    ASSERT_TRUE(waitFor([&] { return list(busDev(dev, "rpmsg")).size() == 1; }))
        << dev << "/rpmsg/rpmsgN did not appear";
    const std::string ept = list(busDev(dev, "rpmsg"))[0];
    EXPECT_EQ(ept, expect) << "the lowest free index";
    ASSERT_TRUE(waitFor([&] { return exists("dev/" + ept); }));
    Fd fd = openDev(ept);
    ASSERT_TRUE(fd.valid());
    ASSERT_EQ(::write(fd.get(), "ns", 2), 2);
    EXPECT_EQ(readMessage(fd.get()).data, "ns");

    remoteOk({"destroy", "rpmsg-raw", "99"});
    EXPECT_TRUE(waitFor([&] { return !exists(busDev(dev)) && !exists("dev/" + ept); }));
    // 6.1 removes the class entry at once; 6.12 keeps it while the eptdev is open
    // (docs/kernel-versions.md). It goes with the last close on every version.
    if (target().kernel() != "6.12") {
        EXPECT_FALSE(exists(classRpmsg(ept)));
    }
    expectDeadEptdev(fd.get());
    ::close(fd.release());
    EXPECT_TRUE(waitFor([&] { return !exists(classRpmsg(ept)); }));
    EXPECT_TRUE(exists(busDev(channel("rpmsg-raw", rawAddr())))) << "the firmware's stays";
}

} // namespace
} // namespace conformance
