/*
 * metrics.h: counters for GET /metrics (Prometheus text format 0.0.4).
 *
 * The master maps one shared anonymous segment before it forks (metrics_init)
 * with a slot per worker index and one for itself.  Each process writes only
 * its own slot, and every value is a monotonically increasing counter with a
 * single writer, so no locks are needed: the reader sums the slots and may
 * at worst see a counter one request old.  A worker restarted by the master
 * takes over its predecessor's slot, so counters never go backwards.
 *
 * Ownership: the segment lives as long as the master; workers inherit it.
 * Without metrics_init (unit tests) every call is a no-op.
 */
#ifndef EVENTBOX_METRICS_H
#define EVENTBOX_METRICS_H

#include "buf.h"

#define METRICS_ROUTES_MAX	64	/* route table entries, plus "none" */

void	 metrics_init(int nworkers);
void	 metrics_attach(int worker_index);
void	 metrics_worker_restarted(int count);
void	 metrics_request(int route, int status, long usec);
void	 metrics_registration(const char *outcome);
void	 metrics_db_connects(unsigned long connects);
void	 metrics_db_disk_full(unsigned long refused);
void	 metrics_render(struct buf *, const char *const *route_labels,
	    int nroutes);

#endif
