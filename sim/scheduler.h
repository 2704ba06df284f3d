#pragma once
// The simulator uses the project's single-threaded scheduler (common/scheduler.h).

#include "common/scheduler.h"

namespace rpmsgsim {
using rpmsgd::Scheduler;
using rpmsgd::Timer;
} // namespace rpmsgsim
