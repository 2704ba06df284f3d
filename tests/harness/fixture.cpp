// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "fixture.h"

#include <sys/stat.h>

namespace itest {

void DaemonTest::SetUp() {
    EnvOptions options;
    configure(options);
    if (auto reason = skipReason(options.realKernel); !reason.empty()) {
        GTEST_SKIP() << reason;
    }
    env_ = std::make_unique<DaemonEnv>();
    const std::string error = env_->start(options);
    ASSERT_EQ(error, "") << "the environment did not come up\n" << env_->logs();
    if (options.startDaemon) {
        root_ = std::make_unique<Client>();
    }
}

void DaemonTest::TearDown() {
    if (env_ && HasFailure()) {
        std::cerr << env_->logs();
    }
    root_.reset();
}

void DaemonTest::ctlOk(const std::vector<std::string>& args) {
    const std::string e = env().ctl(args);
    EXPECT_EQ(e, "");
}

nlohmann::json DaemonTest::simProcessor(const std::string& id) {
    const nlohmann::json dump = env().sim().dump(); // not a temporary in the range-for
    for (const auto& p : dump["processors"]) {
        if (p["id"] == id) {
            return p;
        }
    }
    return nullptr;
}

bool DaemonTest::existsInMount(const std::string& rel) const {
    struct stat st {};
    return ::lstat(env_->mountPath(rel).c_str(), &st) == 0;
}

std::string DaemonTest::startCm4() {
    std::string path;
    const CallError e = errorOf([&] { path = root().startAndWaitEcho("remoteproc0"); });
    EXPECT_TRUE(e.ok()) << "starting cm4 and waiting for rpmsg-echo: " << e.str();
    return path;
}

bool DaemonTest::objectExists(const std::string& path, const std::string& iface) {
    return errorOf([&] { root().getAll(path, iface); }).ok();
}

} // namespace itest
