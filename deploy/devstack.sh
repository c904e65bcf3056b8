#!/usr/bin/env bash
# deploy/devstack.sh: a private eventbox stack (PostgreSQL, eventbox serve,
# nginx) under one directory, for development and tests.  Nothing is shared
# with the machine's own PostgreSQL or nginx: the cluster has no TCP port,
# its socket and all pid files live in VARDIR/run, nginx listens on
# 127.0.0.1 only.
#
# Private also from the machine's other users: VARDIR/run (the sockets) is
# mode 0700, owned by the cluster's user, and the cluster authenticates by
# peer only, through a map (pg_ident.conf, rewritten on every start) that
# lets the user who runs this script, and nobody else, log in as the
# stack's roles.  As root the cluster runs as `postgres`; root reaches the
# 0700 directory all the same, every other local user is refused twice (no
# way into the directory, no entry in the map).
#
# Usage:
#   deploy/devstack.sh run              what `make run` does: bring the stack
#                                       up in var/ (or $EVENTBOX_VAR), print
#                                       the URL, stay in the foreground; on
#                                       Ctrl-C / SIGTERM / exit, stop it all
#   deploy/devstack.sh start VARDIR     the same bring-up in the background on
#                                       free ports; writes VARDIR/env; returns
#                                       once GET /healthz answers 200
#   deploy/devstack.sh stop VARDIR      stop nginx, eventbox serve, PostgreSQL
#   deploy/devstack.sh pg-start VARDIR      start or stop one part of a
#   deploy/devstack.sh pg-stop VARDIR       started stack; serve-start
#   deploy/devstack.sh serve-start VARDIR   rewrites VARDIR/env with the new
#   deploy/devstack.sh serve-stop VARDIR    EVENTBOX_SERVE_PID
#   deploy/devstack.sh sink-start VARDIR    the .eml mail sink and `eventbox
#   deploy/devstack.sh sink-stop VARDIR     mailer` (see "Mail" below);
#   deploy/devstack.sh mailer-start VARDIR  mailer-start rewrites VARDIR/env
#   deploy/devstack.sh mailer-stop VARDIR   with EVENTBOX_MAILER_PID
#   deploy/devstack.sh psql [ARGS...]   psql on the var/ cluster as the
#                                       database owner (`make psql`); stdin
#                                       passes through
#   deploy/devstack.sh deps [test]      install missing Debian packages:
#                                       to build and run (`make deps`), and
#                                       with "test" what the tests need too
#                                       (`make deps-test`); alias:
#                                       ensure-packages
#   deploy/devstack.sh destroy VARDIR   stop, then delete the stack's data
#
# Environment:
#   EVENTBOX_BIN          binary to run (default ./eventbox; the tests use
#                         ./eventbox-asan); `start` records it for serve-start
#   EVENTBOX_VAR          var dir for `run` and `psql` (default var/)
#   EVENTBOX_HTTP_PORT    HTTP port on 127.0.0.1 (run: 8080; start: a free one)
#   EVENTBOX_PG_PORT      PostgreSQL port, i.e. the socket's name (5432; the
#                         socket directory is private, so it never collides)
#   EVENTBOX_POST_RATE    nginx rate limit for POST/DELETE per client (10r/s)
#   EVENTBOX_CONN_LIMIT   nginx requests in flight per client (20)
#   EVENTBOX_POST_BURST   its burst (20; rate/100 above 2000r/s)
#   EVENTBOX_SAMPLE       0 = do not load deploy/sample-event.sql (default 1)
#   EVENTBOX_MICROCACHE   1 = cache public event reads in nginx for 1 s
#                         (default 0: the tests read counts back at once)
#   EVENTBOX_START_TIMEOUT seconds to wait for the stack to answer (60)
#   EVENTBOX_PG_BIN       PostgreSQL bin dir (newest /usr/lib/postgresql/*/bin)
#   EVENTBOX_CORS_ORIGINS passes through to `eventbox serve`, and is also
#                         rendered into nginx's copy (VARDIR/nginx/cors.map,
#                         by deploy/eventbox-cors-map) at start
#   anything else (EVENTBOX_WORKERS, EVENTBOX_SMTP_URL, ...) passes through to
#   `eventbox serve`.
#
# Mail: with EVENTBOX_SMTP_URL unset, `run` and `start` start
# deploy/mailsink.py, an SMTP server on a free loopback port that keeps each
# message as a file in VARDIR/mail/ (EVENTBOX_SINK_PORT picks the port).
# `run` also starts `eventbox mailer` (as role eventbox_mail) pointed at the
# sink, or at EVENTBOX_SMTP_URL when set.  `start` does not start a mailer
# unless EVENTBOX_START_MAILER=1: the test suite reads tokens from the
# outbox, which a mailer erases once a message is out; the mail tests start
# their own mailers.  VARDIR/env carries EVENTBOX_SMTP_URL (the sink's),
# EVENTBOX_MAIL_DIR and EVENTBOX_MAILER_DSN.
#
# Layout of VARDIR: pg/ (the cluster), run/ (PostgreSQL and eventbox sockets,
# pid files), nginx/ (rendered config, temp dirs), log/ (postgres.log,
# eventbox.log, nginx-error.log, nginx-access.log), env (sourceable).
#
# PostgreSQL refuses to run as root.  As root, initdb/pg_ctl run as the
# `postgres` user, which must be able to reach VARDIR.  When it cannot (a
# checkout under /root, a pytest tmp dir under /tmp/pytest-of-root, both
# mode 0700), or when VARDIR is so deep that a socket path would exceed the
# kernel's 107 bytes, pg/ and run/ live elsewhere, with symlinks from VARDIR:
# in /var/lib/eventbox-devstack/<hash> as root (not /var/tmp: systemd-tmpfiles
# deletes files there after 30 days, which would break an idle dev cluster),
# in /var/tmp/eventbox-<uid>-<hash> otherwise.  Such directories whose VARDIR
# has gone are cleaned up by the next `start`/`run`.

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
# The catalogues `make locale` compiles (docs/TRANSLATING.md), for serve and
# the mailers; an installed eventbox reads $(PREFIX)/share/locale instead.
export EVENTBOX_LOCALEDIR=${EVENTBOX_LOCALEDIR:-$ROOT/build/locale}

# Debian packages needed to build and run eventbox (`make run`): the
# compiler and libraries, PostgreSQL, nginx, gettext's msgfmt for the
# catalogues, python3 and aiosmtpd for the local mail sink, curl for the
# health check.
PACKAGES=(build-essential pkg-config postgresql nginx-light
          libfcgi-dev libcjson-dev uuid-dev libpq-dev libcurl4-openssl-dev
          libidn2-dev                   # IDNA2008: patrons' bücherei.de addresses
          libssl-dev python3 python3-aiosmtpd curl
          gettext)                      # msgfmt, xgettext: po/ (docs/TRANSLATING.md)
