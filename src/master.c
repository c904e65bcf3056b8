/*
 * master.c: `eventbox serve`.  Binds the FastCGI socket (a unix path, mode
 * 0660, or host:port), pre-forks EVENTBOX_WORKERS workers, restarts any that
 * die, forwards SIGHUP (log reopen), and on SIGTERM or SIGINT drains: the
 * workers finish the request in hand and exit; after EVENTBOX_DRAIN_SECONDS
 * any left are killed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "i18n.h"
#include "log.h"
#include "metrics.h"
#include "proc.h"
#include "signals.h"
#include "validate.h"

#define LISTEN_BACKLOG	1024

static volatile sig_atomic_t	 got_term, got_hup, got_chld, got_alrm;

static void
on_signal(int sig)
{
	switch (sig) {
	case SIGHUP:
		got_hup = 1;
		break;
	case SIGCHLD:
		got_chld = 1;
		break;
	case SIGALRM:
		got_alrm = 1;
		break;
	default:
		got_term = 1;
		break;
	}
}

static int
is_unix_path(const char *listen)
{
	return listen[0] == '/' || listen[0] == '.' || strchr(listen, ':') == NULL;
}

/* A socket file left by a crash is removed; a live one means we're twice. */
static void
clear_stale_socket(const struct sockaddr_un *sun)
{
	struct stat	 st;
	int		 fd;

	if (stat(sun->sun_path, &st) == -1)
		return;
	if (!S_ISSOCK(st.st_mode))
		fatalx("%s exists and is not a socket", sun->sun_path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		fatal("socket");
	if (connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0)
		fatalx("%s: another eventbox is already listening there",
		    sun->sun_path);
	close(fd);
	if (unlink(sun->sun_path) == -1)
		fatal("unlink %s", sun->sun_path);
}

static int
listen_unix(const char *path)
{
	struct sockaddr_un	 sun;
	mode_t			 old;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		fatalx("EVENTBOX_LISTEN: socket path too long: %s", path);
	strcpy(sun.sun_path, path);
	clear_stale_socket(&sun);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		fatal("socket");
	old = umask(0117);	/* 0660: the web server's group, nobody else */
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		fatal("bind %s", path);
	umask(old);
	if (chmod(path, 0660) == -1)
		fatal("chmod %s", path);
	return fd;
}

static int
listen_tcp(const char *spec)
{
	struct addrinfo	 hints, *ai;
	char		 host[256];
	const char	*colon = strrchr(spec, ':');
	size_t		 n;
	long long	 port;
	int		 fd, on = 1, rc;

	n = (size_t)(colon - spec);
	if (n == 0 || n >= sizeof(host))
		fatalx("EVENTBOX_LISTEN: expected host:port, got %s", spec);
	/* getaddrinfo() would take a service name ("http"), and glibc cuts a
	 * number to 16 bits: 99999 would bind 34463. */
	if (parse_int(colon + 1, strlen(colon + 1), 1, 65535, &port) == -1)
		fatalx("EVENTBOX_LISTEN: the port must be a number from 1 to "
		    "65535, got %s", spec);
	memcpy(host, spec, n);
	host[n] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, colon + 1, &hints, &ai)) != 0)
		fatalx("EVENTBOX_LISTEN %s: %s", spec, gai_strerror(rc));
	if ((fd = socket(ai->ai_family, SOCK_STREAM, 0)) == -1)
		fatal("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) == -1)
		fatal("bind %s", spec);
	freeaddrinfo(ai);
	return fd;
}

static int
listen_socket(const char *spec)
{
	int	 fd, fl;

	fd = is_unix_path(spec) ? listen_unix(spec) : listen_tcp(spec);
	if (listen(fd, LISTEN_BACKLOG) == -1)
		fatal("listen");
	/* Workers poll, then race to accept: a loser must not block. */
	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)
		fatal("fcntl");
	return fd;
}

static pid_t
spawn(int fd, int index)
{
	pid_t	 pid;

	switch ((pid = fork())) {
	case -1:
		log_warn("fork");
		return 0;		/* the slot stays empty: fill_slots() */
	case 0:
		worker_main(fd, index);
	default:
		return pid;
	}
}

/*
 * A worker in every empty slot.  A fork that failed (EAGAIN, ENOMEM) leaves
 * its slot empty and is tried again a second later (SIGALRM), not only when
 * another worker happens to exit: the service would have run a worker short
 * until restarted.  (The workers reset SIGALRM to its default action.)
 */
static void
fill_slots(pid_t *pids, int n, int fd)
{
	int	 i, empty = 0;

	for (i = 0; i < n; i++)
		if (pids[i] == 0 && (pids[i] = spawn(fd, i)) == 0)
			empty++;
	if (empty > 0) {
		log_warnx("%d of %d workers could not be started; trying again "
		    "in a second", empty, n);
		alarm(1);
	}
}

