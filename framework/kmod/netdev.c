// SPDX-License-Identifier: GPL-2.0
/*
 * Ethernet interfaces for wasm drivers.
 *
 * The kernel's Rust crate has no net_device abstraction and the functions a
 * network driver needs are mostly inline, so the interface itself lives
 * here; the Rust glue (framework/kmod/devices/netdev.rs) owns it and wraps
 * these calls.
 *
 * The data path never runs wasm in the stack's contexts: ndo_start_xmit
 * queues the frame and asks the driver's event worker to run
 * (cervus_netdev_notify); the driver later takes queued frames with
 * cervus_netdev_tx, each copied once into its DMA buffer. Received frames
 * arrive through cervus_netdev_rx, copied once from the driver's DMA buffer
 * into a socket buffer and queued; cervus_netdev_rx_flush then schedules
 * the interface's NAPI context, whose poll hands them to GRO and the stack
 * (in the same task, when bottom halves are re-enabled). Opening and stopping the
 * interface are reported the same way, so that no driver call is made
 * under the RTNL lock (a driver registering its interface holds its own
 * lock and then takes RTNL).
 */

#include <linux/bottom_half.h>
#include <linux/etherdevice.h>
#include <linux/ethtool.h>
#include <linux/netdevice.h>
#include <linux/skbuff.h>

#include "cervus_netdev.h"

/* Frames queued for the driver before the stack is told to wait. */
#define CERVUS_TXQ_MAX 512
/* Received frames waiting for the NAPI poll beyond which more are dropped
 * (the poll was deferred to ksoftirqd and the driver keeps delivering). */
#define CERVUS_RXQ_MAX 1024

struct cervus_netdev {
	struct net_device *dev;
	void *owner;
	struct sk_buff_head txq;
	/* Received frames waiting for the NAPI poll. */
	struct sk_buff_head rxq;
	/* The interface is open and its NAPI context enabled: received frames
	 * are queued. Changed under rxq.lock, so that no frame is queued after
	 * ndo_stop emptied the queue. */
	bool rx_on;
	struct napi_struct napi;
	/* A driver instance is attached: frames are accepted. */
	bool attached;
	/* A hot swap is under way: the queue is stopped and carrier changes
	 * are held (in carrier_wanted) until it ends. */
	bool paused;
	bool carrier_wanted;
	atomic64_t rx_packets, rx_bytes, rx_dropped;
	atomic64_t tx_packets, tx_bytes, tx_dropped;
	char driver[32];
	char bus_info[32];
};

static struct cervus_netdev *priv(struct net_device *dev)
{
	return netdev_priv(dev);
}

static int cervus_poll(struct napi_struct *napi, int budget)
{
	struct cervus_netdev *nd = container_of(napi, struct cervus_netdev, napi);
	struct sk_buff *skb;
	int done = 0;

	while (done < budget && (skb = skb_dequeue(&nd->rxq))) {
		napi_gro_receive(napi, skb);
		done++;
	}
	if (done < budget)
		napi_complete_done(napi, done);
	return done;
}

static void set_rx_on(struct cervus_netdev *nd, bool on)
{
	spin_lock_bh(&nd->rxq.lock);
	WRITE_ONCE(nd->rx_on, on);
	spin_unlock_bh(&nd->rxq.lock);
}

/* Frees the frames of @queue; their number. */
static u32 purge(struct sk_buff_head *queue)
{
	struct sk_buff_head taken;
	u32 n;

	__skb_queue_head_init(&taken);
	spin_lock_bh(&queue->lock);
	skb_queue_splice_init(queue, &taken);
	spin_unlock_bh(&queue->lock);
	n = skb_queue_len(&taken);
	__skb_queue_purge(&taken);
	return n;
}

static int cervus_ndo_open(struct net_device *dev)
{
	struct cervus_netdev *nd = priv(dev);

	napi_enable(&nd->napi);
	set_rx_on(nd, true);
	netif_start_queue(dev);
	cervus_netdev_notify(nd->owner, CERVUS_NETDEV_STATE);
	return 0;
}

static int cervus_ndo_stop(struct net_device *dev)
{
	struct cervus_netdev *nd = priv(dev);

	netif_stop_queue(dev);
	set_rx_on(nd, false);
	napi_disable(&nd->napi);
	atomic64_add(purge(&nd->rxq), &nd->rx_dropped);
	atomic64_add(purge(&nd->txq), &nd->tx_dropped);
	cervus_netdev_notify(nd->owner, CERVUS_NETDEV_STATE);
	return 0;
}