# And what only the tests and the benchmarks need (`make test`,
# `deploy/devstack.sh deps test`): the tests talk to PostgreSQL with
# psycopg2, drive the pages in Chromium through Node's playwright-core, read
# them as text in w3m, parse .ics files with python3-icalendar, and make the
# webhook receiver's CA and certificate with the openssl command.
TEST_PACKAGES=(postgresql-contrib openssl python3-pytest
          python3-psycopg2 chromium python3-icalendar python3-feedparser
          python3-requests
          python3-prometheus-client     # /metrics as Prometheus reads it
          w3m                           # the pages as a text browser shows them
          mutt spamassassin spamc       # the emails as a mail reader and a spam
                                        # filter see them: tests/test_mail_readers.py
          php-cli php-curl nodejs npm   # tests/libcal_clients
          perl                          # Encode's MIME-Header: tests/test_mail.py
          clang libclang-rt-14-dev)     # the fuzzers (libFuzzer)
# Servers the tests start themselves, on ports of their own
# (tests/test_metrics.py runs prometheus and its promtool): installed
# without what they recommend (prometheus-node-exporter), and the service
# each package enables and starts is stopped and disabled again, so that
# make test leaves no server running on the machine.  spamd: the tests
# start their own (tests/test_mail_readers.py).
TEST_SERVERS=(prometheus spamd)

DB_NAME=eventbox
DB_OWNER=eventbox        # owns the database; migrations run as it
DB_APP=eventbox_app      # the service's login, member of eventbox_service
DB_MAIL=eventbox_mail    # the mailer's login, member of eventbox_mailer
DB_STAFF=eventbox_staff  # a staff login, member of eventbox_ops
DB_SUPERUSER=postgres    # bootstrap superuser (initdb -U)

# ---------------------------------------------------------------------------
# Small helpers

say() { printf 'devstack: %s\n' "$*" >&2; }
die() { printf 'devstack: error: %s\n' "$*" >&2; exit 1; }

is_root() { [ "$(id -u)" -eq 0 ]; }

# Is PID a live process (zombies count as dead: in `run` mode our children
# stay zombies until the script reaps them)?
pid_alive() {
    local pid=${1:-} stat
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    case ${stat%% *} in Z|X) return 1 ;; esac
    return 0
}

# The command line of PID with arguments separated by spaces.
pid_cmdline() { tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null || true; }

# Wait up to $2 seconds for PID $1 to go away.
wait_gone() {
    local pid=$1 tenths=$(( $2 * 10 ))
    while pid_alive "$pid"; do
        (( tenths-- > 0 )) || return 1
        sleep 0.1
    done
}

# Is PID one of ours of KIND (nginx, serve, postgres)?  Pids are reused, so
# a pid file left by a crash must not lead to signalling a stranger.
pid_is() {
    local pid=$1 kind=$2 cmd
    pid_alive "$pid" || return 1
    cmd=$(pid_cmdline "$pid")
    case $kind in
        nginx) [[ $cmd == nginx:* ]] ;;
        # The binary may have been rebuilt since: exe then ends in "(deleted)".
        serve) [[ $(readlink "/proc/$pid/exe" 2>/dev/null) == */eventbox* || $cmd == *eventbox* ]] ;;
        postgres) [[ $cmd == *postgres* ]] ;;
        mailer) [[ $cmd == *eventbox*mailer* ]] ;;
        sink) [[ $cmd == *mailsink.py* ]] ;;
        *) return 1 ;;
    esac
}

# Live processes in process group $1.
group_pids() {
    local f st state pgrp
    for f in /proc/[0-9]*/stat; do
        { read -r st <"$f"; } 2>/dev/null || continue
        read -r state _ pgrp _ <<<"${st##*) }"
        [ "$pgrp" = "$1" ] && [ "$state" != Z ] && printf '%s\n' "${f//[!0-9]/}"
    done
    return 0
}

