/*
 * smtp_sink.c: the mail phase's second SMTP server in `make bench`.  The
 * least an SMTP server can do per message: answer the dialogue libcurl
 * holds (EHLO, MAIL, RCPT, DATA, the text, RSET, NOOP, QUIT) and keep
 * nothing.  The mail phase measures POSTs while the mailer drains its
 * queue twice: to deploy/mailsink.py (make run's sink, one Python process
 * writing a file per message, ~2.4 ms of CPU a message on these cores) and
 * to this, so that the second ratio is the mailer's own cost beside the
 * registrations, as with a relay on another host, not the sink's.
 *
 *   smtp_sink PORT         (listens on 127.0.0.1; a process per connection)
 *
 * Counts the messages it accepted on stderr when a connection ends.  Stops
 * on SIGTERM.  Not part of the product.
 */
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

struct conn {
	int	 fd;
	char	 buf[16384];
	size_t	 len, off;
};

/* The next line, its CRLF cut off, or NULL when the client went away. */
static char *
next_line(struct conn *c)
{
	char	*nl;
	ssize_t	 n;

	for (;;) {
		nl = memchr(c->buf + c->off, '\n', c->len - c->off);
		if (nl != NULL) {
			char *line = c->buf + c->off;

			c->off = (size_t)(nl - c->buf) + 1;
			*nl = '\0';
			if (nl > line && nl[-1] == '\r')
				nl[-1] = '\0';
			return line;
		}
		if (c->off > 0) {		/* keep the partial line */
			memmove(c->buf, c->buf + c->off, c->len - c->off);
			c->len -= c->off;
			c->off = 0;
		}
		if (c->len == sizeof(c->buf))	/* a line too long: drop it */
			c->len = 0;
		n = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
		if (n <= 0)
			return NULL;
		c->len += (size_t)n;
	}
}

static int
say(struct conn *c, const char *s)
{
	size_t	 len = strlen(s);

	return write(c->fd, s, len) == (ssize_t)len ? 0 : -1;
}

static void
serve(int fd)
{
	struct conn	 c = { .fd = fd };
	char		*line;
	unsigned long	 kept = 0;
	int		 ok;

	ok = say(&c, "220 smtp_sink ESMTP\r\n") == 0;
	while (ok && (line = next_line(&c)) != NULL) {
		if (strncasecmp(line, "EHLO", 4) == 0)
			ok = say(&c, "250-smtp_sink\r\n250-8BITMIME\r\n"
			    "250 SMTPUTF8\r\n") == 0;
		else if (strncasecmp(line, "HELO", 4) == 0 ||
		    strncasecmp(line, "MAIL", 4) == 0 ||
		    strncasecmp(line, "RCPT", 4) == 0 ||
		    strncasecmp(line, "RSET", 4) == 0 ||
		    strncasecmp(line, "NOOP", 4) == 0)
			ok = say(&c, "250 OK\r\n") == 0;
		else if (strncasecmp(line, "DATA", 4) == 0) {
			ok = say(&c, "354 go ahead\r\n") == 0;
			while (ok && (line = next_line(&c)) != NULL &&
			    strcmp(line, ".") != 0)
				;
			ok = ok && line != NULL &&
			    say(&c, "250 OK kept nothing\r\n") == 0;
			kept += ok;
		} else if (strncasecmp(line, "QUIT", 4) == 0) {
			say(&c, "221 bye\r\n");
			break;
		} else
			ok = say(&c, "502 not here\r\n") == 0;
	}
	fprintf(stderr, "smtp_sink: %lu messages on one connection\n", kept);
	close(fd);
	exit(0);
}

int
main(int argc, char **argv)
{
	struct sockaddr_in	 sin;
	struct sigaction	 sa;
	int			 fd, c, one = 1, port;

	if (argc != 2 || (port = atoi(argv[1])) < 1 || port > 65535) {
		fprintf(stderr, "usage: smtp_sink PORT\n");
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sa.sa_flags = SA_NOCLDWAIT;		/* no zombies to reap */
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, 64) == -1) {
		perror("smtp_sink: socket");
		return 1;
	}
	for (;;) {
		if ((c = accept(fd, NULL, NULL)) == -1)
			continue;
		if (fork() == 0) {
			close(fd);
			serve(c);
		}
		close(c);
	}
}
