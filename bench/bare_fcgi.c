/*
 * bare_fcgi.c: the read path's baseline for `make bench`.  The least a
 * libfcgi service can do per request: N pre-forked processes, each with one
 * PGconn, accept a request, run one prepared SELECT, answer a constant.
 * eventbox's GET /api/v1/events/{slug} is measured against it behind the
 * same nginx with the same number of processes.
 *
 *   bare_fcgi SOCKET NPROC      (libpq takes the connection from PG* / DSN)
 *   BARE_DSN   conninfo string (default: the PG* environment)
 *
 * Stops on SIGTERM (its process group).  Not part of the product.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcgiapp.h>
#include <libpq-fe.h>

static const char body[] = "{\"ok\":true}\n";

static void
child(int fd)
{
	FCGX_Request	 req;
	PGconn		*c;
	PGresult	*r;
	const char	*dsn = getenv("BARE_DSN");

	c = PQconnectdb(dsn != NULL ? dsn : "");
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "bare_fcgi: %s", PQerrorMessage(c));
		exit(1);
	}
	r = PQprepare(c, "one", "SELECT 1", 0, NULL);
	PQclear(r);
	FCGX_Init();
	FCGX_InitRequest(&req, fd, 0);
	while (FCGX_Accept_r(&req) >= 0) {
		r = PQexecPrepared(c, "one", 0, NULL, NULL, NULL, 0);
		PQclear(r);
		FCGX_FPrintF(req.out, "Status: 200 OK\r\nContent-Type: "
		    "application/json\r\nContent-Length: %zu\r\n\r\n",
		    sizeof(body) - 1);
		FCGX_PutStr(body, (int)sizeof(body) - 1, req.out);
		FCGX_Finish_r(&req);
	}
	exit(0);
}

int
main(int argc, char **argv)
{
	struct sockaddr_un	 sun;
	int			 fd, i, n;

	if (argc != 3 || (n = atoi(argv[2])) < 1 || n > 64) {
		fprintf(stderr, "usage: bare_fcgi SOCKET NPROC\n");
		return 2;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(argv[1]) >= sizeof(sun.sun_path))
		return 2;
	strcpy(sun.sun_path, argv[1]);
	unlink(argv[1]);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    chmod(argv[1], 0666) == -1 || listen(fd, 1024) == -1) {
		perror("bare_fcgi: socket");
		return 1;
	}
	for (i = 0; i < n; i++)
		if (fork() == 0)
			child(fd);
	while (wait(NULL) > 0)
		;
	return 0;
}
