#!/bin/bash
# tests/rehearse.sh: `make rehearse`, the production deployment on loopback.
#
# It does what docs/DEPLOY.md and docs/SCALING.md tell a sysadmin to do, on
# this machine, as root, and checks the result:
#   1. builds the Debian package (dpkg-buildpackage, in a scratch copy) and
#      installs it with apt on a clean slate (the package purged first):
#      users, units, env files, nginx site; then purges it again and
#      installs an older release's package instead (OLD_RELEASE, built from
#      git history the same way), which steps 2 to 4 set up and run;
#   2. PostgreSQL as two "hosts" (clusters on ports 5441 and 5442, sockets in
#      /var/run/postgresql) with streaming replication and automatic
#      failover by pg_auto_failover (a monitor on 5440), synchronous;
#      eventbox-setup-db on each;
#   3. starts every process as its systemd unit says: User=, Group=,
#      Environment=, EnvironmentFile=, ExecStartPre=, ExecStart=,
#      RuntimeDirectory=, UMask= are read from /lib/systemd/system/*.service
#      (systemd need not run here; its sandboxing is not emulated, and a
#      systemctl of the rehearsal's own stands in for "nginx.service").
#      Two `eventbox serve`
#      instances ("hosts" A on the unit's unix socket, B on 127.0.0.3), two
#      mailers, one nginx with the installed site (a certificate made for
#      the test; listen addresses moved to 127.0.0.1 and free ports);
#      with the old release, registers patrons and sends their mail, then
#      upgrades to this tree's package as DEPLOY.md's "Upgrading" says
#      (apt, migrations, restart; the conffiles the setup edited, the log
#      directory note) and checks the old registrations' links;
#   4. registers over HTTPS, receives the mail over SMTP (deploy/mailsink.py),
#      purges as the ops role, makes and revokes a staff API key as
#      DEPLOY.md says, changes EVENTBOX_CORS_ORIGINS and restarts the
#      service (nginx's own 413 then names the new origin), checks that
#      each OS user is refused as the
#      other roles, the owners and modes of what it installed, a pg_dump
#      restored into a scratch database;
#   5. throughput with one and with two service instances; then, under
#      load, kills the primary database, one service instance and one
#      mailer, and checks that no seat was sold twice and no confirmed
#      registration or confirmation email was lost;
#   6. puts the dump into service on the new primary and registers again.
# The commands the docs give a sysadmin (apt-get, the monitor's settings,
# the site's link, the backups, the restore, an upgrade's migrations) are
# read from docs/*.md at each run (doc_cmd, doc_block) and run as written.
# It cleans up after itself (the package, its users and /etc/eventbox stay
# installed: a re-run purges the package and installs it afresh).
# Last line: N passed, M failed.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd -P)
R=/var/lib/eventbox-rehearse
LOG=$R/log
PGBIN=/usr/lib/postgresql/15/bin
SOCK=/var/run/postgresql
MON_PORT=5440 A_PORT=5441 B_PORT=5442
MON_URI="postgres://autoctl_node@127.0.0.1:$MON_PORT/pg_auto_failover?sslmode=disable"
NAME=events.test
UNITS=/lib/systemd/system
START=$(date +%s)
# Other jobs on the machine may be installing packages: wait for dpkg's lock.
APT_WAIT=(-o DPkg::Lock::Timeout=600)
# The release an upgrade is rehearsed from (docs/DEPLOY.md, Upgrading): the
# commit before 3303fdd, the last whose units shared /var/log/eventbox (the
# note for hosts upgraded from it), with the Debian packaging (508418c on)
# and the old layout's migrations 001-023; it builds on Debian 12.
# tests/test_upgrade.py pins its own (older: the database alone).
OLD_RELEASE=98ee94e

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok: $*"; }
bad() { failed=$((failed + 1)); echo "FAILED: $*"; }
check() {  # check DESCRIPTION COMMAND...: passes when COMMAND succeeds
    local what=$1
    shift
    if "$@" >>"$LOG/checks.log" 2>&1; then ok "$what"; else bad "$what"; fi
}
refuse() {  # refuse DESCRIPTION COMMAND...: passes when COMMAND fails
    local what=$1
    shift
    if "$@" >>"$LOG/checks.log" 2>&1; then bad "$what"; else ok "$what"; fi
}
say() { printf '== %s (%ds)\n' "$*" "$(( $(date +%s) - START ))"; }
finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit
}
die() { bad "$*"; cleanup; finish; }

[ "$(id -u)" = 0 ] || { echo "make rehearse runs as root (it installs a package)"; echo "0 passed, 1 failed"; exit 1; }
exec 8>/run/lock/eventbox-rehearse.lock
flock -w 600 8 || { echo "another rehearsal holds the lock"; echo "0 passed, 1 failed"; exit 1; }

# ---------------------------------------------------------------------------
# Processes: each started in its own session; cleanup kills the groups.

started_groups=()
as_pg() { (cd / && runuser -u postgres -- "$@"); }
# pg_autoctl's pid files (no XDG_RUNTIME_DIR): one left by a rehearsal that
# was killed names a pid that another process may have now, and then
# "pg_autoctl is already running" stops the next one's `create`.
PGAF_PIDS=/tmp/pg_autoctl$R
pg_env=(env PATH="$PGBIN:/usr/bin:/bin" PGPASSFILE="$R/pgaf/pgpass"
        XDG_CONFIG_HOME="$R/pgaf/xdg/config" XDG_DATA_HOME="$R/pgaf/xdg/data")

spawn() {  # spawn LOGNAME COMMAND...: in the background, own session
    local name=$1
    shift
    setsid "$@" </dev/null >>"$LOG/$name.log" 2>&1 8>&- &
    disown
}

kill_group() {
    local g=$1
    kill -KILL -- "-$g" 2>/dev/null || true
}

# Kills every process of user postgres working in $R (its data directories).
postgres_here() {
    local pid
    for pid in $(pgrep -u postgres 2>/dev/null); do
        [[ $(readlink "/proc/$pid/cwd" 2>/dev/null) == "$R/"* ]] &&
            kill -KILL "$pid" 2>/dev/null
    done
    return 0
}

