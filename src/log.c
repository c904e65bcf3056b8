/*
 * log.c: process logging (see log.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static const char	*log_role = "eventbox";
static const char	*log_path;	/* NULL: stderr only */

/* Points fd 2 at the log file, so libraries' own stderr output lands there
 * too.  0, or -1 (errno set) with fd 2 as it was. */
static int
log_open(void)
{
	int	 fd, rc = 0;

	if ((fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0640)) == -1)
		return -1;
	if (dup2(fd, STDERR_FILENO) == -1)
		rc = -1;
	close(fd);
	return rc;
}

void
log_init(const char *role, const char *path)
{
	log_role = role;
	log_path = (path != NULL && *path != '\0') ? path : NULL;
	/* Logging to stderr for good instead would leave the file that the
	 * sysadmin reads empty. */
	if (log_path != NULL && log_open() == -1)
		fatal("EVENTBOX_LOG_FILE %s", log_path);
}

void
log_set_role(const char *role)
{
	log_role = role;
}

/* A running process keeps logging where it did when the new file cannot be
 * opened: to the old file, renamed. */
void
log_reopen(void)
{
	if (log_path != NULL && log_open() == -1)
		log_warn("EVENTBOX_LOG_FILE %s: reopening (logging on to the "
		    "file open before)", log_path);
}

/* One line per event: libpq's messages run over several ("...: No such
 * file or directory\n\tIs the server running locally...?\n"), and a
 * continuation line would reach the journal or a grep without the time,
 * role or pid.  Each line break, with the indentation after it, becomes
 * one space; those at the end go. */
static void
fold_lines(char *s)
{
	char	*r, *w;

	for (r = w = s; *r != '\0'; r++) {
		if (*r != '\n' && *r != '\r') {
			*w++ = *r;
			continue;
		}
		while (r[1] == '\n' || r[1] == '\r' || r[1] == '\t' ||
		    r[1] == ' ')
			r++;
		if (r[1] != '\0')
			*w++ = ' ';
	}
	while (w > s && w[-1] == ' ')
		w--;
	*w = '\0';
}

static void
vlog(const char *level, int errnum, const char *fmt, va_list ap)
{
	char		 msg[1024], stamp[32];
	struct timespec	 ts;
	struct tm	 tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	fold_lines(msg);
	if (errnum != 0)
		fprintf(stderr, "%s.%03ldZ %s[%ld] %s: %s: %s\n", stamp,
		    ts.tv_nsec / 1000000, log_role, (long)getpid(), level,
		    msg, strerror(errnum));
	else
		fprintf(stderr, "%s.%03ldZ %s[%ld] %s: %s\n", stamp,
		    ts.tv_nsec / 1000000, log_role, (long)getpid(), level, msg);
	fflush(stderr);
}

void
log_info(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog("info", 0, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog("warning", 0, fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list	 ap;
	int	 e = errno;

	va_start(ap, fmt);
	vlog("warning", e, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	 ap;
	int	 e = errno;

	va_start(ap, fmt);
	vlog("fatal", e, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog("fatal", 0, fmt, ap);
	va_end(ap);
	exit(1);
}