static netdev_tx_t cervus_ndo_start_xmit(struct sk_buff *skb, struct net_device *dev)
{
	struct cervus_netdev *nd = priv(dev);
	bool stopped = false;

	if (!READ_ONCE(nd->attached)) {
		atomic64_inc(&nd->tx_dropped);
		dev_kfree_skb_any(skb);
		return NETDEV_TX_OK;
	}
	skb_queue_tail(&nd->txq, skb);
	if (skb_queue_len_lockless(&nd->txq) >= CERVUS_TXQ_MAX) {
		netif_stop_queue(dev);
		stopped = true;
	}
	/* More frames follow at once (a burst, e.g. a segmented TCP send):
	 * the driver takes them all in one round when the last one is queued
	 * or the queue stops, whichever comes first. */
	if (stopped || !netdev_xmit_more())
		cervus_netdev_notify(nd->owner, CERVUS_NETDEV_TX);
	return NETDEV_TX_OK;
}

static void cervus_ndo_get_stats64(struct net_device *dev, struct rtnl_link_stats64 *stats)
{
	struct cervus_netdev *nd = priv(dev);

	stats->rx_packets = atomic64_read(&nd->rx_packets);
	stats->rx_bytes = atomic64_read(&nd->rx_bytes);
	stats->rx_dropped = atomic64_read(&nd->rx_dropped);
	stats->tx_packets = atomic64_read(&nd->tx_packets);
	stats->tx_bytes = atomic64_read(&nd->tx_bytes);
	stats->tx_dropped = atomic64_read(&nd->tx_dropped);
}

static const struct net_device_ops cervus_netdev_ops = {
	.ndo_open = cervus_ndo_open,
	.ndo_stop = cervus_ndo_stop,
	.ndo_start_xmit = cervus_ndo_start_xmit,
	.ndo_get_stats64 = cervus_ndo_get_stats64,
	.ndo_validate_addr = eth_validate_addr,
};

static void cervus_get_drvinfo(struct net_device *dev, struct ethtool_drvinfo *info)
{
	struct cervus_netdev *nd = priv(dev);

	strscpy(info->driver, "cervus_wasm", sizeof(info->driver));
	strscpy(info->version, nd->driver, sizeof(info->version));
	strscpy(info->bus_info, nd->bus_info, sizeof(info->bus_info));
}

static const struct ethtool_ops cervus_ethtool_ops = {
	.get_drvinfo = cervus_get_drvinfo,
	.get_link = ethtool_op_get_link,
};

struct cervus_netdev *cervus_netdev_create(void *owner, struct device *parent, const char *pattern,
					   const u8 *mac, unsigned int mtu, const char *driver)
{
	struct net_device *dev;
	struct cervus_netdev *nd;
	int err;

	dev = alloc_etherdev(sizeof(*nd));
	if (!dev)
		return ERR_PTR(-ENOMEM);
	nd = priv(dev);
	nd->dev = dev;
	nd->owner = owner;
	skb_queue_head_init(&nd->txq);
	skb_queue_head_init(&nd->rxq);
	netif_napi_add(dev, &nd->napi, cervus_poll);
	strscpy(nd->driver, driver, sizeof(nd->driver));
	strscpy(nd->bus_info, dev_name(parent), sizeof(nd->bus_info));
	SET_NETDEV_DEV(dev, parent);
	strscpy(dev->name, pattern, sizeof(dev->name));
	eth_hw_addr_set(dev, mac);
	dev->mtu = mtu;
	dev->max_mtu = mtu;
	dev->netdev_ops = &cervus_netdev_ops;
	dev->ethtool_ops = &cervus_ethtool_ops;
	netif_carrier_off(dev);
	WRITE_ONCE(nd->attached, true);
	err = register_netdev(dev);
	if (err) {
		netif_napi_del(&nd->napi);
		free_netdev(dev);
		return ERR_PTR(err);
	}
	return nd;
}

void cervus_netdev_destroy(struct cervus_netdev *nd)
{
	struct net_device *dev = nd->dev;

	WRITE_ONCE(nd->attached, false);
	/* Closes the interface first (ndo_stop empties both queues). */
	unregister_netdev(dev);
	netif_napi_del(&nd->napi);
	purge(&nd->rxq);
	purge(&nd->txq);
	free_netdev(dev);
}

const char *cervus_netdev_name(const struct cervus_netdev *nd)
{
	return nd->dev->name;
}

bool cervus_netdev_mac_is(const struct cervus_netdev *nd, const u8 *mac)
{
	return ether_addr_equal(nd->dev->dev_addr, mac);
}

bool cervus_netdev_tx_pending(const struct cervus_netdev *nd)
{
	return skb_queue_len_lockless(&nd->txq) != 0;
}

bool cervus_netdev_running(const struct cervus_netdev *nd)
{
	return netif_running(nd->dev);
}

static void apply_carrier(struct cervus_netdev *nd)
{
	if (nd->carrier_wanted)
		netif_carrier_on(nd->dev);
	else
		netif_carrier_off(nd->dev);
}