# Stop the daemon of KIND whose master is PID: signal SIG, wait up to SECS,
# then SIGKILL.  Every daemon here starts as a session leader, so its workers
# share its process group; members of that group left behind by a master
# that died earlier (say, kill -9) are killed too.  (While a group has
# members its id is not handed out as a new pid, so the group is ours.)
stop_daemon() {
    local pid=$1 kind=$2 sig=$3 secs=$4 p
    [[ $pid =~ ^[0-9]+$ ]] || return 0
    if pid_is "$pid" "$kind"; then
        kill "-$sig" "$pid" 2>/dev/null || true
        if ! wait_gone "$pid" "$secs"; then
            say "$kind (pid $pid) did not stop within ${secs}s, killing it"
            kill -KILL "$pid" 2>/dev/null || true
            wait_gone "$pid" 5 || true
        fi
    fi
    for p in $(group_pids "$pid"); do
        if pid_is "$p" "$kind"; then
            say "killing $kind process $p left behind by pid $pid"
            kill -KILL "$p" 2>/dev/null || true
        fi
    done
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Is a unix socket at path $1 listening?  Read from /proc/net/unix rather
# than connecting: an empty connection would cost a FastCGI worker a request.
# Flags 00010000 = __SO_ACCEPTCON, i.e. listen() was called.
unix_listening() {
    awk -v p="$1" '$NF == p && $4 == "00010000" { found = 1 } END { exit !found }' /proc/net/unix
}

# Show the end of the logs after a failure.
show_logs() {
    local f
    for f in "$@"; do
        [ -s "$LOG_DIR/$f" ] || continue
        printf '\n----- last lines of %s -----\n' "$LOG_DIR/$f" >&2
        tail -n 25 "$LOG_DIR/$f" >&2
    done
}

# Paths end up in sed replacements, PostgreSQL settings and libpq DSNs
# unquoted; allow only characters that are safe in all three.
check_path() {
    [[ $1 =~ ^[A-Za-z0-9._/+,:=@-]+$ ]] ||
        die "path '$1' contains characters devstack.sh does not support (spaces, quotes, ...)"
}

# ---------------------------------------------------------------------------
# Packages

dpkg_installed() {
    [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

# ensure_packages [test]: the packages to run eventbox, and with "test"
# also those the tests need.
ensure_packages() {
    local p missing=() servers=() wanted=("${PACKAGES[@]}")
    [ "${1:-}" = test ] && wanted+=("${TEST_PACKAGES[@]}")
    if [ "${1:-}" = test ] && command -v dpkg-query >/dev/null; then
        for p in "${TEST_SERVERS[@]}"; do
            dpkg_installed "$p" || servers+=("$p")
        done
    fi
    if ! command -v dpkg-query >/dev/null; then
        [ "${1:-}" = test ] && wanted+=("${TEST_SERVERS[@]}")
        say "not a Debian system: make sure these (or equivalents) are installed: ${wanted[*]}"
        return 0
    fi
    for p in "${wanted[@]}"; do
        case $p in
            # Any nginx flavour will do (nginx-light conflicts with the others).
            nginx-light) command -v nginx >/dev/null && continue ;;
            curl | python3 | npm) command -v "$p" >/dev/null && continue ;;
            # Debian 12's Node.js 18 is what the browser tests are pinned
            # for; a Node.js already here will do if the pinned
            # playwright-core accepts it (NodeSource's bundles npm).
            nodejs) command -v node >/dev/null &&
                node "$ROOT/tests/browser/check-node.cjs" >/dev/null && continue ;;
        esac
        dpkg_installed "$p" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && [ ${#servers[@]} -eq 0 ] && return 0

    local cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y ${missing[*]}"
    [ ${#servers[@]} -gt 0 ] &&
        cmd+=" && apt-get install -y --no-install-recommends ${servers[*]} && systemctl disable --now ${servers[*]}"
    if ! is_root; then
        say "missing packages: ${missing[*]} ${servers[*]}"
        say "install them as root, then run this again:"
        printf "    sudo sh -c '%s'\n" "$cmd" >&2
        exit 1
    fi
    say "installing missing packages: ${missing[*]} ${servers[*]}"
    apt-get update
    if [ ${#missing[@]} -gt 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}" || exit 1
    fi
    if [ ${#servers[@]} -gt 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${servers[@]}" ||
            exit 1
        if [ -d /run/systemd/system ]; then
            systemctl disable --now "${servers[@]}" >/dev/null 2>&1 || true
        fi
    fi
}

find_pg_bin() {
    if [ -n "${EVENTBOX_PG_BIN:-}" ]; then
        PG_BIN=$EVENTBOX_PG_BIN
    else
        PG_BIN=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    fi
    if [ ! -x "$PG_BIN/pg_ctl" ]; then
        die "PostgreSQL server binaries not found (install postgresql, or set EVENTBOX_PG_BIN)"
    fi
}

# ---------------------------------------------------------------------------
# The var directory

# use_var DIR create|existing: set the path globals for DIR.
use_var() {
    local dir=$1 mode=$2
    if [ "$mode" = create ]; then
        mkdir -p "$dir"
    elif [ ! -d "$dir" ]; then
        return 1
    fi
    VAR=$(cd "$dir" && pwd -P)
    check_path "$VAR"
    check_path "$ROOT"
    LOG_DIR=$VAR/log
    NGINX_DIR=$VAR/nginx
    ENV_FILE=$VAR/env
    BIN_FILE=$VAR/.devstack-bin
    # Real paths (pg/ and run/ may be symlinks, see the top).
    PG_DATA=$(readlink -m "$VAR/pg")
    RUN_DIR=$(readlink -m "$VAR/run")
    set_derived
}

set_derived() {
    LISTEN_SOCK=$RUN_DIR/eventbox.sock
    OWNER_DSN="host=$RUN_DIR port=$PG_PORT dbname=$DB_NAME user=$DB_OWNER"
    APP_DSN="host=$RUN_DIR port=$PG_PORT dbname=$DB_NAME user=$DB_APP"
    MAIL_DSN="host=$RUN_DIR port=$PG_PORT dbname=$DB_NAME user=$DB_MAIL"
    URL=http://127.0.0.1:$HTTP_PORT
}

# Serialise devstack.sh invocations on one VARDIR.  The lock fd (9) is
# closed for every daemon started (9>&-), so a crashed script never leaves
# the lock held by its children.
lock_var() {
    exec 9>"$VAR/.devstack.lock"
    if [ "${1:-}" = nowait ]; then
        flock -n 9 || die "another devstack.sh is using $VAR (a \`make run\` in another terminal?)"
    else
        flock -w 120 9 || die "timed out waiting for another devstack.sh on $VAR"
    fi
}

# Where pg/ and run/ go when they cannot stay in VARDIR (see the top).
relocation_base() {
    local hash
    hash=$(printf '%s' "$VAR" | sha256sum | cut -c1-16)
    if is_root; then
        printf '/var/lib/eventbox-devstack/%s' "$hash"
    else
        printf '/var/tmp/eventbox-%s-%s' "$(id -u)" "$hash"
    fi
}

# Create log/, nginx/, pg/ and run/ (relocated if needed, see the top).
prepare_dirs() {
    mkdir -p "$LOG_DIR" "$NGINX_DIR/tmp" "$NGINX_DIR/server.d"

    local relocate=0 why=""
    if [ -L "$VAR/pg" ]; then
        relocate=1                      # relocated before: keep it that way
    elif [ -d "$VAR/pg" ]; then
        relocate=0
    elif is_root && ! runuser -u postgres -- test -x "$VAR" 2>/dev/null; then
        relocate=1 why="user postgres cannot reach $VAR"
    elif [ $(( ${#VAR} + ${#RUN_SUFFIX_MAX} )) -gt 100 ]; then
        relocate=1 why="$VAR is too long a path for unix sockets"
    fi

    if [ "$relocate" = 1 ]; then
        local base
        base=$(relocation_base)
        if [ ! -L "$VAR/pg" ] && [ -e "$base" ]; then
            # Left over from an earlier VARDIR of the same name: not ours.
            gc_one "$base"
        fi
        if [ -e "$base" ]; then
            if [ ! -d "$base" ] || [ -L "$base" ] || [ ! -O "$base" ]; then
                die "$base exists and is not a directory owned by $(id -un); remove it"
            fi
        fi
        [ -z "$why" ] || say "$why: keeping pg/ and run/ in $base (symlinked from $VAR)"
        mkdir -p "$base"
        chmod 0755 "$base"
        is_root && chmod 0755 "$(dirname "$base")"   # /var/lib/eventbox-devstack
        mkdir -p "$base/pg" "$base/run"
        ln -sfn "$base/pg" "$VAR/pg"
        ln -sfn "$base/run" "$VAR/run"
        # Written last: gc_relocated only considers directories with an owner.
        printf '%s\n' "$VAR" >"$base/owner"
    else
        mkdir -p "$VAR/pg" "$VAR/run"
        if is_root && ! runuser -u postgres -- test -x "$VAR" 2>/dev/null; then
            die "user postgres cannot reach $VAR/pg; \`$0 destroy $VAR\` and start again (pg/ then goes to $(dirname "$(relocation_base)"))"
        fi
    fi
    PG_DATA=$(cd "$VAR/pg" && pwd -P)
    RUN_DIR=$(cd "$VAR/run" && pwd -P)
    check_path "$PG_DATA"
    check_path "$RUN_DIR"
    [ $(( ${#RUN_DIR} + ${#RUN_SUFFIX_MAX} )) -le 107 ] ||
        die "socket directory $RUN_DIR is too long for unix sockets"
    set_derived

    if is_root; then
        if [ "$(stat -c %U "$PG_DATA")" != postgres ]; then
            chown -R postgres:postgres "$PG_DATA"
        fi
        chown postgres:postgres "$RUN_DIR"
        # Private to postgres; root (eventbox serve, nginx, the tests)
        # enters it by its override of file permissions, nobody else can.
        chmod 0700 "$PG_DATA" "$RUN_DIR"
        runuser -u postgres -- test -w "$RUN_DIR" ||
            die "user postgres cannot write to $RUN_DIR"
    else
        chmod 0700 "$PG_DATA" "$RUN_DIR"
    fi
}
RUN_SUFFIX_MAX=/.s.PGSQL.65535.lock

# Stop whatever still runs from a relocated directory and delete it.
gc_one() {
    local d=$1 pid
    stop_daemon "$(cat "$d/run/nginx.pid" 2>/dev/null || true)" nginx TERM 5
    stop_daemon "$(cat "$d/run/eventbox.pid" 2>/dev/null || true)" serve TERM 5
    stop_daemon "$(cat "$d/run/mailer.pid" 2>/dev/null || true)" mailer TERM 5
    stop_daemon "$(cat "$d/run/mailsink.pid" 2>/dev/null || true)" sink TERM 5
    if [ -f "$d/pg/postmaster.pid" ]; then
        pid=$(head -n 1 "$d/pg/postmaster.pid" 2>/dev/null || true)
        if pid_alive "$pid" && [ "$(readlink "/proc/$pid/cwd")" = "$d/pg" ]; then
            stop_daemon "$pid" postgres QUIT 10     # SIGQUIT = immediate shutdown
        fi
    fi
    rm -rf "$d"
}

# Relocated directories whose VARDIR is gone (deleted test dirs).
gc_relocated() {
    local d owner
    for d in /var/lib/eventbox-devstack/* "/var/tmp/eventbox-$(id -u)-"*; do
        if [ ! -d "$d" ] || [ -L "$d" ] || [ ! -O "$d" ] || [ ! -f "$d/owner" ]; then
            continue
        fi
        owner=$(cat "$d/owner")
        [ "$(readlink -m "$owner/pg")" = "$d/pg" ] && continue
        say "removing $d: left over from $owner, which is gone"
        gc_one "$d"
    done
}

# VARDIR/env: sourceable by the tests and by people.
write_env() {
    local serve_pid nginx_pid
    serve_pid=$(cat "$RUN_DIR/eventbox.pid" 2>/dev/null || true)
    nginx_pid=$(cat "$RUN_DIR/nginx.pid" 2>/dev/null || true)
    {
        echo "# Written by deploy/devstack.sh; source it: . $ENV_FILE"
        echo "export EVENTBOX_URL='$URL'"
        echo "export EVENTBOX_BASE_URL='$URL'"
        echo "export EVENTBOX_HTTP_PORT='$HTTP_PORT'"
        echo "# psql with no arguments connects as the database owner"
        echo "export PGHOST='$RUN_DIR'"
        echo "export PGPORT='$PG_PORT'"
        echo "export PGDATABASE='$DB_NAME'"
        echo "export PGUSER='$DB_OWNER'"
        echo "# the service's DSN (role $DB_APP); the owner's (migrations) below"
        echo "export EVENTBOX_DSN='$APP_DSN'"
        echo "export EVENTBOX_OWNER_DSN='$OWNER_DSN'"
        echo "export EVENTBOX_LISTEN='$LISTEN_SOCK'"
        echo "export EVENTBOX_VAR='$VAR'"
        echo "export EVENTBOX_LOG_DIR='$LOG_DIR'"
        echo "export EVENTBOX_PG_DATA='$PG_DATA'"
        echo "export EVENTBOX_SERVE_PID='$serve_pid'"
        echo "export EVENTBOX_NGINX_PID='$nginx_pid'"
        echo "export EVENTBOX_NGINX_CONF='$NGINX_DIR/nginx.conf'"
        echo "# mail: the sink (when EVENTBOX_SMTP_URL was unset) and the mailer"
        echo "export EVENTBOX_SMTP_URL='$(mail_url)'"
        echo "export EVENTBOX_SINK_PORT='$SINK_PORT'"
        echo "export EVENTBOX_MAIL_DIR='$VAR/mail'"
        echo "export EVENTBOX_MAILER_DSN='$MAIL_DSN'"
        echo "export EVENTBOX_SINK_PID='$(cat "$RUN_DIR/mailsink.pid" 2>/dev/null || true)'"
        echo "export EVENTBOX_MAILER_PID='$(cat "$RUN_DIR/mailer.pid" 2>/dev/null || true)'"
    } >"$ENV_FILE.tmp"
    mv -f "$ENV_FILE.tmp" "$ENV_FILE"
}

# Read KEY from VARDIR/env (written by write_env, values single-quoted).
env_get() {
    [ -f "$ENV_FILE" ] || return 0
    sed -n "s/^export $1='\(.*\)'\$/\1/p" "$ENV_FILE"
}

# Ports and binary of an existing stack (for the single-part subcommands).
load_state() {
    HTTP_PORT=$(env_get EVENTBOX_HTTP_PORT)
    PG_PORT=$(env_get PGPORT)
    HTTP_PORT=${HTTP_PORT:-${EVENTBOX_HTTP_PORT:-8080}}
    SINK_PORT=$(env_get EVENTBOX_SINK_PORT)
    PG_PORT=${PG_PORT:-${EVENTBOX_PG_PORT:-5432}}
    if [ -z "${EVENTBOX_BIN:-}" ] && [ -f "$BIN_FILE" ]; then
        BIN=$(cat "$BIN_FILE")
    fi
    set_derived
}

# ---------------------------------------------------------------------------
# PostgreSQL

# Run a PostgreSQL server program as the cluster's owner.  From / so that
# the postgres user is never left in a directory it cannot read.
as_pg() {
    if is_root; then
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

# Print the postmaster's pid if this VARDIR's cluster is running.  A pid file
# whose process is gone, or is some other process now, is stale.
pg_pid() {
    local pid
    [ -f "$PG_DATA/postmaster.pid" ] || return 1
    pid=$(head -n 1 "$PG_DATA/postmaster.pid" 2>/dev/null) || return 1
    pid_alive "$pid" || return 1
    [ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" = "$PG_DATA" ] || return 1
    printf '%s\n' "$pid"
}

pg_conf() {
    # Rewritten on every start, so changes here (and a relocated socket
    # directory) always apply.  Included from postgresql.conf, last.
    cat >"$PG_DATA/eventbox.conf" <<EOF
# Written by deploy/devstack.sh on every start; edit the script instead.
listen_addresses = ''            # unix socket only
port = $PG_PORT
unix_socket_directories = '$RUN_DIR'
unix_socket_permissions = 0700   # inside a 0700 directory as well
max_connections = 200
shared_buffers = 256MB
fsync = on
synchronous_commit = on          # a 201 means the registration is on disk
full_page_writes = on
log_line_prefix = '%m [%p] %q%u@%d '
log_lock_waits = on
lc_messages = 'C'
EOF
    # Peer authentication only (there is no TCP listener), through a map:
    # the user running devstack.sh may log in as the stack's roles, nobody
    # else may log in at all.
    local me role
    me=$(id -un)
    printf '%s\n' "# Written by deploy/devstack.sh on every start; edit the script instead." \
        "# TYPE  DATABASE  USER  METHOD" \
        "local   all       all   peer map=devstack" >"$PG_DATA/pg_hba.conf"
    {
        echo "# Written by deploy/devstack.sh on every start; edit the script instead."
        echo "# MAPNAME  SYSTEM-USER  DATABASE-USER"
        for role in "$DB_SUPERUSER" "$DB_OWNER" "$DB_APP" "$DB_MAIL" "$DB_STAFF"; do
            echo "devstack  $me  $role"
        done
        if is_root; then echo "devstack  postgres  $DB_SUPERUSER"; fi
    } >"$PG_DATA/pg_ident.conf"
    chmod 0600 "$PG_DATA/pg_hba.conf" "$PG_DATA/pg_ident.conf"
    is_root && chown postgres:postgres "$PG_DATA/eventbox.conf" \
        "$PG_DATA/pg_hba.conf" "$PG_DATA/pg_ident.conf"
    grep -qx "include 'eventbox.conf'" "$PG_DATA/postgresql.conf" ||
        echo "include 'eventbox.conf'" >>"$PG_DATA/postgresql.conf"
}

pg_start() {
    local pid
    if pid=$(pg_pid); then
        say "PostgreSQL already running (pid $pid)"
        return 0
    fi
    # Not running: whatever pid file and sockets are left are stale (the
    # socket directory is private to this stack).
    rm -f "$PG_DATA/postmaster.pid" "$RUN_DIR"/.s.PGSQL.*

    if [ ! -f "$PG_DATA/PG_VERSION" ]; then
        say "creating a PostgreSQL cluster in $PG_DATA"
        # An interrupted initdb leaves a partial directory behind.
        find "$PG_DATA" -mindepth 1 -delete
        as_pg "$PG_BIN/initdb" -D "$PG_DATA" --auth-local=peer \
            --auth-host=scram-sha-256 -U "$DB_SUPERUSER" \
            --locale=C.UTF-8 -E UTF8 >>"$LOG_DIR/postgres.log" 2>&1 </dev/null 9>&- || {
            show_logs postgres.log
            die "initdb failed"
        }
    fi
    pg_conf

    say "starting PostgreSQL (socket $RUN_DIR/.s.PGSQL.$PG_PORT)"
    # No -l: the server's output goes to our redirection, opened by this
    # shell, so the postgres user needs no access to log/.  pg_ctl puts the
    # server in its own session.
    as_pg "$PG_BIN/pg_ctl" start -D "$PG_DATA" -w -t 60 -s \
        >>"$LOG_DIR/postgres.log" 2>&1 </dev/null 9>&- || {
        show_logs postgres.log
        die "PostgreSQL did not start"
    }
}

pg_stop() {
    pg_pid >/dev/null || return 0
    say "stopping PostgreSQL"
    as_pg "$PG_BIN/pg_ctl" stop -D "$PG_DATA" -m fast -w -t 60 -s \
        >>"$LOG_DIR/postgres.log" 2>&1 </dev/null 9>&- ||
    as_pg "$PG_BIN/pg_ctl" stop -D "$PG_DATA" -m immediate -w -t 30 -s \
        >>"$LOG_DIR/postgres.log" 2>&1 </dev/null 9>&- || true
}

psql_as() {
    local user=$1 db=$2
    shift 2
    "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$RUN_DIR" -p "$PG_PORT" -U "$user" -d "$db" "$@"
}

# Roles and database, idempotently.  The group roles (eventbox_service,
# eventbox_ops) come from the migrations.
pg_bootstrap() {
    psql_as "$DB_SUPERUSER" postgres <<EOF
DO \$\$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$DB_OWNER') THEN
        CREATE ROLE $DB_OWNER LOGIN CREATEROLE;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$DB_APP') THEN
        CREATE ROLE $DB_APP LOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$DB_MAIL') THEN
        CREATE ROLE $DB_MAIL LOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$DB_STAFF') THEN
        CREATE ROLE $DB_STAFF LOGIN;
    END IF;
END
\$\$;
SELECT 'CREATE DATABASE $DB_NAME OWNER $DB_OWNER'
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$DB_NAME') \gexec
EOF
}

migrate() {
    [ -x "$BIN" ] || die "no eventbox binary at $BIN: build it first (make)"
    say "migrating: $BIN migrate"
    # stdout and stderr of migrate: to the log and to the terminal.
    EVENTBOX_DSN=$OWNER_DSN "$BIN" migrate </dev/null 2>&1 | tee -a "$LOG_DIR/eventbox.log" >&2 ||
        die "migration failed (see above and $LOG_DIR/eventbox.log)"
    psql_as "$DB_SUPERUSER" "$DB_NAME" <<EOF
DO \$\$
BEGIN
    IF NOT pg_has_role('$DB_APP', 'eventbox_service', 'MEMBER') THEN
        GRANT eventbox_service TO $DB_APP;
    END IF;
    IF NOT pg_has_role('$DB_MAIL', 'eventbox_mailer', 'MEMBER') THEN
        GRANT eventbox_mailer TO $DB_MAIL;
    END IF;
    IF NOT pg_has_role('$DB_STAFF', 'eventbox_ops', 'MEMBER') THEN
        GRANT eventbox_ops TO $DB_STAFF;
    END IF;
END
\$\$;
EOF
}

load_sample() {
    [ "${EVENTBOX_SAMPLE:-1}" = 0 ] && return 0
    say "loading deploy/sample-event.sql"
    psql_as "$DB_OWNER" "$DB_NAME" -f "$ROOT/deploy/sample-event.sql" >/dev/null
}

# ---------------------------------------------------------------------------
# eventbox serve

serve_start() {
    [ -x "$BIN" ] || die "no eventbox binary at $BIN: build it first (make)"
    serve_stop
    rm -f "$LISTEN_SOCK"
    say "starting $BIN serve (socket $LISTEN_SOCK)"
    # Its own session: Ctrl-C in the terminal reaches this script only, which
    # then stops everything in order.
    EVENTBOX_DSN=$APP_DSN EVENTBOX_LISTEN=$LISTEN_SOCK EVENTBOX_BASE_URL=$URL \
        setsid "$BIN" serve </dev/null >>"$LOG_DIR/eventbox.log" 2>&1 9>&- &
    SERVE_PID=$!
    echo "$SERVE_PID" >"$RUN_DIR/eventbox.pid"

    local tenths=$(( START_TIMEOUT * 10 ))
    until unix_listening "$LISTEN_SOCK"; do
        if ! pid_alive "$SERVE_PID"; then
            show_logs eventbox.log
            die "eventbox serve exited during start-up"
        fi
        (( tenths-- > 0 )) || { show_logs eventbox.log; die "eventbox serve is not listening on $LISTEN_SOCK"; }
        sleep 0.1
    done
}

serve_stop() {
    local pid
    pid=$(cat "$RUN_DIR/eventbox.pid" 2>/dev/null || true)
    pid_is "$pid" serve && say "stopping eventbox serve (pid $pid)"
    stop_daemon "$pid" serve TERM 30     # SIGTERM: drains requests in flight
    rm -f "$RUN_DIR/eventbox.pid" "$LISTEN_SOCK"
}

# ---------------------------------------------------------------------------
# Mail: the .eml sink and `eventbox mailer` (see "Mail" at the top)

# The SMTP URL the mailer uses: the configured relay, else the sink.
mail_url() {
    if [ -n "${EVENTBOX_SMTP_URL_GIVEN:-}" ]; then
        printf '%s' "$EVENTBOX_SMTP_URL_GIVEN"
    elif [ -n "$SINK_PORT" ]; then
        printf 'smtp://127.0.0.1:%s' "$SINK_PORT"
    fi
}

sink_start() {
    [ -n "${EVENTBOX_SMTP_URL_GIVEN:-}" ] && return 0    # a real relay
    sink_stop
    SINK_PORT=${SINK_PORT:-${EVENTBOX_SINK_PORT:-$(free_port)}}
    mkdir -p "$VAR/mail"
    say "starting the mail sink on 127.0.0.1:$SINK_PORT (messages in $VAR/mail/)"
    # Niced: it stands in for a relay on another machine, so it should take
    # only what the stack leaves of this machine's CPU.
    setsid nice -n 10 /usr/bin/python3 "$ROOT/deploy/mailsink.py" "$SINK_PORT" "$VAR/mail" \
        </dev/null >>"$LOG_DIR/mailsink.log" 2>&1 9>&- &
    echo $! >"$RUN_DIR/mailsink.pid"
    local tenths=100
    until (: >"/dev/tcp/127.0.0.1/$SINK_PORT") 2>/dev/null; do
        pid_alive "$(cat "$RUN_DIR/mailsink.pid")" || { show_logs mailsink.log; die "the mail sink exited during start-up"; }
        (( tenths-- > 0 )) || { show_logs mailsink.log; die "the mail sink is not listening"; }
        sleep 0.1
    done
}

sink_stop() {
    local pid
    pid=$(cat "$RUN_DIR/mailsink.pid" 2>/dev/null || true)
    pid_is "$pid" sink && say "stopping the mail sink (pid $pid)"
    stop_daemon "$pid" sink TERM 5
    rm -f "$RUN_DIR/mailsink.pid"
}

mailer_start() {
    [ -x "$BIN" ] || die "no eventbox binary at $BIN: build it first (make)"
    mailer_stop
    [ -n "$(mail_url)" ] || die "no SMTP URL and no sink: start the sink first (sink-start)"
    say "starting $BIN mailer (SMTP $(mail_url | sed 's|//[^@/]*@|//***@|'))"
    EVENTBOX_DSN=$MAIL_DSN EVENTBOX_SMTP_URL=$(mail_url) EVENTBOX_BASE_URL=$URL \
        setsid nice -n 10 "$BIN" mailer </dev/null >>"$LOG_DIR/mailer.log" 2>&1 9>&- &
    MAILER_PID=$!
    echo "$MAILER_PID" >"$RUN_DIR/mailer.pid"
}

mailer_stop() {
    local pid
    pid=$(cat "$RUN_DIR/mailer.pid" 2>/dev/null || true)
    pid_is "$pid" mailer && say "stopping eventbox mailer (pid $pid)"
    stop_daemon "$pid" mailer TERM 70    # SIGTERM: finishes the message in flight
    rm -f "$RUN_DIR/mailer.pid"
}

# ---------------------------------------------------------------------------
# nginx

render_nginx() {
    local rate=${EVENTBOX_POST_RATE:-10r/s} burst=${EVENTBOX_POST_BURST:-} user=""
    [[ $rate =~ ^[0-9]+r/[sm]$ ]] || die "EVENTBOX_POST_RATE must look like 10r/s or 600r/m"
    # Burst 20 as in production.  nginx counts requests arriving within the
    # same millisecond against the burst whatever the rate, so a high rate
    # alone (the tests' 100000r/s, meaning "no limit") would still turn
    # away a load test's simultaneous clients: above 2000r/s the burst
    # grows to what the rate allows in 10 ms.
    if [ -z "$burst" ]; then
        local per_s=${rate%r/*}
        [[ $rate == */m ]] && per_s=$(( per_s / 60 ))
        burst=20
        (( per_s > 2000 )) && burst=$(( per_s / 100 ))
    fi
    [[ $burst =~ ^[0-9]+$ ]] || die "EVENTBOX_POST_BURST must be a number"
    is_root && user="user $(id -un) $(id -gn);"
    # Each proxied request takes two connections (client, upstream) and
    # nginx needs a few fds for itself: rlimit = 2 x connections <= hard limit.
    local hard conns
    hard=$(ulimit -Hn)
    [ "$hard" = unlimited ] && hard=65536
    conns=$(( hard / 2 > 4096 ? 4096 : hard / 2 - 16 ))
    (( conns >= 64 )) || conns=64
    local cache_skip=1
    [ "${EVENTBOX_MICROCACHE:-0}" = 1 ] && cache_skip=0
    # nginx's copy of the service's EVENTBOX_CORS_ORIGINS, for its own errors
    "$ROOT/deploy/eventbox-cors-map" >"$NGINX_DIR/cors.map" ||
        die "EVENTBOX_CORS_ORIGINS: an origin nginx cannot match (above)"
    sed -e "s|@POST_RATE@|$rate|g" \
        -e "s|@CACHE_DIR@|$NGINX_DIR/tmp/microcache|g" \
        -e "s|@MICROCACHE_SKIP@|$cache_skip|g" \
        -e "s|@CORS_MAP@|$NGINX_DIR/cors.map|g" \
        "$ROOT/nginx/eventbox-http.conf.in" >"$NGINX_DIR/eventbox-http.conf"
    sed -e "s|@LISTEN@|127.0.0.1:$HTTP_PORT|g" \
        -e "s|@SERVER_NAME@|localhost|g" \
        -e "s|@POST_BURST@|$burst|g" \
        -e "s|@CONN_LIMIT@|${EVENTBOX_CONN_LIMIT:-20}|g" \
        -e "s|@FASTCGI_PASS@|unix:$LISTEN_SOCK|g" \
        -e "s|@STATIC_ROOT@|$ROOT/static|g" \
        -e "s|@ERRORS_ROOT@|$ROOT/nginx/errors|g" \
        -e "s|@ACCESS_LOG@|$LOG_DIR/nginx-access.log|g" \
        -e "s|@ERROR_LOG@|$LOG_DIR/nginx-error.log|g" \
        -e "s|@SERVER_INCLUDE@|$NGINX_DIR/server.d/*.conf|g" \
        "$ROOT/nginx/eventbox.conf.in" >"$NGINX_DIR/eventbox.conf"
    sed -e "s|@USER_DIRECTIVE@|$user|g" \
        -e "s|@WORKER_CONNECTIONS@|$conns|g" \
        -e "s|@WORKER_RLIMIT@|$(( conns * 2 ))|g" \
        -e "s|@NGINX_DIR@|$NGINX_DIR|g" \
        -e "s|@RUN_DIR@|$RUN_DIR|g" \
        -e "s|@LOG_DIR@|$LOG_DIR|g" \
        "$ROOT/nginx/dev-nginx.conf.in" >"$NGINX_DIR/nginx.conf"
    if grep -n '^[^#]*@[A-Z_]*@' "$NGINX_DIR"/*.conf >&2; then
        die "unrendered placeholders in $NGINX_DIR (above)"
    fi
}

nginx_args() {
    NGINX_ARGS=(-p "$NGINX_DIR/" -c "$NGINX_DIR/nginx.conf" -e "$LOG_DIR/nginx-error.log")
}

# Start nginx.  If the port was taken, set NGINX_BUSY=1 and return (the
# caller may pick another port).
nginx_start_once() {
    NGINX_BUSY=0
    render_nginx
    nginx_args
    nginx -t -q "${NGINX_ARGS[@]}" 9>&- || die "nginx configuration test failed"
    say "starting nginx on $URL"
    local mark
    mark=$(wc -c <"$LOG_DIR/nginx-error.log" 2>/dev/null || echo 0)
    setsid nginx "${NGINX_ARGS[@]}" </dev/null >>"$LOG_DIR/nginx-error.log" 2>&1 9>&- &
    NGINX_PID=$!
    # nginx writes its pid file once its sockets are bound.
    local tenths=100
    until [ "$(cat "$RUN_DIR/nginx.pid" 2>/dev/null)" = "$NGINX_PID" ]; do
        if ! pid_alive "$NGINX_PID"; then
            if tail -c +"$(( mark + 1 ))" "$LOG_DIR/nginx-error.log" | grep -q 'Address already in use'; then
                NGINX_BUSY=1
                return 0
            fi
            show_logs nginx-error.log
            die "nginx exited during start-up"
        fi
        (( tenths-- > 0 )) || { show_logs nginx-error.log; die "nginx did not start"; }
        sleep 0.1
    done
}

nginx_start() {
    nginx_stop
    local tries=3
    while :; do
        nginx_start_once
        [ "$NGINX_BUSY" = 0 ] && return 0
        if [ "$PORT_FIXED" = 1 ] || (( --tries == 0 )); then
            show_logs nginx-error.log
            die "port $HTTP_PORT is in use (set EVENTBOX_HTTP_PORT to another port)"
        fi
        HTTP_PORT=$(free_port)
        set_derived
    done
}

nginx_stop() {
    local pid
    pid=$(cat "$RUN_DIR/nginx.pid" 2>/dev/null || true)
    pid_is "$pid" nginx && say "stopping nginx (pid $pid)"
    stop_daemon "$pid" nginx QUIT 10     # SIGQUIT: finishes requests in flight
    rm -f "$RUN_DIR/nginx.pid"
}

# ---------------------------------------------------------------------------
# The whole stack

wait_healthy() {
    local tenths=$(( START_TIMEOUT * 10 )) code=""
    while :; do
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$URL/healthz" || true)
        [ "$code" = 200 ] && return 0
        if ! pid_alive "$SERVE_PID" || ! pid_alive "$NGINX_PID"; then
            show_logs eventbox.log nginx-error.log postgres.log
            die "the stack died during start-up"
        fi
        if (( tenths-- <= 0 )); then
            show_logs eventbox.log nginx-error.log postgres.log
            die "GET $URL/healthz did not answer 200 within ${START_TIMEOUT}s (last: $code)"
        fi
        sleep 0.1
    done
}

bring_up() {
    prepare_dirs
    write_env
    pg_start
    pg_bootstrap
    migrate
    load_sample
    printf '%s\n' "$BIN" >"$BIN_FILE"
    nginx_start            # first, so the port (and so the base URL) is final
    serve_start
    sink_start
    [ "$START_MAILER" = 1 ] && mailer_start
    write_env
    wait_healthy
}

stop_all() {
    nginx_stop             # no new requests
    serve_stop             # drain the ones in flight
    mailer_stop            # finishes the message in flight
    sink_stop
    pg_stop
}

STOPPED=0
stop_on_exit() {
    [ "$STOPPED" = 1 ] && return 0
    STOPPED=1
    trap '' INT TERM       # a second Ctrl-C must not cut the shutdown short
    stop_all || true
}

# ---------------------------------------------------------------------------
# Subcommands

need_vardir() {
    [ -n "${2:-}" ] || die "usage: $0 $1 VARDIR"
}

cmd_run() {
    ensure_packages
    find_pg_bin
    use_var "${EVENTBOX_VAR:-$ROOT/var}" create
    lock_var nowait
    gc_relocated
    HTTP_PORT=${EVENTBOX_HTTP_PORT:-8080} PORT_FIXED=1
    PG_PORT=${EVENTBOX_PG_PORT:-5432}
    START_MAILER=1
    set_derived

    trap stop_on_exit EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    bring_up

    echo
    echo "eventbox is running: $URL/events"
    echo "  database prompt: make psql   (or: deploy/devstack.sh psql)"
    echo "  logs:            $LOG_DIR/"
    if [ -z "${EVENTBOX_SMTP_URL_GIVEN:-}" ]; then
        echo "  emails:          $VAR/mail/*.eml (a local sink; set EVENTBOX_SMTP_URL for a relay)"
    fi
    echo "  stop:            Ctrl-C"
    echo

    # Until either daemon exits (or a signal arrives: the traps exit).
    wait -n "$SERVE_PID" "$NGINX_PID" || true
    pid_alive "$SERVE_PID" || say "eventbox serve exited; see $LOG_DIR/eventbox.log"
    pid_alive "$NGINX_PID" || say "nginx exited; see $LOG_DIR/nginx-error.log"
    exit 1
}

cmd_start() {
    ensure_packages
    find_pg_bin
    use_var "$1" create
    lock_var
    gc_relocated
    # EVENTBOX_HTTP_PORT next to an EVENTBOX_VAR naming another directory
    # comes from sourcing another stack's env file: that port is taken.
    if [ -n "${EVENTBOX_HTTP_PORT:-}" ] && [ -n "${EVENTBOX_VAR:-}" ] && [ "$EVENTBOX_VAR" != "$VAR" ]; then
        say "ignoring EVENTBOX_HTTP_PORT=$EVENTBOX_HTTP_PORT: it belongs to the stack in $EVENTBOX_VAR"
        unset EVENTBOX_HTTP_PORT
    fi
    if [ -n "${EVENTBOX_HTTP_PORT:-}" ]; then
        HTTP_PORT=$EVENTBOX_HTTP_PORT PORT_FIXED=1
    else
        HTTP_PORT=$(free_port) PORT_FIXED=0
    fi
    PG_PORT=${EVENTBOX_PG_PORT:-5432}
    set_derived

    # Half a stack is no use to the tests and would leak processes.
    trap stop_on_exit EXIT
    bring_up
    trap - EXIT
    say "stack is up: $URL (environment: . $ENV_FILE)"
}

cmd_stop() {
    use_var "$1" existing || return 0       # nothing there, nothing to stop
    find_pg_bin
    lock_var
    load_state
    stop_all
}

cmd_destroy() {
    cmd_stop "$1"
    use_var "$1" existing || return 0
    local base=""
    [ -L "$VAR/pg" ] && base=$(dirname "$(readlink -m "$VAR/pg")")
    if [ -n "$base" ] && [ -f "$base/owner" ]; then
        rm -rf "$base"
    fi
    rm -rf "$VAR/pg" "$VAR/run" "$VAR/nginx" "$VAR/log" "$ENV_FILE" "$BIN_FILE" \
        "$VAR/.devstack.lock"
    rmdir "$VAR" 2>/dev/null || true
}

# pg-start / pg-stop / serve-start / serve-stop on a started stack.
cmd_part() {
    local what=$1
    if ! use_var "$2" existing || [ ! -f "$VAR/env" ]; then
        die "no stack in $2 (start it with: $0 start $2)"
    fi
    find_pg_bin
    lock_var
    load_state
    case $what in
        pg-start) pg_start ;;
        pg-stop) pg_stop ;;
        serve-stop) serve_stop; write_env ;;
        sink-start) sink_start; write_env ;;
        sink-stop) sink_stop; write_env ;;
        mailer-start) mailer_start; write_env ;;
        mailer-stop) mailer_stop; write_env ;;
        serve-start)
            serve_start
            write_env
            # With the database and nginx up, wait until it answers too.
            local nginx_pid
            nginx_pid=$(cat "$RUN_DIR/nginx.pid" 2>/dev/null || true)
            if pg_pid >/dev/null && pid_alive "$nginx_pid"; then
                NGINX_PID=$nginx_pid
                wait_healthy
            fi
            ;;
    esac
}

cmd_psql() {
    if ! use_var "${EVENTBOX_VAR:-$ROOT/var}" existing || [ ! -f "$VAR/env" ]; then
        die "no dev stack in ${EVENTBOX_VAR:-var/}: start one with \`make run\`"
    fi
    load_state
    find_pg_bin
    [ -S "$RUN_DIR/.s.PGSQL.$PG_PORT" ] ||
        die "PostgreSQL of $VAR is not running (start the stack with \`make run\`)"
    exec "$PG_BIN/psql" -h "$RUN_DIR" -p "$PG_PORT" -U "$DB_OWNER" -d "$DB_NAME" "$@"
}

usage() {
    sed -n '2,/^$/{s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
}

# Globals with defaults (set properly by the subcommands).
BIN=$(realpath -m -- "${EVENTBOX_BIN:-$ROOT/eventbox}")
START_TIMEOUT=${EVENTBOX_START_TIMEOUT:-60}
HTTP_PORT=${EVENTBOX_HTTP_PORT:-8080}
PG_PORT=${EVENTBOX_PG_PORT:-5432}
PORT_FIXED=1
SERVE_PID=""
NGINX_PID=""
NGINX_BUSY=0
PG_BIN=""
SINK_PORT=""
MAILER_PID=""
START_MAILER=${EVENTBOX_START_MAILER:-0}
# A relay given by the caller; an EVENTBOX_SMTP_URL that merely came from
# sourcing VARDIR/env (the sink's own URL) does not count.
EVENTBOX_SMTP_URL_GIVEN=${EVENTBOX_SMTP_URL:-}
if [ -n "$EVENTBOX_SMTP_URL_GIVEN" ] && [[ $EVENTBOX_SMTP_URL_GIVEN == smtp://127.0.0.1:${EVENTBOX_SINK_PORT:-none} ]]; then
    EVENTBOX_SMTP_URL_GIVEN=""
fi

# Relative paths given on the command line are relative to the caller's
# directory; everything after that runs from the repository root (where
# `eventbox migrate` finds sql/).
cmd=${1:-}
[ $# -gt 0 ] && shift
vardir=""
case $cmd in
    start | stop | destroy | pg-start | pg-stop | serve-start | serve-stop | \
    sink-start | sink-stop | mailer-start | mailer-stop)
        need_vardir "$cmd" "${1:-}"
        vardir=$(realpath -m -- "$1")
        ;;
esac
if [ -n "${EVENTBOX_VAR:-}" ]; then
    EVENTBOX_VAR=$(realpath -m -- "$EVENTBOX_VAR")
fi
cd "$ROOT"

case $cmd in
    run) cmd_run ;;
    start) cmd_start "$vardir" ;;
    stop) cmd_stop "$vardir" ;;
    destroy) cmd_destroy "$vardir" ;;
    pg-start | pg-stop | serve-start | serve-stop | sink-start | sink-stop | \
    mailer-start | mailer-stop) cmd_part "$cmd" "$vardir" ;;
    psql) cmd_psql "$@" ;;
    deps | ensure-packages) ensure_packages "${1:-}" ;;
    -h | --help | help) usage ;;
    *) usage >&2; exit 2 ;;
esac
