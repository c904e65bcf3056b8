/*
 * proc.h: the processes.  The master (master.c) binds the FastCGI socket,
 * pre-forks the workers, restarts any that die and drains them on SIGTERM;
 * each worker (worker.c) serves one request at a time on its own database
 * connection.  Commands (main.c) are git-style: `eventbox serve`, ...
 */
#ifndef EVENTBOX_PROC_H
#define EVENTBOX_PROC_H

int	 cmd_serve(int, char **);
int	 cmd_migrate(int, char **);
int	 cmd_mailer(int, char **);
int	 cmd_apikey(int, char **);
int	 cmd_purge(int, char **);
int	 cmd_import(int, char **);
void	 worker_main(int listen_fd, int index) __attribute__((noreturn));

#endif
