// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// drivers/rpmsg/rpmsg_core.c (Linux 6.6): the rpmsg bus devices (rpmsg_register_device,
// rpmsg_unregister_device) with their attributes `name`, `src`, `dst`, `announce`, `modalias`
// and `driver_override`, named virtioK.NAME.SRC.DST. The bus driver a device is bound to is
// given by its kind; 5.15 names the ctrl device's driver rpmsg_chrdev.

#include "kernel_model_impl.h"

#include <algorithm>
#include <cerrno>

namespace rpmsgsim {

namespace {

std::string sanitizeDevName(std::string name) {
    // kobject names cannot hold '/': the driver core turns it into '!'.
    std::replace(name.begin(), name.end(), '/', '!');
    return name;
}

} // namespace

std::shared_ptr<BusDevice>
Simulator::Impl::addBusDevice(const std::shared_ptr<Vdev>& v, BusDevice::Kind kind,
                              const std::string& name, uint32_t src, uint32_t dst,
                              const std::string& driverOverride, bool announce) {
    auto b = std::make_shared<BusDevice>();
    b->kind = kind;
    b->name = name;
    b->src = src;
    b->dst = dst;
    b->announce = announce;
    b->driverOverride = driverOverride;
    b->devName = sanitizeDevName("virtio" + std::to_string(v->virtioIndex) + "." + name + "." +
                                 signedDec(src) + "." + signedDec(dst));
    b->dir = vfs.dir(v->virtioDir, b->devName);
    b->info = {"rpmsg", {{"MODALIAS", "rpmsg:" + name}}};
    std::weak_ptr<BusDevice> weak = b;
    roAttrOf(weak, b->dir, "name", [](const BusDevice& sb) { return sb.name + "\n"; });
    roAttrOf(weak, b->dir, "src", [](const BusDevice& sb) { return hex(sb.src) + "\n"; });
    roAttrOf(weak, b->dir, "dst", [](const BusDevice& sb) { return hex(sb.dst) + "\n"; });
    roAttr(b->dir, "announce", [weak] {
        auto sb = weak.lock();
        return std::string(sb && sb->announce ? "true\n" : "false\n");
    });
    roAttrOf(weak, b->dir, "modalias",
             [](const BusDevice& sb) { return "rpmsg:" + sb.name + "\n"; });
    vfs.attr(b->dir, "driver_override", 0644,
             AttrOps{.show =
                         [weak] {
                             auto sb = weak.lock();
                             if (!sb) {
                                 return std::string();
                             }
                             return (sb->driverOverride.empty() ? std::string("(null)")
                                                                : sb->driverOverride) +
                                    "\n";
                         },
                     .store = [weak](std::string_view buf) -> long {
                         auto sb = weak.lock();
                         if (!sb) {
                             return -ENODEV;
                         }
                         // driver_set_override: cut at the first newline; empty clears. It does
                         // not rebind (docs/kernel-abi.md §5).
                         std::string s(buf.substr(0, buf.find('\0')));
                         s = s.substr(0, s.find('\n'));
                         sb->driverOverride = s;
                         return long(buf.size());
                     }});
    deviceFiles(b->dir, "/sys/bus/rpmsg", std::make_shared<DeviceInfo>(b->info));
    const char* driver = kind == BusDevice::Ctrl ? profile.ctrlBusName.c_str()
                         : kind == BusDevice::Ns ? "rpmsg_ns"
                                                 : nullptr;
    if (driver) {
        vfs.symlink(b->dir, "driver", "/sys/bus/rpmsg/drivers/" + std::string(driver));
    }
    b->busLink = vfs.symlink(sysBusRpmsgDevices, b->devName, b->dir->path());
    v->busDevices.push_back(b);
    emit("add", b->dir, b->info);
    return b;
}

void Simulator::Impl::removeBusDevice(const std::shared_ptr<Vdev>& v,
                                      const std::shared_ptr<BusDevice>& b) {
    if (b->rawEptdev) {
        destroyEptdev(b->rawEptdev);
        b->rawEptdev.reset();
    }
    if (b->tty) {
        ttyRemove(b);
    }
    emit("remove", b->dir, b->info);
    vfs.remove(b->busLink);
    vfs.remove(b->dir);
    v->busDevices.erase(std::remove(v->busDevices.begin(), v->busDevices.end(), b),
                        v->busDevices.end());
}

} // namespace rpmsgsim
