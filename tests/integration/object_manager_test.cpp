// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// org.freedesktop.DBus.ObjectManager at /org/rpmsgd/Broker1 and the change signals:
// InterfacesAdded / InterfacesRemoved / PropertiesChanged.

#include "fixture.h"

namespace itest {
namespace {

class ObjectManager : public DaemonTest {};

bool hasInterface(const ManagedObjects& objects, const std::string& path,
                  const std::string& iface) {
    auto it = objects.find(sdbus::ObjectPath(path));
    return it != objects.end() && it->second.count(iface) > 0;
}

std::string listObjects(const ManagedObjects& objects) {
    std::string s = "managed objects:\n";
    for (const auto& [path, ifaces] : objects) {
        s += "  " + std::string(path) + ":";
        for (const auto& [iface, props] : ifaces) {
            s += " " + iface;
        }
        s += "\n";
    }
    return s;
}

TEST_F(ObjectManager, GetManagedObjectsListsProcessorsChannelsAndEndpoints) {
    const std::string echo = startCm4();
    ASSERT_FALSE(echo.empty());
    Opened ep = root().open(echo);
    const auto objects = root().managedObjects();
    const std::string p0 = root().getProcessor("remoteproc0");
    const std::string p1 = root().getProcessor("remoteproc1");
    EXPECT_TRUE(hasInterface(objects, p0, ProcessorIface)) << listObjects(objects);
    EXPECT_TRUE(hasInterface(objects, p1, ProcessorIface)) << listObjects(objects);
    EXPECT_TRUE(hasInterface(objects, echo, ChannelIface)) << listObjects(objects);
    EXPECT_TRUE(hasInterface(objects, ep.endpoint, EndpointIface)) << listObjects(objects);
    for (const auto& ch : root().listChannels()) {
        EXPECT_TRUE(hasInterface(objects, ch.path, ChannelIface)) << ch.path;
    }
    // The properties come along.
    auto it = objects.find(sdbus::ObjectPath(p0));
    ASSERT_NE(it, objects.end());
    const auto& props = it->second.at(ProcessorIface);
    ASSERT_TRUE(props.count("Id"));
    EXPECT_EQ(props.at("Id").get<std::string>(), "remoteproc0");
    ASSERT_TRUE(props.count("State"));
    EXPECT_EQ(props.at("State").get<std::string>(), "running");
    const auto& chProps = objects.find(sdbus::ObjectPath(echo))->second.at(ChannelIface);
    ASSERT_TRUE(chProps.count("Name"));
    EXPECT_EQ(chProps.at("Name").get<std::string>(), "rpmsg-echo");
    // Only our objects: no processor paths that do not exist.
    size_t processors = 0;
    for (const auto& [path, ifaces] : objects) {
        processors += ifaces.count(ProcessorIface);
    }
    EXPECT_EQ(processors, 2u) << listObjects(objects);
}

TEST_F(ObjectManager, InterfacesAddedWhenAChannelIsAnnounced) {
    startCm4();
    SignalRecorder rec;
    ctlOk({"announce", "cm4", "late-svc", "1100"});
    const std::string path = root().waitForChannel("late-svc", "", 5000);
    auto sig = rec.waitFor([&](const Signal& s) { return s.isAdded(path); });
    ASSERT_TRUE(sig) << rec.describe();
    EXPECT_EQ(sig->path, RootPath);
    EXPECT_EQ(sig->iface, ObjectManagerIface);
    ASSERT_TRUE(sig->added.count(ChannelIface)) << rec.describe();
    // "Objects appear with InterfacesAdded only once fully built": the properties are there.
    const auto& props = sig->added.at(ChannelIface);
    ASSERT_TRUE(props.count("Name")) << rec.describe();
    EXPECT_EQ(props.at("Name").get<std::string>(), "late-svc");
    ASSERT_TRUE(props.count("RemoteAddress"));
    EXPECT_EQ(props.at("RemoteAddress").get<uint32_t>(), 1100u);
    // The processor's Channels property changed too.
    const std::string cm4Path = cm4();
    EXPECT_TRUE(rec.waitFor([&](const Signal& s) { return s.changes(cm4Path, "Channels"); }))
        << rec.describe();
}

TEST_F(ObjectManager, InterfacesRemovedWhenAChannelIsDestroyed) {
    startCm4();
    ctlOk({"announce", "cm4", "late-svc", "1100"});
    const std::string path = root().waitForChannel("late-svc", "", 5000);
    SignalRecorder rec;
    ctlOk({"destroy", "cm4", "late-svc", "1100"});
    auto sig = rec.waitFor([&](const Signal& s) { return s.isRemoved(path); });
    ASSERT_TRUE(sig) << rec.describe();
    EXPECT_EQ(sig->path, RootPath);
    EXPECT_NE(std::find(sig->interfaces.begin(), sig->interfaces.end(), ChannelIface),
              sig->interfaces.end());
    EXPECT_TRUE(simtest::waitFor([&] { return !objectExists(path, ChannelIface); }, 2s));
    for (const auto& ch : root().listChannels()) {
        EXPECT_NE(ch.name, "late-svc");
    }
}

TEST_F(ObjectManager, PropertiesChangedForStateOnStartAndStop) {
    const std::string p = cm4();
    SignalRecorder rec;
    root().start(p);
    auto running = rec.waitFor([&](const Signal& s) {
        return s.changes(p, "State") && s.changed.count("State") &&
               s.changed.at("State").get<std::string>() == "running";
    });
    EXPECT_TRUE(running) << rec.describe();
    if (running) {
        EXPECT_EQ(running->propertiesIface, ProcessorIface);
    }
    rec.clear();
    root().stop(p);
    auto offline = rec.waitFor([&](const Signal& s) {
        return s.changes(p, "State") && s.changed.count("State") &&
               s.changed.at("State").get<std::string>() == "offline";
    });
    EXPECT_TRUE(offline) << rec.describe();
}

TEST_F(ObjectManager, PropertiesChangedForEndpointsOnOpenAndClose) {
    const std::string echo = startCm4();
    SignalRecorder rec;
    Opened ep = root().open(echo);
    auto one = rec.waitFor([&](const Signal& s) {
        return s.changes(echo, "Endpoints") && s.changed.count("Endpoints") &&
               s.changed.at("Endpoints").get<uint32_t>() == 1;
    });
    EXPECT_TRUE(one) << rec.describe();
    // The new endpoint object is announced as well.
    EXPECT_TRUE(rec.waitFor([&](const Signal& s) { return s.isAdded(ep.endpoint); }))
        << rec.describe();
    rec.clear();
    root().close(ep.endpoint);
    auto zero = rec.waitFor([&](const Signal& s) {
        return s.changes(echo, "Endpoints") && s.changed.count("Endpoints") &&
               s.changed.at("Endpoints").get<uint32_t>() == 0;
    });
    EXPECT_TRUE(zero) << rec.describe();
    EXPECT_TRUE(rec.waitFor([&](const Signal& s) { return s.isRemoved(ep.endpoint); }))
        << rec.describe();
}

} // namespace
} // namespace itest
