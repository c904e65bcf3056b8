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
	const char	*args;		/* NULL: takes none */
	const char	*help;
} commands[] = {
	{ "serve", cmd_serve, NULL, "run the FastCGI master and its workers" },
	{ "migrate", cmd_migrate, NULL,
	    "apply the SQL migrations in EVENTBOX_SQL_DIR" },
	{ "mailer", cmd_mailer, NULL,
	    "send the queued emails from the outbox by SMTP" },
	{ "apikey", cmd_apikey, "create NAME | list | revoke NAME",
	    "create, revoke or list staff API keys" },
	{ "purge", cmd_purge, NULL, "erase personal data of events long over "
	    "(EVENTBOX_RETENTION_DAYS, EVENTBOX_PURGE_DSN)" },
	{ "import", cmd_import, "URL",
	    "import a LibCal 1.1 API's events as drafts" },
};

/* "eventbox migrate --help" prints this and runs nothing; a command that
 * takes no arguments refuses any (it ran, and a server started). */
static int
command_usage(const struct command *c, FILE *f)
{
	fprintf(f, "usage: eventbox %s%s%s\n  %s\n\nconfiguration comes from "
	    "EVENTBOX_* environment variables; see docs/CONFIG.md\n", c->name,
	    c->args != NULL ? " " : "", c->args != NULL ? c->args : "",
	    c->help);
	return f == stdout ? 0 : 2;
}

static int
is_help(const char *arg)
{
	return strcmp(arg, "help") == 0 || strcmp(arg, "--help") == 0 ||
	    strcmp(arg, "-h") == 0;
}

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
	if (is_help(argv[1]))
		return usage(stdout);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[1], commands[i].name) != 0)
			continue;
		if (argc > 2 && (strcmp(argv[2], "--help") == 0 ||
		    strcmp(argv[2], "-h") == 0))
			return command_usage(&commands[i], stdout);
		if (argc > 2 && commands[i].args == NULL) {
			fprintf(stderr, "eventbox %s: takes no arguments\n",
			    commands[i].name);
			return command_usage(&commands[i], stderr);
		}
		return commands[i].fn(argc - 1, argv + 1);
	}
	fprintf(stderr, "eventbox: unknown command \"%s\"\n\n", argv[1]);
	return usage(stderr);
}
