// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// The words remoteproc uses for a processor's state, recovery and coredump mode, as typed enums
// with one table each. They are the kernel's words (drivers/remoteproc/remoteproc_sysfs.c:
// rproc_state_string, recovery_show, rproc_coredump_str) and, unchanged, the values of the
// D-Bus properties State, Recovery and Coredump. The daemon, rpmsg-sim, the client library and
// rpmsgctl all use these tables; nothing else spells a state.

#include <array>
#include <optional>
#include <string_view>
#include <utility>

namespace rpmsgd {

/// @brief A remote processor's state (the kernel's `state` attribute).
enum class ProcessorState {
    Offline,   ///< powered off
    Suspended, ///< suspended
    Running,   ///< booted by Linux
    Crashed,   ///< crashed, not yet recovered
    Deleted,   ///< being removed
    Attached,  ///< running, booted by someone else (or a transport without remoteproc)
    Detached,  ///< running, but Linux let go of it
    Invalid,   ///< any word the kernel has not defined
};

/// @brief Kernel recovery of a crashed processor (the `recovery` attribute).
enum class RecoveryMode {
    Enabled,  ///< the kernel restarts a crashed processor
    Disabled, ///< a crashed processor stays crashed
};

/// @brief What the kernel does with a crashed processor's memory (the `coredump` attribute).
enum class CoredumpMode {
    Disabled, ///< no dump
    Enabled,  ///< a copy is offered through devcoredump; recovery goes on
    Inline,   ///< devcoredump reads the memory in place; recovery waits until it is read
};

namespace detail {

template <typename Enum, std::size_t N>
using WordTable = std::array<std::pair<Enum, std::string_view>, N>;

template <typename Enum, std::size_t N>
constexpr std::string_view wordOf(const WordTable<Enum, N>& table, Enum value) {
    for (const auto& [v, word] : table) {
        if (v == value) {
            return word;
        }
    }
    return {};
}

template <typename Enum, std::size_t N>
constexpr std::optional<Enum> valueOf(const WordTable<Enum, N>& table, std::string_view word) {
    for (const auto& [v, w] : table) {
        if (w == word) {
            return v;
        }
    }
    return std::nullopt;
}

inline constexpr WordTable<ProcessorState, 8> processorStateWords = {{
    {ProcessorState::Offline, "offline"},
    {ProcessorState::Suspended, "suspended"},
    {ProcessorState::Running, "running"},
    {ProcessorState::Crashed, "crashed"},
    {ProcessorState::Deleted, "deleted"},
    {ProcessorState::Attached, "attached"},
    {ProcessorState::Detached, "detached"},
    {ProcessorState::Invalid, "invalid"},
}};

inline constexpr WordTable<RecoveryMode, 2> recoveryWords = {{
    {RecoveryMode::Enabled, "enabled"},
    {RecoveryMode::Disabled, "disabled"},
}};

inline constexpr WordTable<CoredumpMode, 3> coredumpWords = {{
    {CoredumpMode::Disabled, "disabled"},
    {CoredumpMode::Enabled, "enabled"},
    {CoredumpMode::Inline, "inline"},
}};

} // namespace detail

/// @brief The kernel's word for a state, e.g. "running".
constexpr std::string_view toString(ProcessorState s) {
    return detail::wordOf(detail::processorStateWords, s);
}
/// @brief The kernel's word for a recovery mode: "enabled" or "disabled".
constexpr std::string_view toString(RecoveryMode m) {
    return detail::wordOf(detail::recoveryWords, m);
}
/// @brief The kernel's word for a coredump mode: "disabled", "enabled" or "inline".
constexpr std::string_view toString(CoredumpMode m) {
    return detail::wordOf(detail::coredumpWords, m);
}

/// @brief The word of a mode that may be absent; "" when it is (a kernel without the attribute).
template <typename Mode>
constexpr std::string_view toString(const std::optional<Mode>& m) {
    return m ? toString(*m) : std::string_view();
}

/// @brief The state a kernel word names; nullopt for a word the kernel does not use.
constexpr std::optional<ProcessorState> processorStateFromString(std::string_view word) {
    return detail::valueOf(detail::processorStateWords, word);
}
/// @brief The recovery mode a word names; nullopt for anything else.
constexpr std::optional<RecoveryMode> recoveryModeFromString(std::string_view word) {
    return detail::valueOf(detail::recoveryWords, word);
}
/// @brief The coredump mode a word names; nullopt for anything else.
constexpr std::optional<CoredumpMode> coredumpModeFromString(std::string_view word) {
    return detail::valueOf(detail::coredumpWords, word);
}

namespace detail {
template <typename Enum, std::size_t N>
constexpr std::array<Enum, N> valuesOf(const WordTable<Enum, N>& table) {
    std::array<Enum, N> out{};
    for (std::size_t i = 0; i < N; ++i) {
        out[i] = table[i].first;
    }
    return out;
}
} // namespace detail

/// @brief Every value of each enum in table order (for iteration, messages that list the
///        words, and round-trip tests).
inline constexpr auto allProcessorStates = detail::valuesOf(detail::processorStateWords);
inline constexpr auto allRecoveryModes = detail::valuesOf(detail::recoveryWords);
inline constexpr auto allCoredumpModes = detail::valuesOf(detail::coredumpWords);

/// @brief True when Linux drives a live remote (running, or attached to one booted elsewhere):
///        a `start` then would only take a second power reference. A detached processor is
///        not up: `start` attaches to it again.
constexpr bool isUp(ProcessorState s) {
    return s == ProcessorState::Running || s == ProcessorState::Attached;
}

static_assert(processorStateFromString(toString(ProcessorState::Crashed)) ==
              ProcessorState::Crashed);
static_assert(coredumpModeFromString("inline") == CoredumpMode::Inline);

} // namespace rpmsgd
