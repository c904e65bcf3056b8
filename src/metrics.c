/*
 * metrics.c: per-process counter slots in shared memory (see metrics.h).
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "log.h"
#include "metrics.h"

/* Statuses the service answers (each of http_reason()'s, src/http.c);
 * anything else is counted as "other". */
static const int statuses[] = {
	200, 201, 202, 204, 301, 302, 303, 304, 400, 401, 403, 404, 405, 406, 409,
	410, 411, 413, 414, 415, 422, 429, 500, 503,
};
#define NSTATUS	(sizeof(statuses) / sizeof(statuses[0]) + 1)

/* Upper bounds of the latency buckets, in microseconds (+Inf implied). */
static const long buckets_us[] = {
	250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000,
	500000, 1000000, 2500000,
};
#define NBUCKET	(sizeof(buckets_us) / sizeof(buckets_us[0]) + 1)

/* eventbox.register_answered() outcomes (a held place is "pending"), plus
 * "unavailable" when it could not run. */
static const char *const outcomes[] = {
	"confirmed", "waitlisted", "pending", "full",
	"not_found", "not_published", "event_cancelled", "not_open", "closed",
	"not_eligible", "rate_limited", "invalid_answer", "invalid_name",
	"invalid_email", "invalid_organization", "idempotency_mismatch",
	"unavailable", "other",
};
#define NOUTCOME	(sizeof(outcomes) / sizeof(outcomes[0]))

typedef _Atomic uint64_t counter;

struct slot {
	counter	 requests[METRICS_ROUTES_MAX][NSTATUS];
	counter	 latency[METRICS_ROUTES_MAX][NBUCKET];	/* not cumulative */
	counter	 latency_sum_us[METRICS_ROUTES_MAX];
	counter	 registrations[NOUTCOME];
	counter	 db_reconnects;
	counter	 db_disk_full;
	counter	 worker_restarts;	/* the master's slot only */
};

static struct slot	*slots;		/* nworkers + 1; the master's is last */
static struct slot	*mine;
static int		 nslots;
static uint64_t		 reconnect_base, disk_full_base;

/* One writer per slot: a relaxed load and store, no locked instruction. */
static void
bump(counter *c, uint64_t n)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) +
	    n, memory_order_relaxed);
}

static uint64_t
get(const counter *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

void
metrics_init(int nworkers)
{
	size_t	 len;
	void	*p;

	nslots = nworkers + 1;
	len = sizeof(struct slot) * (size_t)nslots;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
	    -1, 0);
	if (p == MAP_FAILED)
		fatal("mmap metrics");
	slots = p;		/* zero-filled by the kernel */
	mine = &slots[nworkers];
}

void
metrics_attach(int worker_index)
{
	if (slots == NULL || worker_index < 0 || worker_index >= nslots - 1)
		return;
	mine = &slots[worker_index];
	reconnect_base = get(&mine->db_reconnects);
	disk_full_base = get(&mine->db_disk_full);
}

void
metrics_worker_restarted(int count)
{
	if (mine != NULL && count > 0)
		bump(&mine->worker_restarts, (uint64_t)count);
}

void
metrics_request(int route, int status, long usec)
{
	size_t	 s, b;

	if (mine == NULL)
		return;
	/* Index 0 is "no route"; route i is i + 1. */
	if (route < -1 || route + 1 >= METRICS_ROUTES_MAX)
		route = -1;
	for (s = 0; s < NSTATUS - 1; s++)
		if (statuses[s] == status)
			break;
	for (b = 0; b < NBUCKET - 1; b++)
		if (usec <= buckets_us[b])
			break;
	bump(&mine->requests[route + 1][s], 1);
	bump(&mine->latency[route + 1][b], 1);
	bump(&mine->latency_sum_us[route + 1], usec > 0 ? (uint64_t)usec : 0);
}

void
metrics_registration(const char *outcome)
{
	size_t	 i;

	if (mine == NULL)
		return;
	for (i = 0; i < NOUTCOME - 1; i++)
		if (strcmp(outcomes[i], outcome) == 0)
			break;
	bump(&mine->registrations[i], 1);
}

/* A count this process keeps (db.c's), on top of its predecessors' in
 * the slot. */
static void
follow(counter *c, uint64_t base, uint64_t n)
{
	if (base + n != get(c))
		atomic_store_explicit(c, base + n, memory_order_relaxed);
}

/* Connections made by this process beyond its first. */
void
metrics_db_connects(unsigned long connects)
{
	if (mine != NULL)
		follow(&mine->db_reconnects, reconnect_base,
		    connects > 1 ? connects - 1 : 0);
}

void
metrics_db_disk_full(unsigned long refused)
{
	if (mine != NULL)
		follow(&mine->db_disk_full, disk_full_base, refused);
}

