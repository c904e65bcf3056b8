/*
 * log.h: one line per event to stderr or to EVENTBOX_LOG_FILE, prefixed
 * with the time, the process role and its pid.  log_init() exits when the
 * file (EVENTBOX_LOG_FILE) cannot be opened; log_reopen() is called after
 * SIGHUP so logrotate can move the file away, and only warns.  A line that
 * cannot be written (a full disk; a file past RLIMIT_FSIZE, whose SIGXFSZ
 * log_init() ignores) is lost, not waited for; the process's next line
 * that can be is preceded by one that counts them ("3 log lines lost").
 *
 * Never log a token, an email address or a request body.
 */
#ifndef EVENTBOX_LOG_H
#define EVENTBOX_LOG_H

void	 log_init(const char *role, const char *path);
void	 log_set_role(const char *role);
void	 log_reopen(void);
void	 log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	 fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif
