// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// rpmsgd's events in your own poll loop: wait until a remote core announces rpmsg-echo (for
// instance after `rpmsgctl start cm4`), printing what happens meanwhile; then talk to it.
// Build: g++ -std=c++20 watch.cpp $(pkg-config --cflags --libs rpmsgd-client)
#include <iostream>
#include <poll.h>
#include <rpmsgd/client.h>

int main() try {
    using namespace std::chrono_literals;
    namespace rc = rpmsgd::client;
    rc::Client client;
    bool up = false;
    client.onEvent([&](const rc::Event& e) {
        std::cout << rc::eventTypeName(e.type) << " " << e.processor << " " << e.channel << e.value
                  << std::endl;
        up = up || (e.type == rc::Event::Type::ChannelAdded && e.channel == "rpmsg-echo");
    });
    std::cout << "watching" << std::endl;
    while (!up) {
        const rc::PollFd bus = client.pollFd(); // your loop would add its own fds here
        pollfd fd{bus.fd, bus.events, 0};
        ::poll(&fd, 1, bus.timeoutMs);
        client.process(); // runs the handler for whatever arrived
    }
    auto ep = client.openChannel("rpmsg-echo", "", 5s);
    ep.send("hello, new core");
    std::cout << ep.receive(5s) << std::endl;
} catch (const rpmsgd::client::Error& e) {
    std::cerr << rpmsgd::client::errorCodeName(e.code()) << ": " << e.what() << "\n";
    return 1;
}