static int
alive(const pid_t *pids, int n)
{
	int	 i, c = 0;

	for (i = 0; i < n; i++)
		if (pids[i] > 0)
			c++;
	return c;
}

/* Collects dead workers; returns how many died unexpectedly. */
static int
reap(pid_t *pids, int n, int expected)
{
	pid_t	 pid;
	int	 status, i, died = 0;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < n; i++)
			if (pids[i] == pid)
				pids[i] = 0;
		if (expected)
			continue;
		died++;
		if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
			log_warnx("worker %ld ran past EVENTBOX_REQUEST_TIMEOUT "
			    "(%d s) on one request and was ended; restarting",
			    (long)pid, cfg.request_timeout_s);
		else if (WIFSIGNALED(status))
			log_warnx("worker %ld killed by signal %d; restarting",
			    (long)pid, WTERMSIG(status));
		else
			log_warnx("worker %ld exited with status %d; restarting",
			    (long)pid, WEXITSTATUS(status));
	}
	return died;
}

static void
drain(pid_t *pids, int n)
{
	struct timespec	 start, now, nap = { 0, 50 * 1000 * 1000 };
	int		 i;

	log_info("draining %d workers", alive(pids, n));
	for (i = 0; i < n; i++)
		if (pids[i] > 0)
			kill(pids[i], SIGTERM);
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		reap(pids, n, 1);
		if (alive(pids, n) == 0)
			return;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec >= cfg.drain_seconds)
			break;
		nanosleep(&nap, NULL);
	}
	log_warnx("drain timed out; killing %d workers", alive(pids, n));
	for (i = 0; i < n; i++)
		if (pids[i] > 0)
			kill(pids[i], SIGKILL);
	for (i = 0; i < n; i++)
		if (pids[i] > 0) {
			waitpid(pids[i], NULL, 0);
			pids[i] = 0;
		}
}

/*
 * systemd's readiness protocol (sd_notify(3), without libsystemd): once
 * the socket listens and the workers run, one datagram "READY=1" to
 * $NOTIFY_SOCKET (a path, or "@name" in the abstract namespace), so that
 * `systemctl start eventbox` returns when requests are answered
 * (Type=notify in eventbox.service).  Without the variable, nothing.
 */
static void
notify_ready(void)
{
	const char		*path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un	 sa;
	size_t			 len;
	int			 fd;

	if (path == NULL || (path[0] != '/' && path[0] != '@'))
		return;
	if ((len = strlen(path)) >= sizeof(sa.sun_path)) {
		log_warn("NOTIFY_SOCKET: too long; systemd is not told");
		return;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, len);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1 ||
	    sendto(fd, "READY=1", 7, 0, (struct sockaddr *)&sa,
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) == -1)
		log_warn("NOTIFY_SOCKET %s: %s; systemd is not told", path,
		    strerror(errno));
	if (fd != -1)
		close(fd);
}

int
cmd_serve(int argc, char **argv)
{
	static const int	 caught[] = { SIGTERM, SIGINT, SIGHUP, SIGCHLD,
	    SIGALRM };
	sigset_t		 wait;
	pid_t			*pids;
	int			 fd, i, n;
	struct timespec		 backoff = { 1, 0 };
	time_t			 window = 0;
	int			 restarts = 0, died;

	(void)argc;
	(void)argv;
	config_load();
	log_init("eventbox-master", cfg.log_file);
	n = cfg.workers;

	signals_catch(on_signal, caught, 5, &wait);

	fd = listen_socket(cfg.listen);
	metrics_init(n);	/* before the fork: the workers share it */
	log_info("languages: %d catalogues besides English",
	    i18n_load(cfg.locale_dir));
	if ((pids = calloc((size_t)n, sizeof(*pids))) == NULL)
		fatal("calloc");
	fill_slots(pids, n, fd);
	log_info("listening on %s with %d workers", cfg.listen, n);
	notify_ready();

	while (!got_term) {
		sigsuspend(&wait);
		if (got_hup) {
			got_hup = 0;
			log_reopen();
			for (i = 0; i < n; i++)
				if (pids[i] > 0)
					kill(pids[i], SIGHUP);
		}
		if (got_alrm && !got_term) {
			got_alrm = 0;
			fill_slots(pids, n, fd);
		}
		if (got_chld && !got_term) {
			got_chld = 0;
			died = reap(pids, n, 0);
			restarts += died;
			metrics_worker_restarted(died);
			/* A worker that dies at once (a bad DSN, say) must not
			 * make us fork in a tight loop. */
			if (time(NULL) - window > 10) {
				window = time(NULL);
				restarts = 0;
			} else if (restarts > 2 * n)
				nanosleep(&backoff, NULL);
			fill_slots(pids, n, fd);
		}
	}
	drain(pids, n);
	close(fd);
	if (is_unix_path(cfg.listen))
		unlink(cfg.listen);
	free(pids);
	log_info("stopped");
	return 0;
}
