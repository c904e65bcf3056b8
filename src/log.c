/*
 * log.c: process logging (see log.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static const char	*log_role = "eventbox";
static const char	*log_path;	/* NULL: stderr only */
/* Lines that could not be written (a full disk, a file past the size
 * limit) since the last one that was, why, and whether that write stopped
 * mid-line: the next line that can be written says so first. */
static unsigned long	 lost;
static int		 lost_errno;
static int		 torn;

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
	struct sigaction	 sa;

	/* A file past RLIMIT_FSIZE: the write fails (EFBIG, a lost line),
	 * instead of SIGXFSZ ending the process. */
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGXFSZ, &sa, NULL);
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

/* All of s to stderr, or -1 (errno set; torn once part of it went). */
static int
write_all(const char *s, size_t n)
{
	ssize_t	 w;
	size_t	 left = n;

	while (left > 0) {
		if ((w = write(STDERR_FILENO, s, left)) == -1) {
			if (errno == EINTR)
				continue;
			if (left < n)
				torn = 1;
			return -1;
		}
		s += w;
		left -= (size_t)w;
	}
	return 0;
}

/*
 * A line that cannot be written (the disk is full, the file is past its
 * size limit) is lost, never waited for: a worker answers its patron, the
 * mailer marks its message, all the same.  The next line that can be
 * written is preceded by one that says how many were lost and why.
 */
static void
vlog(const char *level, int errnum, const char *fmt, va_list ap)
{
	char		 msg[1024], stamp[96], line[1400], note[200];
	struct timespec	 ts;
	struct tm	 tm;
	size_t		 len;
	int		 n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(stamp + strlen(stamp), sizeof(stamp) - strlen(stamp),
	    ".%03ldZ %s[%ld]", ts.tv_nsec / 1000000, log_role, (long)getpid());
	vsnprintf(msg, sizeof(msg), fmt, ap);
	fold_lines(msg);
	n = snprintf(line, sizeof(line), "%s %s: %s%s%s\n", stamp, level, msg,
	    errnum != 0 ? ": " : "", errnum != 0 ? strerror(errnum) : "");
	len = n < 0 ? 0 : (size_t)n < sizeof(line) ? (size_t)n :
	    sizeof(line) - 1;
	if (len > 0 && line[len - 1] != '\n')
		line[len - 1] = '\n';
	if (lost > 0) {
		n = snprintf(note, sizeof(note), "%s%s warning: %lu log "
		    "line%s lost: %s\n", torn ? "\n" : "", stamp, lost,
		    lost == 1 ? "" : "s", strerror(lost_errno));
		if (n < 0 || write_all(note, strlen(note)) == -1) {
			lost++;
			lost_errno = errno;
			return;
		}
		lost = 0;
		torn = 0;
	}
	if (write_all(line, len) == -1) {
		lost++;
		lost_errno = errno;
	}
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
