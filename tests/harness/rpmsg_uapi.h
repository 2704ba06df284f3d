// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#pragma once
// The rpmsg uapi as the tests use it: the installed <linux/rpmsg.h>, plus the 6.6 flow-control
// ioctls when the installed header predates them (values from docs/kernel-abi.md §6.2).

#include <linux/ioctl.h>
#include <linux/rpmsg.h>

#ifndef RPMSG_ADDR_ANY
#define RPMSG_ADDR_ANY 0xFFFFFFFF
#endif
#ifndef RPMSG_CREATE_DEV_IOCTL
#define RPMSG_CREATE_DEV_IOCTL _IOW(0xb5, 0x3, struct rpmsg_endpoint_info)
#endif
#ifndef RPMSG_RELEASE_DEV_IOCTL
#define RPMSG_RELEASE_DEV_IOCTL _IOW(0xb5, 0x4, struct rpmsg_endpoint_info)
#endif
#ifndef RPMSG_GET_OUTGOING_FLOWCONTROL
#define RPMSG_GET_OUTGOING_FLOWCONTROL _IOR(0xb5, 0x5, int)
#endif
#ifndef RPMSG_SET_INCOMING_FLOWCONTROL
#define RPMSG_SET_INCOMING_FLOWCONTROL _IOR(0xb5, 0x6, int)
#endif

static_assert(sizeof(struct rpmsg_endpoint_info) == 40);
static_assert(RPMSG_CREATE_EPT_IOCTL == 0x4028B501);
static_assert(RPMSG_DESTROY_EPT_IOCTL == 0xB502);
static_assert(RPMSG_CREATE_DEV_IOCTL == 0x4028B503);
static_assert(RPMSG_RELEASE_DEV_IOCTL == 0x4028B504);
static_assert(RPMSG_GET_OUTGOING_FLOWCONTROL == 0x8004B505);
static_assert(RPMSG_SET_INCOMING_FLOWCONTROL == 0x8004B506);
