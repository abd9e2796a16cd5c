/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Ethernet interfaces for wasm drivers (netdev.c), used by the Rust glue
 * (framework/kmod/devices/netdev.rs, which declares the same functions).
 */
#ifndef CERVUS_NETDEV_H
#define CERVUS_NETDEV_H

#include <linux/device.h>
#include <linux/types.h>

/* cervus_netdev_notify() reasons. */
#define CERVUS_NETDEV_STATE 1 /* brought up or down */
#define CERVUS_NETDEV_TX 2    /* frames queued for transmission */

struct cervus_netdev;

/* Creates and registers an interface named after @pattern ("eth%d").
 * @owner is passed back to cervus_netdev_notify(); it must outlive the
 * interface. Returns an ERR_PTR on failure. Takes RTNL. */
struct cervus_netdev *cervus_netdev_create(void *owner, struct device *parent, const char *pattern,
					   const u8 *mac, unsigned int mtu, const char *driver);
/* Unregisters and frees it. Takes RTNL. */
void cervus_netdev_destroy(struct cervus_netdev *nd);
const char *cervus_netdev_name(const struct cervus_netdev *nd);
bool cervus_netdev_mac_is(const struct cervus_netdev *nd, const u8 *mac);
bool cervus_netdev_running(const struct cervus_netdev *nd);
/* Whether frames wait for the driver. */
bool cervus_netdev_tx_pending(const struct cervus_netdev *nd);
void cervus_netdev_set_carrier(struct cervus_netdev *nd, bool up);
/* The carrier the driver last asked for (held during a pause). */
bool cervus_netdev_link(const struct cervus_netdev *nd);
/* A hot swap begins: the queue stops, carrier changes are held. */
void cervus_netdev_pause(struct cervus_netdev *nd);
/* It ends: the held carrier applies, the queue restarts. */
void cervus_netdev_resume(struct cervus_netdev *nd);
/* Whether a driver instance is attached: detached (the driver stopped),
 * frames are dropped, the queue is stopped and the carrier is off (the
 * interface itself stays). */
void cervus_netdev_attach(struct cervus_netdev *nd, bool attached);
/* Copies a received frame into a socket buffer for the stack; false if it
 * was dropped (interface down or detached, no memory). */
bool cervus_netdev_rx(struct cervus_netdev *nd, const void *frame, unsigned int len);
/* Hands the frames received so far to GRO and the stack (runs the
 * interface's NAPI poll). */
void cervus_netdev_rx_flush(struct cervus_netdev *nd);
/* Copies the next queued frame into @slot (at most @cap bytes, longer ones
 * are dropped); its length, or 0 if none is queued. From a task, with
 * bottom halves enabled: the softirq work that freeing the frame schedules
 * runs before it returns. */
long cervus_netdev_tx(struct cervus_netdev *nd, void *slot, unsigned int cap);

/* Implemented in Rust: @what (CERVUS_NETDEV_*) happened to the interface
 * of @owner. Any context. */
void cervus_netdev_notify(void *owner, unsigned int what);

#endif
