/*
 * smtp.h: handing one message to an SMTP server with libcurl.
 *
 * EVENTBOX_SMTP_URL selects the server and the security:
 *   smtp://host[:port]                 plain (a relay on the host or LAN)
 *   smtp://user:pass@host:587/?starttls  STARTTLS required, then AUTH
 *   smtps://user:pass@host:465         TLS from the first byte
 * The "?starttls" query is ours and is removed before libcurl sees the URL;
 * a path ("smtp://host/mail.example.org") names the EHLO domain.  User and
 * password are percent-encoded as in any URL.  Over TLS the relay's
 * certificate must be valid for its host name, from a CA of the system's
 * store or, with EVENTBOX_SMTP_CA, of that file (a relay with a private
 * CA).
 *
 * smtp_open() and smtp_close() bracket a mailer's life: the connection is
 * kept between messages.  smtp_open() refuses a URL that could never work
 * (not one of the forms above, no host, a port outside 1-65535), or one that
 * would send a user and password unencrypted to another machine (smtp://
 * with them, without "?starttls"): -1, and *errstr says why (static
 * text).  `ca` is a file of CA certificates to trust instead of the
 * system's (empty: the system's), kept by the caller, checked by it.  smtp_send() says whether the server accepted the message and,
 * when not, whether trying again later may help, and whether
 * the refusal was the message's (an answer to its RCPT TO, DATA or text)
 * or the relay's (SMTP_RELAY); err gets a short reason with no address in
 * it ("smtp 451", "Couldn't connect to server").
 */
#ifndef EVENTBOX_SMTP_H
#define EVENTBOX_SMTP_H

#include <stddef.h>

/* The longest one message may take, connection included: a relay that
 * hangs is marked down (SMTP_RELAY: the mail pauses, mailer.c) rather
 * than holding the mailer,
 * and a stop waits at most this long for the message in flight (then its
 * mark, EVENTBOX_MAIL_STATEMENT_TIMEOUT_MS at most), inside the unit's
 * TimeoutStopSec=70 (deploy/eventbox-mailer.service). */
#define SMTP_TIMEOUT_S	30

enum smtp_result {
	SMTP_SENT,
	SMTP_TEMPORARY,	/* 4xx to RCPT TO, DATA or the message, or no
			 * answer once its whole text went (it may have
			 * arrived): later */
	SMTP_PERMANENT,	/* 5xx to them: the server refused it */
	SMTP_RELAY	/* the relay itself takes no mail: no connection, no
			 * answer (a timeout, a connection lost) before the
			 * text's end, a 421, or a refusal before RCPT TO;
			 * nothing of this message */
};

int		 smtp_open(const char *url, const char *ca, const char **errstr);
void		 smtp_close(void);
enum smtp_result smtp_send(const char *from, const char *rcpt,
		    const char *msg, size_t len, char *err, size_t errsz);

#endif
