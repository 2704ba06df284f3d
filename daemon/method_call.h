// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// How every D-Bus method handler of rpmsgd is written (docs/architecture.md, "A method call"):
//
//   1. read the arguments (the handler's parameters, and the object it runs on),
//   2. validate them, quoting a bad value (validation.h),
//   3. authorise: identify the caller and ask the policy (DbusService::authorise),
//   4. call the domain (the registry),
//   5. reply.
//
// A MethodCall carries the pending answer from step to step; a step that throws ends the call
// with the matching D-Bus error, because sdbus-c++ 1.2 terminates the daemon on any other
// exception escaping a handler. Step 3 takes the rest of the handler as a continuation: the
// caller's credentials are asked of the bus asynchronously (Callers), so every method that has
// an authorise step is declared org.freedesktop.DBus.Method.Async in its XML. A call also holds
// its client's place in limits.calls_per_client until it is answered or dropped.

#include <exception>
#include <functional>
#include <memory>
#include <utility>

#include <sdbus-c++/Error.h>
#include <sdbus-c++/MethodResult.h>

namespace rpmsgd {

/// @brief The D-Bus error for any exception: an sdbus::Error as it is, an rpmsgd::Error by its
///        code (dbus/errors.h), anything else Internal (and logged as a bug).
sdbus::Error toDbusError(std::exception_ptr error) noexcept;

/// @brief Runs a property getter or a read-only method (no authorise step: anyone may look);
///        every exception becomes a D-Bus error.
template <typename Fn>
auto guarded(Fn&& fn) -> decltype(fn()) {
    try {
        return fn();
    } catch (...) {
        throw toDbusError(std::current_exception());
    }
}

/// @brief One method call being handled: where its answer goes. Answered at most once; later
///        answers are dropped.
template <typename... Results>
class MethodCall : public std::enable_shared_from_this<MethodCall<Results...>> {
public:
    using Ptr = std::shared_ptr<MethodCall>;
    using Reply = std::function<void(const Results&...)>;
    using Fail = std::function<void(const sdbus::Error&)>;

    MethodCall(Reply reply, Fail fail) : reply_(std::move(reply)), fail_(std::move(fail)) {}

    /// @brief A call of a method the XML declares asynchronous
    ///        (org.freedesktop.DBus.Method.Async): answered through @p result, whenever.
    static Ptr async(sdbus::Result<Results...>&& result) {
        auto shared = std::make_shared<sdbus::Result<Results...>>(std::move(result));
        return std::make_shared<MethodCall>(
            [shared](const Results&... r) { shared->returnResults(r...); },
            [shared](const sdbus::Error& e) { shared->returnError(e); });
    }

    /// @brief Runs one step of the handler; what it throws fails the call.
    template <typename Fn>
    void step(Fn&& fn) noexcept {
        if (answered_) {
            return;
        }
        try {
            fn();
        } catch (...) {
            fail(std::current_exception());
        }
    }

    void reply(const Results&... results) {
        if (answered_) {
            return;
        }
        answered_ = true;
        Reply reply = std::move(reply_);
        fail_ = nullptr;
        token_.reset();
        reply(results...);
    }

    void fail(std::exception_ptr error) noexcept {
        if (answered_) {
            return;
        }
        answered_ = true;
        Fail fail = std::move(fail_);
        reply_ = nullptr;
        token_.reset();
        try {
            fail(toDbusError(error));
        } catch (...) {
            // The reply could not be sent (the connection is gone): nothing left to tell.
        }
    }

    bool answered() const { return answered_; }

    /// @brief Keeps @p token until the call is answered (or destroyed unanswered): the caller's
    ///        place among its calls in flight (Callers::admit).
    void hold(std::shared_ptr<void> token) { token_ = std::move(token); }

    /// @brief A completion for the registry's asynchronous calls (Registry::Done): replies when
    ///        it reports no error, fails with the error otherwise.
    std::function<void(std::exception_ptr)> done()
        requires(sizeof...(Results) == 0)
    {
        return [self = this->shared_from_this()](std::exception_ptr error) {
            if (error) {
                self->fail(error);
            } else {
                self->step([&] { self->reply(); });
            }
        };
    }

private:
    Reply reply_;
    Fail fail_;
    bool answered_ = false;
    std::shared_ptr<void> token_;
};

} // namespace rpmsgd