static const char *
route_label(int r, const char *const *labels, int nroutes)
{
	return r == 0 || r > nroutes ? "none" : labels[r - 1];
}

/* The sum over all slots of the counter at the same place as *c in slot 0. */
static uint64_t
sum(const counter *c)
{
	const char	*base = (const char *)(const void *)c;
	uint64_t	 t = 0;
	int		 i;

	for (i = 0; i < nslots; i++)
		t += get((const counter *)(const void *)(base +
		    (size_t)i * sizeof(struct slot)));
	return t;
}

#define SUM(field)	sum(&slots[0].field)

static void
render_requests(struct buf *out, const char *const *labels, int nroutes)
{
	uint64_t	 n;
	size_t		 s;
	int		 r;

	buf_adds(out, "# HELP eventbox_http_requests_total Requests answered"
	    " by the workers, by route pattern and status.\n"
	    "# TYPE eventbox_http_requests_total counter\n");
	for (r = 0; r < METRICS_ROUTES_MAX && r <= nroutes; r++)
		for (s = 0; s < NSTATUS; s++) {
			if ((n = SUM(requests[r][s])) == 0)
				continue;
			buf_printf(out, "eventbox_http_requests_total{route=\"%s\","
			    "status=\"", route_label(r, labels, nroutes));
			if (s < NSTATUS - 1)
				buf_printf(out, "%d", statuses[s]);
			else
				buf_adds(out, "other");
			buf_printf(out, "\"} %llu\n", (unsigned long long)n);
		}
}

static void
render_latency(struct buf *out, const char *const *labels, int nroutes)
{
	uint64_t	 n, cum;
	size_t		 b;
	int		 r;
	const char	*label;

	buf_adds(out, "# HELP eventbox_http_request_duration_seconds Time from"
	    " accepting a request to handing the answer to nginx.\n"
	    "# TYPE eventbox_http_request_duration_seconds histogram\n");
	for (r = 0; r < METRICS_ROUTES_MAX && r <= nroutes; r++) {
		cum = 0;
		for (b = 0; b < NBUCKET; b++)
			cum += SUM(latency[r][b]);
		if (cum == 0)
			continue;
		label = route_label(r, labels, nroutes);
		cum = 0;
		for (b = 0; b < NBUCKET; b++) {
			cum += SUM(latency[r][b]);
			buf_printf(out, "eventbox_http_request_duration_seconds_bucket"
			    "{route=\"%s\",le=\"", label);
			if (b < NBUCKET - 1)
				buf_printf(out, "%g", (double)buckets_us[b] / 1e6);
			else
				buf_adds(out, "+Inf");
			buf_printf(out, "\"} %llu\n", (unsigned long long)cum);
		}
		n = SUM(latency_sum_us[r]);
		buf_printf(out, "eventbox_http_request_duration_seconds_sum"
		    "{route=\"%s\"} %.6f\n", label, (double)n / 1e6);
		buf_printf(out, "eventbox_http_request_duration_seconds_count"
		    "{route=\"%s\"} %llu\n", label, (unsigned long long)cum);
	}
}

void
metrics_render(struct buf *out, const char *const *labels, int nroutes)
{
	size_t	 i;

	if (slots == NULL)
		return;
	render_requests(out, labels, nroutes);
	render_latency(out, labels, nroutes);
	buf_adds(out, "# HELP eventbox_registrations_total Registration attempts"
	    " by outcome of eventbox.register().\n"
	    "# TYPE eventbox_registrations_total counter\n");
	for (i = 0; i < NOUTCOME; i++)
		buf_printf(out, "eventbox_registrations_total{outcome=\"%s\"} %llu\n",
		    outcomes[i], (unsigned long long)SUM(registrations[i]));
	buf_printf(out, "# HELP eventbox_db_reconnects_total Database connections"
	    " made by workers beyond their first.\n"
	    "# TYPE eventbox_db_reconnects_total counter\n"
	    "eventbox_db_reconnects_total %llu\n",
	    (unsigned long long)SUM(db_reconnects));
	buf_printf(out, "# HELP eventbox_db_disk_full_total Statements of the"
	    " workers that the database refused for a full disk (53100).\n"
	    "# TYPE eventbox_db_disk_full_total counter\n"
	    "eventbox_db_disk_full_total %llu\n",
	    (unsigned long long)SUM(db_disk_full));
	buf_printf(out, "# HELP eventbox_worker_restarts_total Workers that died"
	    " and were started again by the master.\n"
	    "# TYPE eventbox_worker_restarts_total counter\n"
	    "eventbox_worker_restarts_total %llu\n",
	    (unsigned long long)SUM(worker_restarts));
	buf_printf(out, "# HELP eventbox_workers Worker processes configured.\n"
	    "# TYPE eventbox_workers gauge\neventbox_workers %d\n", nslots - 1);
}