void cervus_netdev_set_carrier(struct cervus_netdev *nd, bool up)
{
	WRITE_ONCE(nd->carrier_wanted, up);
	if (!READ_ONCE(nd->paused))
		apply_carrier(nd);
}

bool cervus_netdev_link(const struct cervus_netdev *nd)
{
	return READ_ONCE(nd->carrier_wanted);
}

/* Restarts the queue from a task. Waking it raises NET_TX, which from a
 * task with bottom halves enabled would wake ksoftirqd: with them off, the
 * qdisc runs here when they are enabled again, and the frames it held are
 * in txq when this returns. */
static void wake_queue(struct cervus_netdev *nd)
{
	local_bh_disable();
	netif_wake_queue(nd->dev);
	local_bh_enable();
}

void cervus_netdev_pause(struct cervus_netdev *nd)
{
	WRITE_ONCE(nd->paused, true);
	netif_stop_queue(nd->dev);
}

void cervus_netdev_resume(struct cervus_netdev *nd)
{
	WRITE_ONCE(nd->paused, false);
	apply_carrier(nd);
	/* The frames the qdisc held during the pause are for the new
	 * version's first call. */
	if (netif_running(nd->dev) && READ_ONCE(nd->attached))
		wake_queue(nd);
	/* Frames queued before the pause are for the new instance. */
	if (skb_queue_len_lockless(&nd->txq))
		cervus_netdev_notify(nd->owner, CERVUS_NETDEV_TX);
}

void cervus_netdev_attach(struct cervus_netdev *nd, bool attached)
{
	WRITE_ONCE(nd->attached, attached);
	if (attached) {
		if (netif_running(nd->dev) && !READ_ONCE(nd->paused))
			wake_queue(nd);
	} else {
		WRITE_ONCE(nd->paused, false);
		netif_stop_queue(nd->dev);
		WRITE_ONCE(nd->carrier_wanted, false);
		netif_carrier_off(nd->dev);
	}
}

bool cervus_netdev_rx(struct cervus_netdev *nd, const void *frame, unsigned int len)
{
	struct net_device *dev = nd->dev;
	struct sk_buff *skb;
	bool queued = false;

	if (!READ_ONCE(nd->rx_on) || !READ_ONCE(nd->attached) ||
	    skb_queue_len_lockless(&nd->rxq) >= CERVUS_RXQ_MAX)
		goto drop;
	skb = netdev_alloc_skb_ip_align(dev, len);
	if (!skb)
		goto drop;
	skb_put_data(skb, frame, len);
	skb->protocol = eth_type_trans(skb, dev);
	spin_lock_bh(&nd->rxq.lock);
	if (nd->rx_on) {
		__skb_queue_tail(&nd->rxq, skb);
		queued = true;
	}
	spin_unlock_bh(&nd->rxq.lock);
	if (!queued) {
		kfree_skb(skb);
		goto drop;
	}
	atomic64_inc(&nd->rx_packets);
	atomic64_add(len, &nd->rx_bytes);
	return true;
drop:
	atomic64_inc(&nd->rx_dropped);
	return false;
}

void cervus_netdev_rx_flush(struct cervus_netdev *nd)
{
	/* Frames are only queued while rx_on, that is with NAPI enabled. */
	if (!skb_queue_len_lockless(&nd->rxq) || !READ_ONCE(nd->rx_on))
		return;
	/* The poll runs when bottom halves are enabled again: here. */
	local_bh_disable();
	napi_schedule(&nd->napi);
	local_bh_enable();
}

long cervus_netdev_tx(struct cervus_netdev *nd, void *slot, unsigned int cap)
{
	struct net_device *dev = nd->dev;
	struct sk_buff *skb;
	long len = 0;

	/* Freeing a sent frame may schedule the stack's softirq work (TCP's
	 * small-queue tasklet) and waking the queue does (NET_TX): with bottom
	 * halves off, it runs here when they are enabled again, in this task,
	 * instead of waking ksoftirqd (which raising it from a task does). */
	local_bh_disable();
	while ((skb = skb_dequeue(&nd->txq))) {
		if (skb->len > cap || skb_copy_bits(skb, 0, slot, skb->len)) {
			atomic64_inc(&nd->tx_dropped);
			dev_kfree_skb_any(skb);
			continue;
		}
		len = skb->len;
		atomic64_inc(&nd->tx_packets);
		atomic64_add(len, &nd->tx_bytes);
		dev_consume_skb_any(skb);
		if (netif_queue_stopped(dev) && netif_running(dev) && READ_ONCE(nd->attached) &&
		    !READ_ONCE(nd->paused) && skb_queue_len_lockless(&nd->txq) < CERVUS_TXQ_MAX / 2)
			netif_wake_queue(dev);
		break;
	}
	local_bh_enable();
	return len;
}
