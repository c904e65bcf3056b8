/*
 * main.c: `eventbox COMMAND`, git-style.  Each command is a function in the
 * file that owns that process (see proc.h).
 */
#include <stdio.h>
#include <string.h>

#include "proc.h"

static const struct command {
	const char	*name;
	int		(*fn)(int, char **);
	const char	*help;
} commands[] = {
	{ "serve", cmd_serve, "run the FastCGI master and its workers" },
	{ "migrate", cmd_migrate, "apply the SQL migrations in EVENTBOX_SQL_DIR" },
	{ "mailer", cmd_mailer, "send the queued emails from the outbox by SMTP" },
	{ "apikey", cmd_apikey, "create, revoke or list staff API keys" },
	{ "purge", cmd_purge, "erase personal data of events long over" },
	{ "import", cmd_import, "import a LibCal 1.1 API's events as drafts" },
};

static int
usage(FILE *f)
{
	size_t	 i;

	fprintf(f, "usage: eventbox COMMAND\n\ncommands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\nconfiguration comes from EVENTBOX_* environment "
	    "variables; see docs/CONFIG.md\n");
	return f == stdout ? 0 : 2;
}

int
main(int argc, char **argv)
{
	size_t	 i;

	if (argc < 2)
		return usage(stderr);
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0)
		return usage(stdout);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "eventbox: unknown command \"%s\"\n\n", argv[1]);
	return usage(stderr);
}