CLEANED=0
SITE_LINKED=0
BACKUP_DIR_MADE=0
DUMP=
cleanup() {
    local g pid
    [ "$CLEANED" = 1 ] && return 0
    CLEANED=1
    for g in "${started_groups[@]}"; do kill_group "$g"; done
    # What the keepers started (postgres forks into its own session).
    for pid in $(pgrep -f "$R/" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
    for pid in $(pgrep -u postgres -f 'pg_autoctl' 2>/dev/null); do
        [[ $(tr '\0' ' ' 2>/dev/null <"/proc/$pid/environ") == *"$R/pgaf"* ]] &&
            kill -KILL "$pid" 2>/dev/null
    done
    # A postmaster's children rename themselves ("postgres: ... logger")
    # and outlive it when it is killed (the monitor's logger and its
    # health-check worker did): found by their working directory.
    postgres_here
    sleep 0.5
    rm -f "$SOCK"/.s.PGSQL.544[012] "$SOCK"/.s.PGSQL.544[012].lock
    rm -rf "$PGAF_PIDS"
    # Configuration the rehearsal edited: back to what the package installed.
    if [ -d "$R/etc-saved" ]; then
        cp -p "$R"/etc-saved/*.env /etc/eventbox/ 2>/dev/null
        cp -p "$R/etc-saved/tls.conf" /etc/nginx/eventbox.d/tls.conf 2>/dev/null
        cp -p "$R/etc-saved/eventbox" /etc/nginx/sites-available/eventbox 2>/dev/null
        cp -p "$R/etc-saved/eventbox-cors.map" /etc/nginx/eventbox-cors.map 2>/dev/null
    fi
    [ "$SITE_LINKED" = 1 ] && rm -f /etc/nginx/sites-enabled/eventbox
    [ -n "$DUMP" ] && rm -f "$DUMP"
    [ "$BACKUP_DIR_MADE" = 1 ] && rmdir /var/backups/eventbox 2>/dev/null
    rm -rf /run/eventbox
    rm -f /etc/nginx/sites-available/eventbox.dpkg-dist /etc/nginx/sites-available/eventbox.dpkg-old
    # The log directories the units' LogsDirectory= made (their files into
    # the rehearsal's logs first).
    if [ -f "$R/logs-made" ]; then
        for d in $(sort -u "$R/logs-made"); do
            cp -p "$d"/*.log "$LOG/" 2>/dev/null
            rm -rf "$d"
        done
    fi
    if [ "$failed" -eq 0 ]; then
        rm -rf "$R"
    else
        echo "logs kept in $LOG"
        rm -rf "$R/src" "$R/pgaf/mon" "$R/pgaf/a" "$R/pgaf/b"
    fi
}
trap 'cleanup' EXIT
trap 'exit 130' INT TERM

# Start the service of a systemd unit as the unit says (see the top).
# start_unit UNIT [ENVFILE]: ENVFILE replaces the unit's EnvironmentFile=
# (another host's copy).  Prints the pid (a session leader); nothing, and
# status 1, when an ExecStartPre= failed (systemd would not start it).
# An ExecStartPre= prefixed "+" runs as root, any other as User=; "-"
# lets it fail.
unit_get() { sed -n "s/^$2=//p" "$UNITS/$1"; }
start_unit() {
    local unit=$1 envfile=${2:-} user group exec umask rtdir rtmode logsdir logsmode line pre
    user=$(unit_get "$unit" User)
    group=$(unit_get "$unit" Group)
    exec=$(unit_get "$unit" ExecStart)
    umask=$(unit_get "$unit" UMask)
    rtdir=$(unit_get "$unit" RuntimeDirectory)
    rtmode=$(unit_get "$unit" RuntimeDirectoryMode)
    logsdir=$(unit_get "$unit" LogsDirectory)
    logsmode=$(unit_get "$unit" LogsDirectoryMode)
    [ -n "$envfile" ] || envfile=$(unit_get "$unit" EnvironmentFile)
    local envs=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8)
    while IFS= read -r line; do envs+=("$line"); done < <(unit_get "$unit" Environment)
    while IFS= read -r line; do
        [[ $line =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] && envs+=("$line")
    done <"${envfile#-}"
    if [ -n "$rtdir" ] && [ ! -d "/run/$rtdir" ]; then
        install -d -m "${rtmode:-0755}" -o "$user" -g "$group" "/run/$rtdir"
    fi
    # LogsDirectory=: systemd makes it, and hands it to this unit's user at
    # each start (what made a directory shared by two units a trap).
    if [ -n "$logsdir" ]; then
        [ -d "/var/log/$logsdir" ] || echo "/var/log/$logsdir" >>"$R/logs-made"
        install -d "/var/log/$logsdir" && chown "$user:$group" "/var/log/$logsdir" &&
            chmod "${logsmode:-0755}" "/var/log/$logsdir"
    fi
    while IFS= read -r pre; do
        local as_root=0 may_fail=0
        while [[ $pre == [-+]* ]]; do
            [[ $pre == +* ]] && as_root=1
            [[ $pre == -* ]] && may_fail=1
            pre=${pre:1}
        done
        # shellcheck disable=SC2086   # plain words, as ExecStart=
        if [ "$as_root" = 1 ]; then
            (umask "${umask:-0022}"; cd / && env -i "${envs[@]}" PATH="$R/bin:/usr/sbin:/usr/bin:/sbin:/bin" $pre)
        else
            (umask "${umask:-0022}"; cd / && setpriv --reuid="$user" --regid="$group" \
                --init-groups --no-new-privs env -i "${envs[@]}" $pre)
        fi </dev/null >>"$LOG/${unit%.service}.log" 2>&1 8>&- ||
            [ "$may_fail" = 1 ] || { echo "$unit: ExecStartPre=$pre failed" >>"$LOG/${unit%.service}.log"; return 1; }
    done < <(unit_get "$unit" ExecStartPre)
    # shellcheck disable=SC2086   # ExecStart= is plain words
    (umask "${umask:-0022}"; cd / && exec setsid setpriv --reuid="$user" --regid="$group" \
        --init-groups --no-new-privs --inh-caps=-all --bounding-set=-all \
        env -i "${envs[@]}" $exec) </dev/null >>"$LOG/${unit%.service}.log" 2>&1 8>&- &
    echo $!
}

psql_su() {  # psql_su PORT DB [ARGS]: as the superuser, on one node
    local port=$1 db=$2
    shift 2
    as_pg psql -X -q -At -v ON_ERROR_STOP=1 -h "$SOCK" -p "$port" -d "$db" "$@"
}
primary_port() {
    local p
    for p in $A_PORT $B_PORT; do
        [ "$(psql_su "$p" postgres -c 'SELECT pg_is_in_recovery()' 2>/dev/null)" = f ] &&
            { echo "$p"; return 0; }
    done
    return 1
}
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
wait_for() {  # wait_for SECONDS COMMAND...
    local tenths=$(( $1 * 10 ))
    shift
    until "$@" >/dev/null 2>&1; do
        (( tenths-- > 0 )) || return 1
        sleep 0.1
    done
}

# The docs' own commands (doc_cmd, doc_block) and copy_tree.
. "$ROOT/tests/doclib.sh"
# run_doc PORT SCRIPT [FILE]: runs SCRIPT (doc_cmd's or doc_block's) as
# root does, with bash, from root's home directory (which postgres may not
# enter), the rehearsal's database port in PGPORT, FILE for "FILE.dump".
run_doc() {
    local port=$1 script=$2 file=${3:-}
    [ -n "$script" ] || { echo "run_doc: no command (the docs changed?)"; return 1; }
    [ -z "$file" ] || script=${script//FILE.dump/$file}
    printf 'as the docs say:\n%s\n' "$script"
    (cd /root 2>/dev/null || cd /
     PGHOST=$SOCK PGPORT=$port bash -euo pipefail -c "$script")
}

# ---------------------------------------------------------------------------
say "packages"
need=(debhelper dpkg-dev postgresql-15 postgresql-15-auto-failover
      pg-auto-failover-cli nginx-light python3-aiosmtpd python3-psycopg2
      openssl ssl-cert curl util-linux)
missing=()
for p in "${need[@]}"; do
    case $p in nginx-light) command -v nginx >/dev/null && continue ;; esac
    [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    apt-get "${APT_WAIT[@]}" update -qq && DEBIAN_FRONTEND=noninteractive apt-get "${APT_WAIT[@]}" install -y -qq \
        --no-install-recommends "${missing[@]}" >/dev/null || die "apt-get install ${missing[*]}"
fi

cleanup_prev() {   # a rehearsal that was killed before its cleanup
    postgres_here
    rm -rf "$R" "$PGAF_PIDS"
}
cleanup_prev
mkdir -p "$LOG" "$R/src" "$R/tls" "$R/mail" "$R/nginx" "$R/etc-saved" "$R/bin"
chmod 0755 "$R"
# systemd does not run here: "nginx.service" is the rehearsal's nginx, for
# what eventbox.service's ExecStartPre= asks of it (deploy/eventbox-cors-map).
cat >"$R/bin/systemctl" <<EOF
#!/bin/sh
case "\$*" in
"is-active --quiet nginx.service") kill -0 "\$(cat $R/nginx/nginx.pid 2>/dev/null)" 2>/dev/null ;;
"--no-block reload nginx.service")
    echo "\$(date +%s) reload" >>$LOG/systemctl.log
    nginx -s reload -c $R/nginx/nginx.conf ;;
*) echo "rehearsal systemctl: \$*: not emulated" >&2; exit 1 ;;
esac
EOF
chmod 0755 "$R/bin/systemctl"

# ---------------------------------------------------------------------------
say "1. build the Debian packages, this tree's and $OLD_RELEASE's (docs/DEPLOY.md, step 1)"
mkdir -p "$R/src/eventbox"
copy_tree "$R/src/eventbox"
# DEPLOY.md's build dependencies: its apt-get line, as written (an extra
# configuration answers its question: the machine has them all already,
# so this proves the names), names each package of Build-Depends.
printf 'APT::Get::Assume-Yes "true";\nDPkg::Lock::Timeout "600";\n' >"$R/apt.conf"
BUILD_DEPS=$(doc_cmd DEPLOY.md 'apt-get install build-essential')
build_deps() { (export APT_CONFIG="$R/apt.conf" DEBIAN_FRONTEND=noninteractive; run_doc "" "$BUILD_DEPS"); }
check "DEPLOY.md's apt-get install line runs as written" build_deps
missing_deps=$(sed -n '/^Build-Depends:/,/^[A-Z][A-Za-z-]*:/{/^Build-Depends:/p;/^ /p}' "$ROOT/debian/control" |
    sed 's/^Build-Depends://' | tr ',' '\n' | sed 's/([^)]*)//; s/^ *//; s/ *$//; s/^debhelper-compat$/debhelper/' |
    while read -r dep; do
        [ -z "$dep" ] || grep -qw -- "$dep" <<<"$BUILD_DEPS" || echo "$dep"
    done)
check "DEPLOY.md's apt-get line names every Build-Depends${missing_deps:+ (missing: $missing_deps)}" \
    test -z "$missing_deps"
(cd "$R/src/eventbox" && dpkg-buildpackage -b -us -uc -j2) >"$LOG/dpkg-buildpackage.log" 2>&1 ||
    die "dpkg-buildpackage (see $LOG/dpkg-buildpackage.log)"
deb=$(ls "$R"/src/eventbox_*.deb | head -n 1)
ok "dpkg-buildpackage built $(basename "$deb")"
# The release an upgrade starts from, built the same way from git history.
OLD_BUILD_START=$(date +%s)
mkdir -p "$R/old/eventbox"
git -C "$ROOT" archive "$OLD_RELEASE" 2>>"$LOG/dpkg-buildpackage-old.log" | tar -xf - -C "$R/old/eventbox" ||
    die "git archive $OLD_RELEASE: the upgrade's release needs the project's history (not a shallow clone)"
(cd "$R/old/eventbox" && dpkg-buildpackage -b -us -uc -j2) >>"$LOG/dpkg-buildpackage-old.log" 2>&1 ||
    die "dpkg-buildpackage of $OLD_RELEASE (see $LOG/dpkg-buildpackage-old.log)"
old_deb=$(ls "$R"/old/eventbox_*.deb | head -n 1)
ok "dpkg-buildpackage built $OLD_RELEASE's $(basename "$old_deb") in $(( $(date +%s) - OLD_BUILD_START )) s"
# A clean slate: no package, no /etc/eventbox, no conffiles (a purge; the
# system users stay, as Debian leaves them).
purge() {
    dpkg-query -W -f='${Status}' eventbox 2>/dev/null | grep -qv 'not-installed' || return 0
    DEBIAN_FRONTEND=noninteractive apt-get "${APT_WAIT[@]}" purge -y -qq eventbox >>"$LOG/apt-install.log" 2>&1
}
purge || die "apt-get purge eventbox"
DEBIAN_FRONTEND=noninteractive apt-get "${APT_WAIT[@]}" install -y -qq "$deb" >>"$LOG/apt-install.log" 2>&1 </dev/null ||
    die "apt-get install $deb"
ok "apt-get install ./$(basename "$deb") on a machine without the package"
for f in /etc/eventbox/*.env /etc/nginx/eventbox.d/tls.conf /etc/nginx/sites-available/eventbox \
         /etc/nginx/eventbox-cors.map; do
    cp -p "$f" "$R/etc-saved/"
done
check "nginx's CORS map is there, and no conffile (the service renders it)" sh -c "
    [ -f /etc/nginx/eventbox-cors.map ] &&
    ! dpkg-query -W -f='\${Conffiles}' eventbox | grep -q ' /etc/nginx/eventbox-cors.map [0-9a-f]* *\$'"

check "release binary is hardened (PIE, full RELRO, stack protector, fortify)" \
    "$ROOT/tests/hardening.sh" /usr/bin/eventbox
for u in eventbox-web eventbox-mail eventbox-purge; do
    check "system user $u exists, no login shell" \
        sh -c "getent passwd $u | grep -q ':/usr/sbin/nologin\$'"
done
mode_is() {  # mode_is PATH MODE OWNER GROUP
    [ "$(stat -c '%a %U %G' "$1")" = "$2 $3 $4" ] || { echo "$1: $(stat -c '%a %U %G' "$1"), want $2 $3 $4"; return 1; }
}
check "/etc/eventbox/web.env: 600 eventbox-web" mode_is /etc/eventbox/web.env 600 eventbox-web eventbox-web
check "/etc/eventbox/mailer.env: 600 eventbox-mail" mode_is /etc/eventbox/mailer.env 600 eventbox-mail eventbox-mail
check "/etc/eventbox/purge.env: 600 eventbox-purge" mode_is /etc/eventbox/purge.env 600 eventbox-purge eventbox-purge
check "EVENTBOX_SECRET only in web.env, SMTP URL only in mailer.env" sh -c '
    grep -q "^EVENTBOX_SECRET=[0-9a-f]\{64\}$" /etc/eventbox/web.env &&
    ! grep -q "^EVENTBOX_SECRET" /etc/eventbox/mailer.env /etc/eventbox/purge.env &&
    ! grep -q "^EVENTBOX_SMTP_URL" /etc/eventbox/web.env /etc/eventbox/purge.env'
refuse "eventbox-web cannot read mailer.env" runuser -u eventbox-web -- cat /etc/eventbox/mailer.env
refuse "eventbox-web cannot read purge.env" runuser -u eventbox-web -- cat /etc/eventbox/purge.env
refuse "eventbox-mail cannot read web.env" runuser -u eventbox-mail -- cat /etc/eventbox/web.env
check "installed files are root's and not writable by others" sh -c '
    test -z "$(find /usr/bin/eventbox /usr/sbin/eventbox-setup-db /usr/share/eventbox \
        /lib/systemd/system/eventbox* /etc/nginx/sites-available/eventbox /etc/nginx/eventbox.d \
        \( ! -user root -o -perm /022 \) -print)"'
# What the rest runs is the older release, upgraded in step 4.
purge || die "apt-get purge eventbox"
DEBIAN_FRONTEND=noninteractive apt-get "${APT_WAIT[@]}" install -y -qq "$old_deb" >>"$LOG/apt-install.log" 2>&1 </dev/null ||
    die "apt-get install $old_deb"
check "$OLD_RELEASE's package installed on a machine without the package" sh -c "
    [ -f /etc/eventbox/web.env ] && [ ! -e /etc/nginx/eventbox-cors.map ] &&
    cmp -s /usr/bin/eventbox $R/old/eventbox/debian/eventbox/usr/bin/eventbox"

# ---------------------------------------------------------------------------
say "2. PostgreSQL: two nodes and a monitor (pg_auto_failover), docs/SCALING.md"
install -d -m 0700 -o postgres -g postgres "$R/pgaf" "$R/pgaf/xdg"
chown postgres:postgres "$LOG"
pw() { openssl rand -hex 16; }
MONPW=$(pw) REPPW=$(pw) HCPW=$(pw)
printf '%s\n' "127.0.0.1:*:*:autoctl_node:$MONPW" \
    "127.0.0.1:*:*:pgautofailover_replicator:$REPPW" \
    "127.0.0.1:*:*:pgautofailover_monitor:$HCPW" >"$R/pgaf/pgpass"
chown postgres:postgres "$R/pgaf/pgpass"
chmod 0600 "$R/pgaf/pgpass"
# No "trust" anywhere (pg_autoctl's initdb writes it, and its own rules
# would trust the health-check role: --skip-pg-hba): peer on the socket,
# scram-sha-256 over TCP, where initdb's "host all all 127.0.0.1/32" and
# "host replication all 127.0.0.1/32" lines cover pg_auto_failover's roles;
# and 127.0.0.1 only.
nohba_trust() {
    sed -i -E 's/^(local.*)trust$/\1peer/; s/^(host.*)trust$/\1scram-sha-256/' "$1/pg_hba.conf"
}
pgaf() { as_pg "${pg_env[@]}" pg_autoctl "$@"; }
run_keeper() {  # run_keeper NAME: `pg_autoctl run` for one node, own session
    (cd / && setsid runuser -u postgres -- "${pg_env[@]}" pg_autoctl run \
        --pgdata "$R/pgaf/$1") </dev/null >>"$LOG/pg-$1.log" 2>&1 8>&- &
    disown
    eval "KEEPER_$1=$!"
    started_groups+=("$!")
}
pgaf create monitor --pgdata "$R/pgaf/mon" --pgport $MON_PORT --hostname 127.0.0.1 \
    --skip-pg-hba --no-ssl >>"$LOG/pg-create.log" 2>&1 || die "pg_autoctl create monitor"
nohba_trust "$R/pgaf/mon"
# The monitor's own pg_autoctl logs in over the socket as autoctl_node.
sed -i '1i local pg_auto_failover autoctl_node peer map=pgaf' "$R/pgaf/mon/pg_hba.conf"
echo 'pgaf postgres autoctl_node' >>"$R/pgaf/mon/pg_ident.conf"
pgaf config set --pgdata "$R/pgaf/mon" postgresql.listen_addresses 127.0.0.1 >>"$LOG/pg-create.log" 2>&1
run_keeper mon
wait_for 30 psql_su $MON_PORT pg_auto_failover -c 'SELECT 1' || die "the monitor did not start"
psql_su $MON_PORT pg_auto_failover -c "ALTER USER autoctl_node PASSWORD '$MONPW'" ||
    die "the monitor's password"
# Fail over fast: health checks every second, a node is down after 3 s, and
# a promoted standby waits 3 s (default 30 s) for the old primary to demote
# itself (docs/SCALING.md says why that is safe).  The block of SCALING.md,
# as written.
MON_SETTINGS=$(doc_block SCALING.md 'ALTER SYSTEM SET pgautofailover.health_check_period')
[ -n "$MON_SETTINGS" ] || die "docs/SCALING.md lost the monitor's settings"
psql_su $MON_PORT pg_auto_failover <<<"$MON_SETTINGS" >>"$LOG/checks.log" || die "monitor settings"
check "the monitor's settings of SCALING.md are in force" sh -c "
    case \"\$(runuser -u postgres -- psql -X -At -h $SOCK -p $MON_PORT -d pg_auto_failover -c 'SHOW pgautofailover.primary_demote_timeout')\" in 3s|3000) ;; *) exit 1 ;; esac"
node_opts() {  # node_opts NAME PORT
    echo --pgdata "$R/pgaf/$1" --pgport "$2" --pghost "$SOCK" --listen 127.0.0.1 \
        --hostname 127.0.0.1 --name "$1" --skip-pg-hba --no-ssl \
        --monitor "$MON_URI"
}
# shellcheck disable=SC2046
pgaf create postgres $(node_opts a $A_PORT) >>"$LOG/pg-create.log" 2>&1 || die "pg_autoctl create postgres a"
nohba_trust "$R/pgaf/a"
run_keeper a
wait_for 60 psql_su $A_PORT postgres -c 'SELECT 1' || die "node a did not start"
wait_for 60 sh -c "[ \"\$(runuser -u postgres -- psql -X -At -h $SOCK -p $MON_PORT -d pg_auto_failover -c \"SELECT reportedstate FROM pgautofailover.node WHERE nodename = 'a'\")\" = single ]" ||
    die "node a did not reach state single"
psql_su $A_PORT postgres <<SQL || die "replication passwords"
ALTER USER pgautofailover_replicator PASSWORD '$REPPW';
ALTER USER pgautofailover_monitor PASSWORD '$HCPW';
SQL

say "   eventbox-setup-db on the primary (docs/DEPLOY.md, step 2)"
PGHOST=$SOCK PGPORT=$A_PORT eventbox-setup-db >"$LOG/setup-db.log" 2>&1 || { cat "$LOG/setup-db.log"; die "eventbox-setup-db"; }
ok "eventbox-setup-db: roles, database, migrations, pg_hba/pg_ident"
PGHOST=$SOCK PGPORT=$A_PORT eventbox-setup-db >>"$LOG/setup-db.log" 2>&1
check "eventbox-setup-db is safe to run twice" sh -c "test \$(grep -c '^# BEGIN eventbox' $R/pgaf/a/pg_hba.conf) = 1"
# The two blocks DEPLOY.md shows are what it wrote, line for line.
hba_ident=$(doc_block DEPLOY.md '# pg_hba.conf')
check "pg_hba.conf and pg_ident.conf have DEPLOY.md's lines" sh -c '
    [ -n "$1" ] || exit 1
    printf "%s\n" "$1" | sed -n "/^# pg_hba.conf/,/^# pg_ident.conf/{/^#/!p}" | grep -qxFf - "$2/pg_hba.conf" &&
    printf "%s\n" "$1" | sed -n "/^# pg_ident.conf/,\${/^#/!p}" | {
        n=0; while IFS= read -r l; do grep -qxF "$l" "$2/pg_ident.conf" || exit 1; n=$((n + 1)); done; [ $n = 4 ]; }' \
    _ "$hba_ident" "$R/pgaf/a"

# The standby is a pg_basebackup of the primary, which waits for a spread
# checkpoint (minutes); a CHECKPOINT on the primary makes it immediate.
# shellcheck disable=SC2046
pgaf create postgres $(node_opts b $B_PORT) >>"$LOG/pg-create.log" 2>&1 &
create_b=$!
for _ in $(seq 120); do
    kill -0 "$create_b" 2>/dev/null || break
    psql_su $A_PORT postgres -c CHECKPOINT >/dev/null 2>&1
    sleep 1
done
wait "$create_b" || die "pg_autoctl create postgres b"
run_keeper b
node_state() {
    psql_su $MON_PORT pg_auto_failover -c "SELECT string_agg(nodename || '=' || reportedstate, ' ' ORDER BY nodename) FROM pgautofailover.node"
}
wait_for 90 sh -c "[ \"\$(runuser -u postgres -- psql -X -At -h $SOCK -p $MON_PORT -d pg_auto_failover -c \"SELECT string_agg(nodename || '=' || reportedstate, ' ' ORDER BY nodename) FROM pgautofailover.node\")\" = 'a=primary b=secondary' ]" ||
    die "replication did not come up: $(node_state)"
PGHOST=$SOCK PGPORT=$B_PORT eventbox-setup-db --access-only >>"$LOG/setup-db.log" 2>&1 || die "eventbox-setup-db --access-only on b"
ok "streaming replication up: $(node_state)"
# DEPLOY.md's monitoring command, with the rehearsal's data directory.
check "pg_autoctl show state --pgdata (DEPLOY.md, Monitoring) shows a primary and a secondary" sh -c '
    out=$("$@") && echo "$out" && echo "$out" | grep -qw primary && echo "$out" | grep -qw secondary' _ \
    runuser -u postgres -- "${pg_env[@]}" pg_autoctl show state --pgdata "$R/pgaf/b"
check "replication is synchronous (a 201 is on both nodes)" sh -c \
    "[ \"\$(runuser -u postgres -- psql -X -At -h $SOCK -p $A_PORT -d postgres -c \"SELECT sync_state FROM pg_stat_replication\")\" = quorum ] &&
     [ \"\$(runuser -u postgres -- psql -X -At -h $SOCK -p $A_PORT -d postgres -c 'SHOW synchronous_commit')\" = on ]"
check "no trust lines in any pg_hba.conf" sh -c "! grep -h '^[^#]*trust' $R/pgaf/*/pg_hba.conf"

# ---------------------------------------------------------------------------
say "3. configuration as docs/DEPLOY.md says: name, TLS, DSN, SMTP"
HTTPS_PORT=$(free_port) HTTP_PORT=$(free_port) SINK_PORT=$(free_port) B_FCGI=$(free_port)
URL=https://$NAME:$HTTPS_PORT
# A certificate authority and a certificate for the site's name, made for
# the test (in production: certbot).
printf 'subjectAltName=DNS:%s\n' "$NAME" >"$R/tls/site.ext"
{
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=eventbox rehearsal CA" \
        -keyout "$R/tls/ca.key" -out "$R/tls/ca.pem" &&
    openssl req -newkey rsa:2048 -nodes -subj "/CN=$NAME" -keyout "$R/tls/site.key" \
        -out "$R/tls/site.csr" &&
    openssl x509 -req -in "$R/tls/site.csr" -CA "$R/tls/ca.pem" -CAkey "$R/tls/ca.key" \
        -CAcreateserial -days 2 -extfile "$R/tls/site.ext" -out "$R/tls/site.pem"
} >>"$LOG/openssl.log" 2>&1 || die "openssl: test certificate (see $LOG/openssl.log)"
chmod 0600 "$R/tls/site.key" "$R/tls/ca.key"
sed -i -e "s|^ssl_certificate .*|ssl_certificate     $R/tls/site.pem;|" \
    -e "s|^ssl_certificate_key .*|ssl_certificate_key $R/tls/site.key;|" /etc/nginx/eventbox.d/tls.conf
sed -i "s/events\.example\.org/$NAME/g" /etc/nginx/sites-available/eventbox
# Both database hosts in every DSN; libpq connects to the one that accepts
# writes (docs/SCALING.md).
DSN_HOSTS="host=$SOCK,$SOCK port=$A_PORT,$B_PORT dbname=eventbox target_session_attrs=read-write connect_timeout=2"
sed -i -e "s|^EVENTBOX_DSN=.*|EVENTBOX_DSN=$DSN_HOSTS user=eventbox_app|" \
    -e "s|^EVENTBOX_BASE_URL=.*|EVENTBOX_BASE_URL=$URL|" \
    -e "s|^#EVENTBOX_WORKERS=.*|EVENTBOX_WORKERS=4|" /etc/eventbox/web.env
sed -i -e "s|^EVENTBOX_DSN=.*|EVENTBOX_DSN=$DSN_HOSTS user=eventbox_mail|" \
    -e "s|^EVENTBOX_BASE_URL=.*|EVENTBOX_BASE_URL=$URL|" \
    -e "s|^EVENTBOX_SMTP_URL=.*|EVENTBOX_SMTP_URL=smtp://127.0.0.1:$SINK_PORT|" \
    -e "s|^#EVENTBOX_MAIL_RETRY_BASE_MS=.*|EVENTBOX_MAIL_RETRY_BASE_MS=500|" /etc/eventbox/mailer.env
sed -i -e "s|^EVENTBOX_PURGE_DSN=.*|EVENTBOX_PURGE_DSN=$DSN_HOSTS user=eventbox_purge|" \
    -e "s|^EVENTBOX_DSN=.*|EVENTBOX_DSN=$DSN_HOSTS user=eventbox_purge|" /etc/eventbox/purge.env
# Web host B: its own copy of web.env, listening on its address.
install -d -m 0755 "$R/hostb"
install -m 0600 -o eventbox-web -g eventbox-web /etc/eventbox/web.env "$R/hostb/web.env"
echo "EVENTBOX_LISTEN=127.0.0.3:$B_FCGI" >>"$R/hostb/web.env"
# Log files where the old release's settings files suggested them (one
# directory for both units, /var/log/eventbox), for DEPLOY.md's note on
# upgrading from it.  Host B keeps its output in the rehearsal's log.
sed -i 's|^#\(EVENTBOX_LOG_FILE=/var/log/eventbox/\)|\1|' /etc/eventbox/web.env /etc/eventbox/mailer.env
check "$OLD_RELEASE's settings files name their log files in /var/log/eventbox/" sh -c "
    grep -qx 'EVENTBOX_LOG_FILE=/var/log/eventbox/web.log' /etc/eventbox/web.env &&
    grep -qx 'EVENTBOX_LOG_FILE=/var/log/eventbox/mailer.log' /etc/eventbox/mailer.env"

say "4. start the processes as $OLD_RELEASE's units say"
spawn mailsink /usr/bin/python3 "$ROOT/deploy/mailsink.py" "$SINK_PORT" "$R/mail"
started_groups+=("$!")
SERVE_A=$(start_unit eventbox.service); started_groups+=("$SERVE_A")
SERVE_B=$(start_unit eventbox.service "$R/hostb/web.env"); started_groups+=("$SERVE_B")
MAILER_1=$(start_unit eventbox-mailer.service); started_groups+=("$MAILER_1")
MAILER_2=$(start_unit eventbox-mailer.service); started_groups+=("$MAILER_2")
# nginx as Debian runs it (user www-data), with the installed site.  Two
# changes: the listen addresses (127.0.0.1, free ports), and the POST rate
# limit per client address (10r/s), because every patron of the rehearsal
# comes from 127.0.0.1.
site() {  # site UPSTREAM-LINES
    sed -e 's|rate=10r/s|rate=100000r/s|' -e 's|burst=20 nodelay|burst=1000 nodelay|' \
        -e "s|listen 443 ssl http2; listen \[::\]:443 ssl http2;|listen 127.0.0.1:$HTTPS_PORT ssl http2;|" \
        -e "s|listen 443 ssl http2 default_server; listen \[::\]:443 ssl http2 default_server;|listen 127.0.0.1:$HTTPS_PORT ssl http2 default_server;|" \
        -e "s|^    listen 80;|    listen 127.0.0.1:$HTTP_PORT;|" -e '/^    listen \[::\]:80;/d' \
        -e "s|^    server unix:/run/eventbox/eventbox.sock;|$1|" \
        /etc/nginx/sites-available/eventbox >"$R/nginx/site.conf"
}
site "    server unix:/run/eventbox/eventbox.sock;"
cat >"$R/nginx/nginx.conf" <<EOF
user www-data;
worker_processes 2;
pid $R/nginx/nginx.pid;
error_log $LOG/nginx-error.log warn;
events { worker_connections 1024; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    include $R/nginx/site.conf;
}
EOF
nginx -t -q -c "$R/nginx/nginx.conf" >>"$LOG/nginx-error.log" 2>&1 || die "nginx -t with the installed site"
ok "nginx -t accepts the installed site"
# DEPLOY.md step 4, as written: the site enabled in Debian's own nginx
# configuration (its default site too), and nginx -t (no reload: that nginx
# does not run here).  The link goes again at the cleanup.
if [ ! -e /etc/nginx/sites-enabled/eventbox ]; then
    run_doc "" "$(doc_cmd DEPLOY.md 'ln -s ../sites-available/eventbox')" >>"$LOG/checks.log" 2>&1 &&
        SITE_LINKED=1
fi
check "the site enabled as DEPLOY.md says, nginx -t with Debian's nginx.conf accepts it" sh -c '
    [ "$(readlink -f /etc/nginx/sites-enabled/eventbox)" = /etc/nginx/sites-available/eventbox ] && nginx -t'
spawn nginx nginx -c "$R/nginx/nginx.conf" -g 'daemon off;'
started_groups+=("$!")
NGINX=$!
curl_t() { curl -sS --cacert "$R/tls/ca.pem" --resolve "$NAME:$HTTPS_PORT:127.0.0.1" --max-time 10 "$@"; }
wait_for 30 sh -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' --cacert $R/tls/ca.pem --resolve $NAME:$HTTPS_PORT:127.0.0.1 $URL/healthz)\" = 200 ]" ||
    die "GET $URL/healthz did not answer 200"
ok "GET /healthz over HTTPS through nginx: 200"
wait_for 30 sh -c "ss -Hltn src 127.0.0.3:$B_FCGI | grep -q ." || die "instance B is not listening on 127.0.0.3:$B_FCGI"

# ---------------------------------------------------------------------------
say "   patrons register under $OLD_RELEASE; its mailer sends their mail"
P=$(primary_port)
psql_su "$P" eventbox <<'SQL' || die "creating the rehearsal's events"
INSERT INTO eventbox.events (slug, title, capacity, waitlist_enabled, status, timezone, starts_at, ends_at)
VALUES ('rehearsal', 'Rehearsal webinar', 50, true, 'published', 'America/New_York', now() + interval '7 days', now() + interval '7 days 1 hour'),
       ('popular', 'A popular event', 150, true, 'published', 'America/New_York', now() + interval '7 days', now() + interval '7 days 1 hour'),
       ('throughput', 'Load', 2000000000, false, 'published', 'America/New_York', now() + interval '7 days', now() + interval '7 days 1 hour'),
       ('long-past', 'Ended sixty days ago', 10, true, 'published', 'America/New_York', now() - interval '61 days', now() - interval '60 days');
INSERT INTO eventbox.registrations (event_id, name, email, status)
SELECT id, 'Past Patron', 'past@example.org', 'confirmed' FROM eventbox.events WHERE slug = 'long-past';
INSERT INTO eventbox.events (slug, title, capacity, waitlist_enabled, status, timezone, starts_at, ends_at)
SELECT 'spread-' || g, 'Load ' || g, 2000000000, false, 'published', 'America/New_York', now() + interval '7 days', now() + interval '7 days 1 hour'
  FROM generate_series(1, 40) g;
SQL
old_register() {  # old_register NAME EMAIL: 201 confirmed on the rehearsal's event
    local got
    got=$(curl_t -o "$R/reg-old.json" -w '%{http_code}' -H 'Content-Type: application/json' \
        -d "{\"name\":\"$1\",\"email\":\"$2\"}" "$URL/api/v1/events/rehearsal/registrations")
    [ "$got" = 201 ] && grep -q '"status":"confirmed"' "$R/reg-old.json"
}
# mail_link ADDRESS PATH: the https://.../PATH/TOKEN link of the last email
# to ADDRESS that has one (quoted-printable decoded).
mail_link() {
    python3 - "$R/mail" "$1" "$2" <<'PY'
import email, email.policy, glob, re, sys
d, to, path = sys.argv[1:]
for f in sorted(glob.glob(d + "/*.eml"), reverse=True):
    m = email.message_from_bytes(open(f, "rb").read(), policy=email.policy.default)
    if ("<%s>" % to) not in m.get_all("X-Envelope-To", []):
        continue
    for part in m.walk():
        if part.get_content_type() == "text/plain":
            hit = re.search(r"https://[^\s/]+/%s/[0-9a-f-]{36}" % path, part.get_content())
            if hit:
                print(hit.group(0))
                sys.exit(0)
sys.exit(1)
PY
}
old_register "Olga Stays" old-stays@example.org && old_register "Otto Leaves" old-leaves@example.org &&
    ok "two registrations over HTTPS under $OLD_RELEASE: 201 confirmed" ||
    bad "two registrations over HTTPS under $OLD_RELEASE: 201 confirmed"
check "$OLD_RELEASE's mailer sends both confirmations" wait_for 30 sh -c "
    [ \$(grep -l '^X-Envelope-To: <old-stays@example.org>' $R/mail/*.eml | wc -l) = 1 ] &&
    [ \$(grep -l '^X-Envelope-To: <old-leaves@example.org>' $R/mail/*.eml | wc -l) = 1 ]"
STAYS_PAGE=$(mail_link old-stays@example.org registration)
LEAVES_CANCEL=$(mail_link old-leaves@example.org cancel)
check "their emails hold a registration and a cancellation link (${STAYS_PAGE:-none}, ${LEAVES_CANCEL:-none})" \
    test -n "$STAYS_PAGE" -a -n "$LEAVES_CANCEL"
check "$OLD_RELEASE's services log into /var/log/eventbox/ as its settings files say" sh -c "
    [ -f /var/log/eventbox/web.log ] && [ -f /var/log/eventbox/mailer.log ]"

# ---------------------------------------------------------------------------
say "   upgrade to $(basename "$deb") as docs/DEPLOY.md says (Upgrading)"
# DEPLOY.md's block, as written, but: the package is the one step 1 built
# (its dpkg-buildpackage, rehearsed there), and `systemctl restart` is the
# rehearsal's stop and start below.  From root's home, stdin not a terminal
# (a question, dpkg's about a conffile included, fails the run); only the
# dpkg lock is waited for, as elsewhere.
UPGRADE=$(doc_block DEPLOY.md 'dpkg-buildpackage -b -us -uc && apt install')
upgrade_script=$(sed -e '1s/^dpkg-buildpackage -b -us -uc && //' -e "s|\.\./eventbox_NEW_amd64\.deb|$deb|" \
    -e '/^systemctl restart eventbox eventbox-mailer$/d' <<<"$UPGRADE")
[ -n "$UPGRADE" ] && grep -qF "$deb" <<<"$upgrade_script" &&
    grep -qx 'systemctl restart eventbox eventbox-mailer' <<<"$UPGRADE" &&
    [ "$(grep -c '^systemctl ' <<<"$upgrade_script")" = 0 ] ||
    die "DEPLOY.md's upgrade block changed: $UPGRADE"
printf 'DPkg::Lock::Timeout "600";\n' >"$R/apt-lock.conf"
EDITED=$(sha256sum /etc/eventbox/*.env /etc/nginx/eventbox.d/tls.conf /etc/nginx/sites-available/eventbox)
MIGRATED_BEFORE=$(psql_su "$P" eventbox -c "SELECT count(*) FROM eventbox.migrations")
UPGRADE_AT=$(psql_su "$P" eventbox -c "SELECT now()")
upgrade() { (export APT_CONFIG="$R/apt-lock.conf"; run_doc "$P" "$upgrade_script") </dev/null; }
check "apt install, eventbox-setup-db --migrate-only, as DEPLOY.md says: no question asked" upgrade
check "the package installed is this tree's" sh -c "
    [ \"\$(dpkg-query -W -f='\${Status}' eventbox)\" = 'install ok installed' ] &&
    cmp -s /usr/bin/eventbox $R/src/eventbox/debian/eventbox/usr/bin/eventbox"
migration_files=$(cd "$ROOT/sql" && printf '%s ' [0-9][0-9][0-9]_*.sql)
migrated_once() {
    local names earlier
    names=$(psql_su "$P" eventbox -c "SELECT string_agg(name, ' ' ORDER BY version) || ' ' FROM eventbox.migrations")
    earlier=$(psql_su "$P" eventbox -c "SELECT count(*) FROM eventbox.migrations WHERE applied_at < '$UPGRADE_AT'")
    echo "recorded: $names; before the upgrade: $earlier (was $MIGRATED_BEFORE)"
    [ "$names" = "$migration_files" ] && [ "$earlier" = "$MIGRATED_BEFORE" ]
}
check "each migration recorded once, those of $OLD_RELEASE (${MIGRATED_BEFORE:-?}) not applied again" migrated_once
# The upgrade's step again, as written, on a database that has every
# migration now: it succeeds and applies nothing.
applied() { psql_su "$P" eventbox -c "SELECT (SELECT count(*) FROM eventbox.migrations) || '/' || (SELECT count(*) FROM eventbox.rules_applied)"; }
before=$(applied)
migrate_only() {
    run_doc "$P" "$(doc_cmd DEPLOY.md 'eventbox-setup-db --migrate-only' '## Upgrading')" &&
        [ "$(applied)" = "$before" ]
}
check "eventbox-setup-db --migrate-only once more: succeeds, applies nothing (${before:-?})" migrate_only
check "the settings files and tls.conf the setup edited are as they were" sh -c '
    [ "$(sha256sum /etc/eventbox/*.env /etc/nginx/eventbox.d/tls.conf)" = "$(printf "%s\n" "$1" | grep -v sites-available)" ]' _ "$EDITED"
check "the site the setup edited is kept, the release's beside it as eventbox.dpkg-dist" sh -c '
    printf "%s\n" "$1" | grep sites-available | sha256sum -c - &&
    cmp /etc/nginx/sites-available/eventbox.dpkg-dist "$2/etc-saved/eventbox"' _ "$EDITED" "$R"
check "nginx's CORS map made by the upgrade, and no conffile" sh -c "
    [ -f /etc/nginx/eventbox-cors.map ] &&
    ! dpkg-query -W -f='\${Conffiles}' eventbox | grep -q ' /etc/nginx/eventbox-cors.map [0-9a-f]* *\$'"
check "the settings files keep their owners and modes" sh -c '
    [ "$(stat -c "%a %U" /etc/eventbox/web.env /etc/eventbox/mailer.env /etc/eventbox/purge.env | tr "\n" " ")" = \
      "600 eventbox-web 600 eventbox-mail 600 eventbox-purge " ]'

# DEPLOY.md's note for hosts upgraded from the shared /var/log/eventbox:
# the settings point at each unit's own directory before the restart (the
# new units give no other: with systemd's ProtectSystem=strict a file in
# /var/log/eventbox could not be opened, and that stops the start).
check "DEPLOY.md's log note names the directories the new units give, and they give no other" sh -c "
    grep -q 'point .EVENTBOX_LOG_FILE. at' $ROOT/docs/DEPLOY.md &&
    grep -q '/var/log/eventbox-web/. and .*/var/log/eventbox-mail/' $ROOT/docs/DEPLOY.md &&
    grep -qx 'LogsDirectory=eventbox-web' $UNITS/eventbox.service &&
    grep -qx 'LogsDirectory=eventbox-mail' $UNITS/eventbox-mailer.service &&
    grep -qx 'ProtectSystem=strict' $UNITS/eventbox.service &&
    ! grep -Eq '^(LogsDirectory=eventbox|ReadWritePaths=.*)\$' $UNITS/eventbox.service $UNITS/eventbox-mailer.service"
sed -i 's|^EVENTBOX_LOG_FILE=/var/log/eventbox/|EVENTBOX_LOG_FILE=/var/log/eventbox-web/|' /etc/eventbox/web.env
sed -i 's|^EVENTBOX_LOG_FILE=/var/log/eventbox/|EVENTBOX_LOG_FILE=/var/log/eventbox-mail/|' /etc/eventbox/mailer.env

# systemctl restart eventbox eventbox-mailer: SIGTERM to each (KillMode=
# mixed), then each started as its new unit says.
kill -TERM "$SERVE_A" "$SERVE_B" "$MAILER_1" "$MAILER_2"
wait_for 80 sh -c "[ -z \"\$(ps -o stat= -p $SERVE_A,$SERVE_B,$MAILER_1,$MAILER_2 | grep -v Z)\" ]" ||
    bad "$OLD_RELEASE's services did not stop on SIGTERM"
SERVE_A=$(start_unit eventbox.service) || die "eventbox.service did not start after the upgrade (see $LOG/eventbox.log)"
started_groups+=("$SERVE_A")
SERVE_B=$(start_unit eventbox.service "$R/hostb/web.env") || die "eventbox.service (host B) did not start after the upgrade"
started_groups+=("$SERVE_B")
MAILER_1=$(start_unit eventbox-mailer.service); started_groups+=("$MAILER_1")
MAILER_2=$(start_unit eventbox-mailer.service); started_groups+=("$MAILER_2")

# The site: the release's, with the setup's edit made again, as DEPLOY.md
# says (its block but `systemctl reload nginx`: the rehearsal's nginx is
# reloaded with its copy of the site).
merge_site() {
    local block
    block=$(doc_block DEPLOY.md 'cd /etc/nginx/sites-available') || return 1
    grep -qx 'nginx -t && systemctl reload nginx' <<<"$block" || { echo "DEPLOY.md's block changed: $block"; return 1; }
    block=$(sed -e 's/^nginx -t && systemctl reload nginx$/nginx -t/' -e "s/events\.yourlibrary\.org/$NAME/g" <<<"$block")
    run_doc "" "$block" &&
    [ ! -e /etc/nginx/sites-available/eventbox.dpkg-dist ] &&
    grep -q "server_name $NAME;" /etc/nginx/sites-available/eventbox &&
    grep -q 'include /etc/nginx/eventbox-cors.map;' /etc/nginx/sites-available/eventbox
}
check "the release's site with the setup's edit made again, as DEPLOY.md says; nginx -t accepts it" merge_site
site "    server unix:/run/eventbox/eventbox.sock;"
nginx -s reload -c "$R/nginx/nginx.conf" 2>>"$LOG/nginx-error.log"
sleep 1
wait_for 30 sh -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' --cacert $R/tls/ca.pem --resolve $NAME:$HTTPS_PORT:127.0.0.1 $URL/healthz)\" = 200 ]" ||
    die "GET $URL/healthz did not answer 200 after the upgrade"
ok "GET /healthz over HTTPS after the upgrade: 200"

check "an old email's registration link: 200, the seat confirmed" sh -c "
    curl -sS --cacert $R/tls/ca.pem --resolve $NAME:$HTTPS_PORT:127.0.0.1 --max-time 10 -f '$STAYS_PAGE' |
    grep -q 'Registered: your seat is confirmed'"
cancel_old() {  # the cancellation link of an email sent before the upgrade
    local page csrf
    page=$(curl_t -f -c "$R/jar" -b "$R/jar" "$LEAVES_CANCEL") || return 1
    grep -q 'Cancel my registration' <<<"$page" || { echo "no cancel button"; return 1; }
    csrf=$(grep -o 'name="csrf" value="[0-9a-f]\{64\}"' <<<"$page" | sed 's/.*value="\(.*\)"/\1/')
    curl_t -f -c "$R/jar" -b "$R/jar" --data-urlencode "csrf=$csrf" "$LEAVES_CANCEL" |
        grep -q 'Your registration is cancelled' &&
    [ "$(psql_su "$P" eventbox -c "SELECT status FROM eventbox.registrations WHERE email = 'old-leaves@example.org'")" = cancelled ]
}
check "an old email's cancellation link cancels (GET, then its form's POST)" cancel_old
check "the cancellation's email arrives (the new mailer, the migrated outbox)" \
    wait_for 30 sh -c "[ \$(grep -l '^X-Envelope-To: <old-leaves@example.org>' $R/mail/*.eml | wc -l) = 2 ]"
check "no email of before the upgrade sent again" \
    sh -c "[ \$(grep -l '^X-Envelope-To: <old-stays@example.org>' $R/mail/*.eml | wc -l) = 1 ]"

# The log files, now in each unit's own directory: made by its user, and
# each reopened on SIGHUP (systemctl reload) after a rotation.
reopened() {  # reopened FILE PID: FILE moved aside, SIGHUP, FILE again
    mv "$1" "$1.1" && kill -HUP "$2" && wait_for 10 test -f "$1"
}
check "eventbox serve logs to /var/log/eventbox-web/web.log, as eventbox-web" wait_for 10 sh -c "
    [ \"\$(stat -c %U /var/log/eventbox-web/web.log)\" = eventbox-web ]"
check "the mailer logs to /var/log/eventbox-mail/mailer.log, as eventbox-mail" wait_for 10 sh -c "
    [ \"\$(stat -c %U /var/log/eventbox-mail/mailer.log)\" = eventbox-mail ]"
rotated() { reopened /var/log/eventbox-web/web.log "$SERVE_A" && reopened /var/log/eventbox-mail/mailer.log "$MAILER_1"; }
check "each reopens its file after a rotation (SIGHUP)" rotated
# "the old directory can go once you no longer need its files" (when the
# rehearsal made it)
grep -qx /var/log/eventbox "$R/logs-made" && rm -rf /var/log/eventbox
check "with /var/log/eventbox gone, the service answers and both mailers run" sh -c "
    kill -0 $SERVE_A && kill -0 $MAILER_1 && kill -0 $MAILER_2 &&
    [ \"\$(curl -s -o /dev/null -w '%{http_code}' --cacert $R/tls/ca.pem --resolve $NAME:$HTTPS_PORT:127.0.0.1 $URL/healthz)\" = 200 ]"

# ---------------------------------------------------------------------------
say "5. the site, the roles, the files"
hdrs=$(curl_t -D - -o /dev/null "$URL/events")
# DEPLOY.md step 5's `curl -sI https://NAME/healthz` (a HEAD).
check "curl -sI of /healthz (DEPLOY.md, step 5): 200" sh -c "
    curl -sI --cacert $R/tls/ca.pem --resolve $NAME:$HTTPS_PORT:127.0.0.1 --max-time 10 $URL/healthz |
    head -n 1 | grep -q '^HTTP/[0-9.]* 200'"
check "HTTPS answers with HSTS and the security headers" sh -c '
    printf "%s" "$1" | grep -qi "^strict-transport-security: max-age=63072000" &&
    printf "%s" "$1" | grep -qi "^content-security-policy: default-src" &&
    printf "%s" "$1" | grep -qi "^x-content-type-options: nosniff"' _ "$hdrs"
check "HTTP redirects to HTTPS (301)" sh -c "curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' -H 'Host: $NAME' http://127.0.0.1:$HTTP_PORT/events/x | grep -q '^301 https://$NAME/events/x'"
check "the certificate made for the test verifies" curl_t -o /dev/null "$URL/events"
refuse "HTTPS for any other name is refused at the handshake" curl -sSk --max-time 10 \
    --resolve "other.example:$HTTPS_PORT:127.0.0.1" -o /dev/null "https://other.example:$HTTPS_PORT/events"

reg=$(curl_t -o "$R/reg.json" -w '%{http_code}' -H 'Content-Type: application/json' \
    -d '{"name":"Ada Rehearsal","email":"ada@example.org"}' "$URL/api/v1/events/rehearsal/registrations")
check "POST a registration over HTTPS: 201 confirmed" sh -c "[ '$reg' = 201 ] && grep -q '\"status\":\"confirmed\"' $R/reg.json"
check "the confirmation arrives over SMTP" wait_for 30 sh -c "grep -l 'X-Envelope-To: <ada@example.org>' $R/mail/*.eml"
check "the email's cancel link uses the HTTPS base URL" sh -c "grep -h -A200 'X-Envelope-To: <ada@example.org>' $R/mail/*.eml | grep -q 'https://$NAME:$HTTPS_PORT/cancel/'"

# The package's catalogues (/usr/share/locale) are found by the installed
# binary: a Spanish-speaking patron gets the page and the email in Spanish.
check "the installed site speaks Spanish to Accept-Language: es" sh -c \
    "curl -sS --cacert $R/tls/ca.pem --resolve $NAME:$HTTPS_PORT:127.0.0.1 --max-time 10 -H 'Accept-Language: es-MX' $URL/events/rehearsal | grep -q '<html lang=\"es\">'"
curl_t -o /dev/null -H 'Content-Type: application/json' -H 'Accept-Language: es' \
    -d '{"name":"Bea Ensayo","email":"bea@example.org"}' "$URL/api/v1/events/rehearsal/registrations" || true
check "her confirmation arrives in Spanish" wait_for 30 sh -c \
    "grep -h -A200 'X-Envelope-To: <bea@example.org>' $R/mail/*.eml | grep -q 'Su inscripci=C3=B3n en este evento est=C3=A1 confirmada'"

start_unit eventbox-purge.service >/dev/null
check "eventbox-purge.service (as eventbox-purge, role eventbox_purge) purges a past event" \
    wait_for 30 sh -c "[ \"\$(runuser -u postgres -- psql -X -At -h $SOCK -p $P -d eventbox -c \"SELECT count(*) FROM eventbox.registrations r JOIN eventbox.events e ON e.id = r.event_id WHERE e.slug = 'long-past' AND r.email IS NOT NULL\")\" = 0 ]"
grep -i 'purge' "$LOG/eventbox-purge.log" | tail -n 1

conn_as() {  # conn_as OSUSER ROLE: connect and SELECT 1 (peer, the socket)
    (cd / && runuser -u "$1" -- psql -X -At -h "$SOCK" -p "$P" -d eventbox -U "$2" -c 'SELECT 1')
}
check "eventbox-web logs in as eventbox_app" conn_as eventbox-web eventbox_app
refuse "eventbox-web is refused as eventbox_mail (the mailer's role)" conn_as eventbox-web eventbox_mail
refuse "eventbox-web is refused as eventbox_purge (the ops role)" conn_as eventbox-web eventbox_purge
refuse "eventbox-web is refused as eventbox (the owner)" conn_as eventbox-web eventbox
refuse "eventbox-web is refused as postgres" conn_as eventbox-web postgres
check "eventbox-mail logs in as eventbox_mail" conn_as eventbox-mail eventbox_mail
refuse "eventbox-mail is refused as eventbox_app" conn_as eventbox-mail eventbox_app
refuse "eventbox-mail is refused as eventbox_purge" conn_as eventbox-mail eventbox_purge
check "eventbox-purge logs in as eventbox_purge" conn_as eventbox-purge eventbox_purge
refuse "eventbox-purge is refused as eventbox_mail" conn_as eventbox-purge eventbox_mail
refuse "user nobody is refused as every eventbox role" sh -c "
    for r in eventbox eventbox_app eventbox_mail eventbox_purge; do
        (cd / && runuser -u nobody -- psql -X -At -h $SOCK -p $P -d eventbox -U \$r -c 'SELECT 1') && exit 0
    done; exit 1"
check "eventbox_app cannot read registrations (role eventbox_service)" sh -c "
    cd / && runuser -u eventbox-web -- psql -X -At -h $SOCK -p $P -d eventbox -U eventbox_app \
        -c 'SELECT email FROM eventbox.registrations LIMIT 1' 2>&1 | grep -q 'permission denied'"

say "   a staff API key (docs/DEPLOY.md, step 6)"
# The command DEPLOY.md gives, as root from root's home (which postgres may
# not enter); only the port is the rehearsal's own.
apikey() {
    (cd /root 2>/dev/null || cd /
     runuser -u postgres -- env EVENTBOX_DSN="dbname=eventbox user=eventbox port=$P" eventbox apikey "$@")
}
KEY=$(apikey create rehearsal 2>>"$LOG/checks.log")
check "a key made as DEPLOY.md says opens the admin API over HTTPS" \
    curl_t -f -o /dev/null -H "Authorization: Bearer $KEY" "$URL/api/v1/admin/events"
check "eventbox apikey revoke, the same way" apikey revoke rehearsal
refuse "the revoked key is refused" \
    curl_t -f -o /dev/null -H "Authorization: Bearer $KEY" "$URL/api/v1/admin/events"
refuse "eventbox apikey as root itself is refused (peer map: postgres only)" \
    env EVENTBOX_DSN="dbname=eventbox user=eventbox port=$P" eventbox apikey list
# OPS.md's way in as the owner, as root from root's home.
owner_psql() {
    [ "$(cd /root 2>/dev/null || cd /
         PGPORT=$P runuser -u postgres -- psql -U eventbox eventbox -X -At -c 'SELECT current_user')" = eventbox ]
}
check "runuser -u postgres -- psql -U eventbox eventbox (OPS.md, Roles) logs in as the owner" owner_psql

check "/run/eventbox: 750 eventbox-web www-data" mode_is /run/eventbox 750 eventbox-web www-data
check "the FastCGI socket: 660 eventbox-web www-data" mode_is /run/eventbox/eventbox.sock 660 eventbox-web www-data
refuse "user nobody cannot connect to the FastCGI socket" runuser -u nobody -- python3 -c \
    'import socket; s = socket.socket(socket.AF_UNIX); s.connect("/run/eventbox/eventbox.sock")'
check "eventbox serve runs as eventbox-web, the mailers as eventbox-mail" sh -c "
    [ \"\$(ps -o user= -p $SERVE_A)\" = eventbox-web ] && [ \"\$(ps -o user= -p $SERVE_B)\" = eventbox-web ] &&
    [ \"\$(ps -o user= -p $MAILER_1)\" = eventbox-mail ] && [ \"\$(ps -o user= -p $MAILER_2)\" = eventbox-mail ] &&
    [ -z \"\$(ps -o user= --ppid $SERVE_A | grep -v eventbox-web)\" ]"
check "nginx workers run as www-data" sh -c "[ -n \"\$(ps -o user= --ppid $NGINX | grep www-data)\" ] && [ -z \"\$(ps -o user= --ppid $NGINX | grep -v www-data)\" ]"
check "the processes hold no capabilities" sh -c "
    for p in $SERVE_A $MAILER_1; do grep -q '^CapEff:.0000000000000000' /proc/\$p/status || exit 1; done"

say "   EVENTBOX_CORS_ORIGINS changed in web.env, the service restarted (docs/DEPLOY.md, step 3)"
ORIGIN=https://www.consortium.test
cors_413() {  # cors_413 ORIGIN WANT: nginx's own 413 (a body over 16k) allows WANT
    local got
    got=$(head -c 20000 /dev/zero | tr '\0' x | curl_t -o /dev/null -D - -H "Origin: $1" \
        -H 'Content-Type: application/json' --data-binary @- "$URL/api/v1/events/rehearsal/registrations" |
        tr -d '\r' | sed -n 's/^access-control-allow-origin: //Ip')
    echo "413 for Origin $1: Access-Control-Allow-Origin '$got'"
    [ "$got" = "$2" ]
}
check "before: nginx's 413 allows no $ORIGIN" cors_413 "$ORIGIN" ""
sed -i -e '/^#*EVENTBOX_CORS_ORIGINS=/d' /etc/eventbox/web.env
echo "EVENTBOX_CORS_ORIGINS=https://www.example.org, $ORIGIN" >>/etc/eventbox/web.env
# systemctl restart eventbox: SIGTERM to the master (KillMode=mixed), then
# the start, ExecStartPre= first.
kill -TERM "$SERVE_A"
wait_for 40 sh -c "[ -z \"\$(ps -o stat= -p $SERVE_A | grep -v Z)\" ]" || bad "eventbox serve A did not stop on SIGTERM"
SERVE_A=$(start_unit eventbox.service) || die "eventbox.service did not start again (see $LOG/eventbox.log)"
started_groups+=("$SERVE_A")
wait_for 30 sh -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' --cacert $R/tls/ca.pem --resolve $NAME:$HTTPS_PORT:127.0.0.1 $URL/healthz)\" = 200 ]" ||
    die "GET $URL/healthz did not answer 200 after the restart"
check "the restart rendered nginx's copy and reloaded nginx (no step by hand)" sh -c "
    grep -qF '\"$ORIGIN\";' /etc/nginx/eventbox-cors.map && grep -q reload $LOG/systemctl.log"
check "after: nginx's own 413 allows $ORIGIN" wait_for 10 cors_413 "$ORIGIN" "$ORIGIN"
check "and so does the service's own answer" sh -c "
    curl -sS --cacert $R/tls/ca.pem --resolve $NAME:$HTTPS_PORT:127.0.0.1 --max-time 10 -D - -o /dev/null \
        -H 'Origin: $ORIGIN' $URL/api/v1/events | tr -d '\r' | grep -qix 'access-control-allow-origin: $ORIGIN'"
check "eventbox-cors-map /etc/eventbox/web.env, as DEPLOY.md says, prints the new origin" sh -c "
    eventbox-cors-map /etc/eventbox/web.env | grep -qF '$ORIGIN'"

say "   backup and restore (docs/DEPLOY.md, Backups: its commands as written)"
[ -d /var/backups/eventbox ] || BACKUP_DIR_MADE=1
backup() {
    run_doc "$P" "$(doc_cmd DEPLOY.md 'install -d -m 0700 -o postgres -g postgres /var/backups/eventbox')" &&
    run_doc "$P" "$(doc_cmd DEPLOY.md 'runuser -u postgres -- pg_dump')" &&
    DUMP=$(ls -t /var/backups/eventbox/eventbox-*.dump | head -n 1) && [ -s "$DUMP" ] &&
    [ "$(stat -c '%a %U' /var/backups/eventbox)" = "700 postgres" ]
}
check "the nightly pg_dump of DEPLOY.md writes a dump only postgres may read" backup
DUMPED=$(psql_su "$P" eventbox -c "SELECT count(*) || ' ' || sum(id) FROM eventbox.registrations")
restore_scratch() {
    psql_su "$P" postgres -c 'DROP DATABASE IF EXISTS eventbox_restored' &&
    run_doc "$P" "$(doc_cmd DEPLOY.md 'runuser -u postgres -- createdb eventbox_restored')" &&
    run_doc "$P" "$(doc_cmd DEPLOY.md 'runuser -u postgres -- pg_restore -d eventbox_restored')" "$DUMP" &&
    local b
    b=$(psql_su "$P" eventbox_restored -c "SELECT count(*) || ' ' || sum(id) FROM eventbox.registrations") &&
    echo "registrations (count, sum of ids): live $DUMPED, restored $b" && [ "$b" = "$DUMPED" ] &&
    psql_su "$P" postgres -c 'DROP DATABASE eventbox_restored'
}
check "restored into a scratch database as DEPLOY.md says, it has the live registrations (${DUMPED:-?})" \
    restore_scratch

# ---------------------------------------------------------------------------
say "6. throughput: one service instance, then two"
LOAD=(/usr/bin/python3 "$ROOT/tests/rehearse_load.py")
# Registrations spread over 40 events: on one event every registration
# waits for the one before it (the event's row lock, held through the
# synchronous commit), which no number of instances changes; the hot
# event's figure is printed too.
tput() {  # tput NAME SLUG: registrations per second, 16 patrons, 6 s
    "${LOAD[@]}" throughput "$URL" "$R/tls/ca.pem" "$2" 6 16 | tee "$LOG/throughput-$1.txt" |
        sed -n 's/registrations_per_s=//p'
}
T1=$(tput 1 'spread-*40')
HOT1=$(tput hot-1 throughput)
site "    server unix:/run/eventbox/eventbox.sock;\n    server 127.0.0.3:$B_FCGI;"
nginx -s reload -c "$R/nginx/nginx.conf" 2>>"$LOG/nginx-error.log"
sleep 1
T2=$(tput 2 'spread-*40')
HOT2=$(tput hot-2 throughput)
check "registrations per second over 40 events, 1 instance: ${T1:-?}; 2 instances: ${T2:-?}" \
    sh -c "[ '${T1:-0}' -gt 0 ] && [ '${T2:-0}' -gt 0 ] &&
           grep -q '^non_201_answers=0' $LOG/throughput-1.txt $LOG/throughput-2.txt"
echo "   on one hot event: ${HOT1:-?}/s with 1 instance, ${HOT2:-?}/s with 2"

# ---------------------------------------------------------------------------
say "7. under load: kill the primary, one service instance, one mailer"
OLD_PRIMARY=$(primary_port)
# The host is gone: its keeper, postmaster and every backend at once (a
# backend left behind would go on serving until it noticed).
pm=$(head -n 1 "$R/pgaf/a/postmaster.pid")
kill_primary="kill -KILL -- -$KEEPER_a $pm \$(pgrep -P $pm) 2>/dev/null; true"
[ "$OLD_PRIMARY" = "$A_PORT" ] || die "node a is not the primary"
chaos=$("${LOAD[@]}" chaos "$URL" "$R/tls/ca.pem" popular 25 6 "$R/chaos.tsv" \
    "3:kill-primary:$kill_primary" \
    "14:kill-instance:kill -KILL -- -$SERVE_B" \
    "17:kill-mailer:kill -KILL -- -$MAILER_1" | tee "$LOG/chaos.txt")
echo "$chaos"
P=$(primary_port)
GAP=$(sed -n 's/^failover_gap_s=//p' <<<"$chaos")
check "the replica took over (primary now on port ${P:-none}, was $OLD_PRIMARY)" sh -c "[ '${P:-x}' = $B_PORT ]"
check "201s again after the failover: gap ${GAP:-?} s" sh -c "[ -n '$GAP' ] && [ \"\${1%.*}\" -ge 0 ] && [ \"\${1%.*}\" -lt 30 ]" _ "${GAP:--1}"
check "during the gap: 503 with Retry-After (or no answer), never another error" sh -c "
    grep -q '^503_without_retry_after=0' $LOG/chaos.txt && grep -q '^unexpected=0' $LOG/chaos.txt &&
    ! grep '^during_gap=' $LOG/chaos.txt | grep -Eq '(^|[=,])(201|4[0-9][0-9]|500):'"

# Every 201 is in the database, with the status it answered; seats.
psql_su "$P" eventbox -c "CREATE TABLE IF NOT EXISTS public.rehearsal_answers (email text, status text)" &&
psql_su "$P" eventbox -c "TRUNCATE public.rehearsal_answers" &&
psql_su "$P" eventbox -c "\\copy public.rehearsal_answers FROM '$R/chaos.tsv'" 2>>"$LOG/checks.log" ||
    bad "loading the answers into the database"
ANSWERED=$(wc -l <"$R/chaos.tsv")
LOST=$(psql_su "$P" eventbox -c "SELECT count(*) FROM public.rehearsal_answers a LEFT JOIN eventbox.registrations r ON r.email = a.email AND r.event_id = (SELECT id FROM eventbox.events WHERE slug = 'popular') WHERE r.id IS NULL OR r.status <> a.status")
check "no confirmed registration lost: $ANSWERED answered 201, ${LOST:-?} missing or changed" sh -c "[ '$ANSWERED' -gt 0 ] && [ '${LOST:-x}' = 0 ]"
SUMMARY=$(psql_su "$P" eventbox -c "SELECT capacity || ' ' || confirmed || ' ' || waitlisted FROM eventbox.event_summary WHERE slug = 'popular'")
read -r CAP CONF WAIT <<<"$SUMMARY"
TWICE=$(psql_su "$P" eventbox -c "SELECT count(*) FROM (SELECT email FROM eventbox.registrations WHERE event_id = (SELECT id FROM eventbox.events WHERE slug = 'popular') GROUP BY email HAVING count(*) > 1) d")
check "no seat sold twice: capacity $CAP, confirmed $CONF, waitlisted $WAIT, patrons registered twice: ${TWICE:-?}" \
    sh -c "[ '$CONF' -le '$CAP' ] && [ '${TWICE:-x}' = 0 ] && [ \$(grep -c '	confirmed\$' $R/chaos.tsv) -le '$CAP' ]"

# Mail: the surviving mailer sends the rest.
wait_for 180 sh -c "[ \"\$(runuser -u postgres -- psql -X -At -h $SOCK -p $P -d eventbox -c \"SELECT count(*) FROM eventbox.outbox o JOIN eventbox.events e ON e.id = o.event_id WHERE e.slug = 'popular' AND o.status <> 'sent'\")\" = 0 ]"
check "the outbox of the popular event is empty (the surviving mailer sent everything)" sh -c \
    "[ \"\$(runuser -u postgres -- psql -X -At -h $SOCK -p $P -d eventbox -c \"SELECT count(*) FROM eventbox.outbox o JOIN eventbox.events e ON e.id = o.event_id WHERE e.slug = 'popular' AND o.status <> 'sent'\")\" = 0 ]"
grep -h '^X-Envelope-To: <r-' "$R"/mail/*.eml 2>/dev/null | sed 's/^X-Envelope-To: <\(.*\)>\r*$/\1/' | sort >"$R/mailed.txt"
cut -f1 "$R/chaos.tsv" | sort >"$R/answered.txt"
MISSING=$(comm -23 "$R/answered.txt" <(sort -u "$R/mailed.txt") | wc -l)
DUPS=$(uniq -d "$R/mailed.txt" | wc -l)
check "no confirmation email lost: $MISSING of $ANSWERED patrons without one" sh -c "[ '$MISSING' = 0 ]"
# A mailer killed between the relay's "250" and its COMMIT sends that one
# message again (at-least-once; src/mailer.c): at most one per interrupted
# mailer, i.e. per kill and per mailer connection cut by the failover.
check "confirmation emails sent twice: $DUPS (at most 3: one killed mailer, two cut by the failover)" sh -c "[ '$DUPS' -le 3 ]"

check "no process of the rehearsal died unexpectedly (serve A, mailer 2, nginx)" sh -c "
    kill -0 $SERVE_A && kill -0 $MAILER_2 && kill -0 $NGINX"

# ---------------------------------------------------------------------------
say "8. the dump put into service on the new primary (docs/DEPLOY.md, Backups)"
# systemctl stop eventbox eventbox-mailer: SIGTERM to each (KillMode=mixed).
kill -TERM "$SERVE_A" "$MAILER_2" 2>/dev/null
wait_for 40 sh -c "[ -z \"\$(ps -o stat= -p $SERVE_A,$MAILER_2 | grep -v Z)\" ]" ||
    bad "the service or the mailer did not stop on SIGTERM"
# The block's commands but systemctl, as written.
into_service() {
    local block
    block=$(doc_block DEPLOY.md 'systemctl stop eventbox eventbox-mailer') || return 1
    [ "$(grep -c '^systemctl ' <<<"$block")" = 2 ] || { echo "DEPLOY.md's block changed: $block"; return 1; }
    run_doc "$P" "$(grep -v '^systemctl ' <<<"$block")" "$DUMP"
}
check "dropdb, createdb -O eventbox, pg_restore, eventbox-setup-db as DEPLOY.md says" into_service
SERVE_A=$(start_unit eventbox.service) || die "eventbox.service did not start on the restored database"
started_groups+=("$SERVE_A")
MAILER_2=$(start_unit eventbox-mailer.service); started_groups+=("$MAILER_2")
check "/healthz answers 200 on the restored database" wait_for 30 sh -c \
    "[ \"\$(curl -s -o /dev/null -w '%{http_code}' --cacert $R/tls/ca.pem --resolve $NAME:$HTTPS_PORT:127.0.0.1 $URL/healthz)\" = 200 ]"
RESTORED=$(psql_su "$P" eventbox -c "SELECT count(*) || ' ' || sum(id) FROM eventbox.registrations")
check "the registrations are the dump's (${RESTORED:-?}; dumped ${DUMPED:-?})" sh -c "[ -n '$DUMPED' ] && [ '$RESTORED' = '$DUMPED' ]"
reg=$(curl_t -o "$R/reg-restored.json" -w '%{http_code}' -H 'Content-Type: application/json' \
    -d '{"name":"Cy Restored","email":"cy@example.org"}' "$URL/api/v1/events/rehearsal/registrations")
check "a registration over HTTPS on the restored database: $reg confirmed" sh -c "
    [ '$reg' = 201 ] && grep -q '\"status\":\"confirmed\"' $R/reg-restored.json"
check "its confirmation arrives over SMTP (the mailer's grants came back)" \
    wait_for 30 sh -c "grep -l 'X-Envelope-To: <cy@example.org>' $R/mail/*.eml"

say "summary"
echo "failover gap: ${GAP:-?} s (primary killed -> first 201 from the new primary)"
echo "throughput: ${T1:-?} registrations/s with one service instance, ${T2:-?} with two (40 events; one hot event: ${HOT1:-?} and ${HOT2:-?})"
echo "nothing lost: $ANSWERED registrations answered 201 during the chaos run, $LOST lost; confirmed $CONF of $CAP seats; emails missing $MISSING, duplicated $DUPS"
cleanup
trap - EXIT
finish
