// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// Channels and control devices through daemon/kernel against rpmsg-sim (docs/kernel-abi.md §5,
// §6.1, §8), including the 5.15 profile.

#include "daemon/kernel/endpoint.h"
#include "daemon/kernel/error.h"
#include "daemon/kernel/remoteproc.h"
#include "daemon/kernel/rpmsg_bus.h"
#include "kernel_fixture.h"

#include <unistd.h>

namespace kerneltest {
namespace {

using namespace rpmsgd::kernel;

nlohmann::json twoServiceSpec() {
    auto spec = simtest::echoSpec();
    spec["services"].push_back({{"name", "rpmsg-sink"}, {"addr", 1026}, {"kind", "sink"}});
    spec["services"].push_back(
        {{"name", "hidden"}, {"addr", 1027}, {"kind", "echo"}, {"announce", false}});
    return spec;
}

std::vector<std::string> devices(const std::vector<ChannelInfo>& channels) {
    std::vector<std::string> out;
    for (const auto& c : channels) {
        out.push_back(c.device);
    }
    return out;
}

using Rpmsg = KernelTest;

TEST_F(Rpmsg, NoChannelsOrCtrlsWhileOffline) {
    ASSERT_NO_FATAL_FAILURE(startSim());
    EXPECT_TRUE(listChannels(paths()).empty());
    EXPECT_TRUE(listCtrls(paths()).empty());
}

TEST_F(Rpmsg, ChannelsAfterBootWithTransportAndProcessor) {
    ASSERT_NO_FATAL_FAILURE(startSim(twoServiceSpec()));
    ASSERT_TRUE(start(paths(), "remoteproc0"));
    ASSERT_TRUE(waitBusDevice("virtio0.rpmsg-sink.-1.1026"));
    ASSERT_TRUE(start(paths(), "remoteproc1"));
    ASSERT_TRUE(waitBusDevice("virtio1.rpmsg-sink.-1.1026"));
    ASSERT_TRUE(waitBusDevice("virtio1.rpmsg-echo.-1.1024"));
    const auto channels = listChannels(paths());
    EXPECT_EQ(devices(channels), (std::vector<std::string>{
                                     "virtio0.rpmsg-echo.-1.1024", "virtio0.rpmsg-sink.-1.1026",
                                     "virtio1.rpmsg-echo.-1.1024", "virtio1.rpmsg-sink.-1.1026"}))
        << "ctrl and name-service devices must be excluded, unannounced services absent";
    ASSERT_EQ(channels.size(), 4u);
    EXPECT_EQ(channels[0].name, "rpmsg-echo");
    EXPECT_EQ(channels[0].dst, 1024u);
    EXPECT_EQ(channels[0].src, AddrAny);
    EXPECT_EQ(channels[0].transport, "virtio0");
    EXPECT_EQ(channels[0].processorId, "remoteproc0");
    EXPECT_EQ(channels[1].name, "rpmsg-sink");
    EXPECT_EQ(channels[1].dst, 1026u);
    EXPECT_EQ(channels[2].transport, "virtio1");
    EXPECT_EQ(channels[2].processorId, "remoteproc1");
    EXPECT_EQ(channels[3].processorId, "remoteproc1");
    EXPECT_NE(channels[0].devicePath.find("/remoteproc/remoteproc0/"), std::string::npos);
}

TEST_F(Rpmsg, AnnouncedAndDestroyedChannelsAndBoundSource) {
    ASSERT_NO_FATAL_FAILURE(startSim());
    ASSERT_TRUE(start(paths(), "remoteproc0"));
    ASSERT_TRUE(waitBusDevice("virtio0.rpmsg-echo.-1.1024"));
    ctlOk({"announce", "cm4", "rpmsg-raw", "1040"});
    ASSERT_TRUE(waitBusDevice("virtio0.rpmsg-raw.-1.1040"));
    auto channels = listChannels(paths());
    ASSERT_EQ(channels.size(), 2u);
    EXPECT_EQ(channels[1].name, "rpmsg-raw");
    EXPECT_EQ(channels[1].dst, 1040u);
    EXPECT_NE(channels[1].src, AddrAny) << "rpmsg_char binds rpmsg-raw and allocates src (6.x)";
    EXPECT_GE(channels[1].src, 1024u);
    ctlOk({"destroy", "cm4", "rpmsg-raw", "1040"});
    ASSERT_TRUE(simtest::waitFor([&] { return listChannels(paths()).size() == 1; }));
    EXPECT_EQ(listChannels(paths())[0].device, "virtio0.rpmsg-echo.-1.1024");
}

TEST_F(Rpmsg, CtrlDiscovery) {
    ASSERT_NO_FATAL_FAILURE(startSim());
    ASSERT_TRUE(start(paths(), "remoteproc1"));
    ASSERT_TRUE(start(paths(), "remoteproc0"));
    const auto ctrls = listCtrls(paths());
    ASSERT_EQ(ctrls.size(), 2u);
    EXPECT_EQ(ctrls[0].name, "rpmsg_ctrl0");
    EXPECT_EQ(ctrls[0].busDevice, "virtio0.rpmsg_ctrl.0.0");
    EXPECT_EQ(ctrls[0].transport, "virtio0");
    EXPECT_EQ(ctrls[0].processorId, "remoteproc1") << "remoteproc1 was started first";
    EXPECT_EQ(ctrls[1].name, "rpmsg_ctrl1");
    EXPECT_EQ(ctrls[1].transport, "virtio1");
    EXPECT_EQ(ctrls[1].processorId, "remoteproc0");
    EXPECT_EQ(ctrlOf("remoteproc0"), "rpmsg_ctrl1");
    // After a stop the ctrl goes; after a restart it comes back (maybe another number).
    ASSERT_TRUE(stop(paths(), "remoteproc1"));
    const auto after = listCtrls(paths());
    ASSERT_EQ(after.size(), 1u);
    EXPECT_EQ(after[0].processorId, "remoteproc0");
}

using Profile515 = KernelTest;

TEST_F(Profile515, ChrdevCtrlAndStartNeverWrittenWhileRunning) {
    ASSERT_NO_FATAL_FAILURE(startSim(simtest::echoSpec(), nullptr, "5.15"));
    EXPECT_TRUE(start(paths(), "remoteproc0"));
    // 5.15 answers EBUSY to a `start` while running: a write would throw here.
    EXPECT_NO_THROW(EXPECT_FALSE(start(paths(), "remoteproc0")));
    EXPECT_EQ(processor()["power"], 1);
    ASSERT_TRUE(waitBusDevice("virtio0.rpmsg-echo.-1.1024"));
    const auto ctrls = listCtrls(paths());
    ASSERT_EQ(ctrls.size(), 1u);
    EXPECT_EQ(ctrls[0].busDevice, "virtio0.rpmsg_chrdev.0.0");
    EXPECT_EQ(ctrls[0].transport, "virtio0");
    EXPECT_EQ(ctrls[0].processorId, "remoteproc0");
    EXPECT_NE(ctrls[0].devicePath.find("remoteproc0#vdev0buffer"), std::string::npos)
        << ctrls[0].devicePath;
    const auto channels = listChannels(paths());
    ASSERT_EQ(channels.size(), 1u) << "the rpmsg_chrdev ctrl device is not a channel";
    EXPECT_EQ(channels[0].name, "rpmsg-echo");
    EXPECT_EQ(channels[0].processorId, "remoteproc0");
    EXPECT_EQ(channels[0].transport, "virtio0");

    auto ep = createEndpoint(paths(), ctrls[0].name, "rpmsgd-1", AddrAny, 1024, false);
    EXPECT_EQ(roundTrip(ep.fd, "on 5.15"), "on 5.15");
    EXPECT_TRUE(destroyEndpoint(ep.fd));
    ::close(ep.fd);

    EXPECT_TRUE(stop(paths(), "remoteproc0"));
    EXPECT_EQ(readState(paths(), "remoteproc0"), "offline");
}

} // namespace
} // namespace kerneltest
