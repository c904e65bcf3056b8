/*
 * webhook.h: delivering webhooks, for `eventbox mailer`.
 *
 * Each delivery is a 'webhook' row of eventbox.outbox, queued by the rules
 * (sql/rules/82_webhooks.sql) in the transaction that made the change.
 * webhook_send_one() claims the next due one (a webhook whose receiver
 * was slow or failed last time yields to the others), POSTs its JSON
 * body over HTTPS with libcurl, signed as the Standard Webhooks
 * specification says
 * (webhook-id, webhook-timestamp, webhook-signature: v1,<base64 of
 * HMAC-SHA256 over "id.timestamp.body" keyed with the secret's bytes>),
 * and marks it delivered (any 2xx) or failed (anything else, or no answer
 * within EVENTBOX_WEBHOOK_TIMEOUT_MS), all in one transaction.  Once a
 * stop is asked (SIGTERM, SIGINT), a receiver has 2 s more to answer:
 * then the transaction is rolled back, the delivery still due.
 *
 * webhook_open() and webhook_close() bracket a mailer's life (one curl
 * handle, connections kept between deliveries).
 */
#ifndef EVENTBOX_WEBHOOK_H
#define EVENTBOX_WEBHOOK_H

#include <stddef.h>

struct sockaddr;

/* 44 characters of base64 and a NUL */
#define WEBHOOK_SIG_LEN	45

/* 0, or -1 with *errstr saying why (static text): EVENTBOX_WEBHOOK_CA names
 * a file this process cannot read, or libcurl cannot start. */
int	 webhook_open(const char **errstr);
void	 webhook_close(void);
/* 1: one delivery was handled (delivered or failed), 0: none is due, or
 * a stop cut the one in flight short (left pending), -1: the database
 * went away (the session is closed). */
int	 webhook_send_one(void);
/* The v1 signature (base64, into sig) of "id.timestamp.body" under secret
 * ("whsec_" and the base64 of the key); -1 when the secret is malformed. */
int	 webhook_sign(const char *secret, const char *id, const char *timestamp,
	    const char *body, size_t len, char sig[WEBHOOK_SIG_LEN]);
/* 1 when a receiver may be reached at this address without
 * EVENTBOX_WEBHOOK_ALLOW_PRIVATE: a public unicast IPv4 or IPv6 address,
 * not loopback, private, link-local (cloud metadata), shared, reserved,
 * documentation or multicast, nor such an IPv4 address inside IPv6; an
 * IPv6 address outside 2000::/3 only as a mapped, 64:ff9b::/96 NAT64 or
 * 6to4 form of a public IPv4 address. */
int	 webhook_address_public(const struct sockaddr *);

#endif
