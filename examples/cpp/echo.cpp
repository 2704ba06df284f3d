// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// Talk to a remote core from C++ with librpmsgd-client: open a channel, send, receive.
// Build: g++ -std=c++20 echo.cpp $(pkg-config --cflags --libs rpmsgd-client)
#include <iostream>
#include <rpmsgd/client.h>

int main() try {
    using namespace std::chrono_literals;
    rpmsgd::client::Client client;                      // the system bus
    auto ep = client.openChannel("rpmsg-echo", "", 5s); // waits up to 5 s for the channel
    ep.send("hello");                                   // one message (<= ep.mtu() bytes)
    std::cout << ep.receive(5s) << "\n";                // one message back
} catch (const rpmsgd::client::Error& e) {
    std::cerr << rpmsgd::client::errorCodeName(e.code()) << ": " << e.what() << "\n";
    return 1;
}
