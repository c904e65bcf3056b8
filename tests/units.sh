#!/bin/bash
# tests/units.sh: docs/DEPLOY.md under a real systemd (`make test-units`;
# .ci/run runs it after make test-fresh).
#
# `make rehearse` starts each process as its unit file says, but systemd
# does not run there, so the units' sandboxing (ProtectSystem=strict,
# SystemCallFilter=, PrivateUsers=, ...), their enabling, ordering, reload,
# restart and stop were never exercised.  Here they are: debootstrap puts a
# Debian 12 with systemd in var/units/root, this tree's package is built
# and installed there with DEPLOY.md's own `apt install` line (under chroot,
# no service started), then the tree boots with systemd as PID 1 in a
# container of its own (systemd-nspawn, no network but loopback) and the
# rest of DEPLOY.md runs in it as written: eventbox-setup-db, the settings,
# the TLS drop-in, the nginx site, `systemctl enable --now ...`, the
# logrotate block.  It passes when:
#   - the system is "running" (no failed unit) after boot and after a reboot;
#   - `curl -sI https://events.yourlibrary.org/healthz` answers 200 (a
#     certificate for that name from a CA the container trusts, where
#     DEPLOY.md's tls.conf lines say);
#   - `nginx -t` with the site prints no warning;
#   - the services run with the sandbox in force (no capabilities, no new
#     privileges, a seccomp filter, a read-only /usr and /etc);
#   - a registration over HTTPS is confirmed and its email reaches the SMTP
#     server on port 25 (mailer.env's default) with an https:// cancel link;
#   - the journal of the three units has no warning or error;
#   - DEPLOY.md's drop-in sets TimeoutStopSec; a reload keeps the service's
#     pid; logrotate (DEPLOY.md's block) moves the log files and the
#     services write new ones; EVENTBOX_CORS_ORIGINS changed and the
#     service restarted makes nginx's own 413 name the new origin (the
#     unit's ExecStartPre= reloading the real nginx); a killed master is
#     restarted by systemd; stops end in "success";
#   - after a reboot everything enabled is up, in order, and the
#     registration is still there; the final poweroff is clean.
# Needs root and the network (Debian's mirror); about six minutes.
# The last line is "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
ROOT=$(pwd -P)
V=$ROOT/var/units
D=$V/root
LOG=$V/log
NAME=events.yourlibrary.org
. "$ROOT/tests/doclib.sh"

. "$ROOT/tests/treelib.sh"
# Processes running in the tree (chroot or container); anything mounted
# under var/units.
in_tree() { procs_in "$D"; }
mounted() { mounted_under "$V"; }

if [ "${1:-}" != --inside ]; then
	[ "$(id -u)" -eq 0 ] || { echo "tests/units.sh: needs root"; echo "0 passed, 1 failed"; exit 1; }
	if mounted || [ -n "$(in_tree)" ]; then
		echo "tests/units.sh: something is mounted or runs under var/units; not touching it"
		echo "0 passed, 1 failed"
		exit 1
	fi
	rm -rf --one-file-system "$V"
	mkdir -p "$LOG"
	need=()
	command -v debootstrap >/dev/null || need+=(debootstrap)
	command -v systemd-nspawn >/dev/null || need+=(systemd-container)
	command -v dpkg-buildpackage >/dev/null || need+=(dpkg-dev)
	[ ${#need[@]} -eq 0 ] || DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 \
	    install -y -q --no-install-recommends "${need[@]}" >/dev/null
	unshare --mount --propagation private -- "$ROOT/tests/units.sh" --inside
	rc=$?
	if [ "$rc" -eq 0 ] && [ -z "$(in_tree)" ] && ! mounted; then
		rm -rf --one-file-system "$V"
	fi
	exit "$rc"
fi

passed=0
failed=0
check() {  # check DESCRIPTION COMMAND...: one line, counted
	if "${@:2}" >>"$LOG/checks" 2>&1; then
		passed=$((passed + 1))
		echo "ok   $1"
	else
		failed=$((failed + 1))
		echo "FAIL $1"
		echo "---- $1 (the end of $LOG/checks):"
		tail -n 15 "$LOG/checks" | sed 's/^/     /'
	fi
	echo "==== $1" >>"$LOG/checks"
}
finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
}

in_chroot() {  # in_chroot COMMAND: root's shell in the tree, before boot
	chroot "$D" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
	    DEBIAN_FRONTEND=noninteractive APT_CONFIG=/root/apt.conf \
	    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	    /bin/bash -c "$1"
}

# The container: systemd-nspawn in a session of its own; its child is the
# container's PID 1 (systemd), whose namespaces in_box enters.
NSPAWN=""
LEADER=""
boot() {
	local tenths=600 state
	setsid systemd-nspawn -q --register=no --keep-unit --private-network \
	    -D "$D" -M eventbox-units -b >>"$LOG/console" 2>&1 </dev/null &
	NSPAWN=$!
	LEADER=""
	while (( tenths-- > 0 )); do
		LEADER=$(pgrep -P "$NSPAWN" | head -n 1)
		[ -n "$LEADER" ] && [ "$(cat "/proc/$LEADER/comm" 2>/dev/null)" = systemd ] && break
		LEADER=""
		sleep 0.1
	done
	[ -n "$LEADER" ] || { echo "no systemd in the container"; return 1; }
	# systemctl answers once systemd's own socket is there.
	while ! in_box 'test -S /run/systemd/private' && (( tenths-- > 0 )); do sleep 0.1; done
	state=$(in_box 'timeout 180 systemctl is-system-running --wait')
	echo "system: $state"
	[ "$state" = running ] || { in_box 'systemctl --failed --no-pager'; return 1; }
}
in_box() {  # in_box COMMAND: root's shell in the booted container
	nsenter -t "$LEADER" -a /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
	    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	    /bin/bash -c "cd /root && $1"
}
# poweroff: systemctl poweroff in the container; nspawn's own exit status
# (0 for a clean shutdown) within two minutes.
poweroff() {
	local tenths=1200
	in_box 'systemctl poweroff' || return 1
	while kill -0 "$NSPAWN" 2>/dev/null && (( tenths-- > 0 )); do sleep 0.1; done
	kill -0 "$NSPAWN" 2>/dev/null && { echo "still running 2 minutes after poweroff"; return 1; }
	wait "$NSPAWN"
}
stop_left() {
	local p
	if [ -n "$NSPAWN" ] && kill -0 "$NSPAWN" 2>/dev/null; then
		kill -TERM "$NSPAWN" 2>/dev/null
		for _ in $(seq 300); do kill -0 "$NSPAWN" 2>/dev/null || break; sleep 0.1; done
	fi
	for p in $(in_tree | cut -d' ' -f1); do kill -KILL "$p" 2>/dev/null; done
}
trap stop_left EXIT

# run_doc SCRIPT: a command of the docs, as written, as root in the container.
run_doc() {
	[ -n "$1" ] || { echo "run_doc: no command (the docs changed?)"; return 1; }
	printf 'as the docs say:\n%s\n' "$1"
	in_box "set -euo pipefail; $1"
}

echo "== a Debian 12 with systemd in var/units/root, this tree's package (DEPLOY.md step 1)"
debootstrap_() {
	debootstrap --include=systemd,systemd-sysv,dbus,ca-certificates,procps bookworm "$D" \
	    http://deb.debian.org/debian >"$LOG/debootstrap" 2>&1
}
check "debootstrap bookworm with systemd" debootstrap_ || finish
[ -f /etc/apt/sources.list.d/debian.sources ] &&
    cp /etc/apt/sources.list.d/debian.sources "$D/etc/apt/sources.list.d/" &&
    : >"$D/etc/apt/sources.list"
cp /etc/resolv.conf "$D/etc/resolv.conf"
printf 'APT::Get::Assume-Yes "true";\n' >"$D/root/apt.conf"

build() {
	mkdir -p "$V/src/eventbox" && copy_tree "$V/src/eventbox" &&
	    (cd "$V/src/eventbox" && dpkg-buildpackage -b -us -uc -j2) >"$LOG/dpkg-buildpackage" 2>&1 &&
	    mkdir -p "$D/root/src/eventbox" && cp "$V"/src/eventbox_*_amd64.deb "$D/root/src/"
}
check "dpkg-buildpackage" build || finish

# Under chroot, with /proc, /sys and /dev, no service started (policy-rc.d):
# systemd starts what is enabled when the tree boots.
mount --bind /proc "$D/proc" && mount --bind /sys "$D/sys" && mount --bind /dev "$D/dev" ||
    { check "mount /proc /sys /dev" false; finish; }
printf '#!/bin/sh\nexit 101\n' >"$D/usr/sbin/policy-rc.d"
chmod 0755 "$D/usr/sbin/policy-rc.d"
INSTALL=$(doc_cmd DEPLOY.md 'apt install ../eventbox_')
install_() {
	in_chroot 'apt-get update -q' >"$LOG/apt" 2>&1 &&
	    printf 'as the docs say:\n%s\n' "$INSTALL" &&
	    in_chroot "cd /root/src/eventbox && $INSTALL" >>"$LOG/apt" 2>&1
}
check "DEPLOY.md's apt install line, as written" install_ || finish
# What the test itself needs in there: curl for DEPLOY.md's own check, an
# SMTP server (deploy/mailsink.py), logrotate for DEPLOY.md's block.
check "curl, python3-aiosmtpd, logrotate" \
    in_chroot 'apt-get install -q curl python3-aiosmtpd logrotate >>/root/apt.log 2>&1'
rm -f "$D/usr/sbin/policy-rc.d"
umount "$D/dev" "$D/sys" "$D/proc"
cp "$ROOT/deploy/mailsink.py" "$D/root/mailsink.py"

# The site's name on loopback, and a certificate for it from a CA the
# container trusts, where DEPLOY.md's tls.conf lines (after certbot) say.
tls() {
	local t=$V/tls live=$D/etc/letsencrypt/live/$NAME
	mkdir -p "$t" "$live" &&
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=eventbox units CA" \
	    -keyout "$t/ca.key" -out "$t/ca.crt" &&
	openssl req -newkey rsa:2048 -nodes -subj "/CN=$NAME" -keyout "$live/privkey.pem" -out "$t/site.csr" &&
	printf 'subjectAltName=DNS:%s\n' "$NAME" >"$t/ext" &&
	openssl x509 -req -in "$t/site.csr" -CA "$t/ca.crt" -CAkey "$t/ca.key" -CAcreateserial \
	    -days 2 -extfile "$t/ext" -out "$live/fullchain.pem" &&
	cp "$t/ca.crt" "$D/usr/local/share/ca-certificates/eventbox-units-ca.crt" &&
	in_chroot update-ca-certificates &&
	printf '127.0.0.1 %s\n' "$NAME" >>"$D/etc/hosts"
}
check "a certificate for $NAME" tls || finish

echo "== boot (systemd-nspawn, loopback only)"
check "the system boots to \"running\" (no failed unit)" boot || finish
check "postgresql and nginx run, eventbox does not yet (installed, not enabled)" in_box '
    systemctl is-active postgresql@15-main nginx && ! systemctl is-enabled eventbox'
check "the test's SMTP server on port 25 (mailer.env's default relay)" in_box '
    mkdir -p /root/mail && systemd-run -q --unit=mailsink /usr/bin/python3 /root/mailsink.py 25 /root/mail &&
    for i in $(seq 50); do (: >/dev/tcp/127.0.0.1/25) 2>/dev/null && exit 0; sleep 0.1; done; exit 1'

echo "== DEPLOY.md, steps 2 to 5, as written"
check "step 2: eventbox-setup-db" run_doc "$(doc_cmd DEPLOY.md eventbox-setup-db)"
settings() {
	in_box "sed -i 's#^EVENTBOX_BASE_URL=.*#EVENTBOX_BASE_URL=https://$NAME#' /etc/eventbox/web.env /etc/eventbox/mailer.env &&
	    grep -q '^EVENTBOX_BASE_URL=https://$NAME\$' /etc/eventbox/web.env &&
	    grep -q '^EVENTBOX_BASE_URL=https://$NAME\$' /etc/eventbox/mailer.env"
}
check "step 3: the site's name in web.env and mailer.env" settings
check "step 3: the TimeoutStopSec drop-in" \
    run_doc "$(doc_block DEPLOY.md 'mkdir -p /etc/systemd/system/eventbox.service.d')"
check "  systemctl show -p TimeoutStopUSec eventbox: 2min 10s" in_box '
    [ "$(systemctl show -p TimeoutStopUSec eventbox)" = "TimeoutStopUSec=2min 10s" ]'
check "step 4: the site's name (sed, as written)" \
    run_doc "$(doc_cmd DEPLOY.md "sed -i 's/events")"
check "step 4: the site enabled (ln -s, as written)" \
    run_doc "$(doc_cmd DEPLOY.md 'ln -s ../sites-available/eventbox')"
tls_conf() {
	local lines
	lines=$(doc_block DEPLOY.md 'ssl_certificate     /etc/letsencrypt') || return 1
	printf '%s\n' "$lines"
	in_box "sed -i '/^ssl_certificate/d' /etc/nginx/eventbox.d/tls.conf &&
	    printf '%s\n' '$lines' >>/etc/nginx/eventbox.d/tls.conf"
}
check "step 4: tls.conf names the certificate (DEPLOY.md's lines)" tls_conf
check "step 4: nginx -t && systemctl reload nginx" run_doc "$(doc_cmd DEPLOY.md 'nginx -t &&')"
check "  nginx -t prints no warning" in_box '
    out=$(nginx -t 2>&1); echo "$out"; ! grep -q "\[warn\]\|\[emerg\]" <<<"$out"'
STEP5=$(doc_block DEPLOY.md 'systemctl enable --now eventbox')
step5() { run_doc "$STEP5" | tee "$LOG/step5" && grep -q '^HTTP/[0-9.]* 200' "$LOG/step5"; }
check "step 5: enable --now, the purge, curl -sI .../healthz answers 200" step5
check "  eventbox and eventbox-mailer are active, the purge ran to success" in_box '
    systemctl is-active eventbox eventbox-mailer eventbox-purge.timer &&
    [ "$(systemctl show -p Result --value eventbox-purge)" = success ] &&
    [ -n "$(systemctl show -p NextElapseUSecRealtime --value eventbox-purge.timer)" ]'

echo "== the sandbox, the service's work, the journal"
sandboxed() {
	in_box '
	set -e
	master=$(systemctl show -p MainPID --value eventbox)
	worker=$(pgrep -P "$master" | head -n 1)
	mailer=$(systemctl show -p MainPID --value eventbox-mailer)
	for pid in $master $worker $mailer; do
		s=$(grep -E "^(CapEff|NoNewPrivs|Seccomp):" /proc/$pid/status | tr -s "\t " " " | tr "\n" ";")
		echo "$pid $(cat /proc/$pid/comm): $s"
		[ "$s" = "CapEff: 0000000000000000;NoNewPrivs: 1;Seccomp: 2;" ]
		for f in /usr/.units-probe /etc/.units-probe; do
			if nsenter -t "$pid" -m touch "$f" 2>/dev/null; then
				echo "$pid can write $f"; rm -f "$f"; exit 1
			fi
		done
	done'
}
check "the master, a worker and the mailer: no capabilities, no new privileges, seccomp, read-only /usr and /etc" sandboxed
SQL=$(doc_sql OPS.md 1)
create_event() {
	printf 'OPS.md, as written:\n%s\n' "$SQL"
	printf '%s\n' "$SQL" >"$D/root/event.sql"
	in_box 'cd / && runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -U eventbox -d eventbox </root/event.sql'
}
check "an event made and published from psql as OPS.md says" create_event
register() {  # register EMAIL: a 201, confirmed, over HTTPS
	in_box "curl -sS -o /root/reg.json -w '%{http_code}\n' -X POST \
	    https://$NAME/api/v1/events/genealogy-basics/registrations \
	    -H 'Content-Type: application/json' -d '{\"name\": \"Ann Patron\", \"email\": \"$1\"}' |
	    grep -qx 201 && grep -q '\"status\":\"confirmed\"' /root/reg.json"
}
check "a registration over HTTPS is confirmed" register ann@example.org
mail_for() {  # mail_for ADDRESS: its email at the SMTP server within 60 s,
	# its text part (decoded) with an https:// cancellation link
	in_box "for i in \$(seq 600); do
	    f=\$(grep -l '^X-Envelope-To: <$1>' /root/mail/*.eml 2>/dev/null | head -n 1)
	    [ -n \"\$f\" ] && python3 -c 'import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], \"rb\"), policy=email.policy.default)
sys.exit(\"https://$NAME/cancel/\" not in m.get_body((\"plain\",)).get_content())' \"\$f\" && exit 0
	    sleep 0.1; done; exit 1"
}
check "its email reaches the SMTP server with an https:// cancellation link" mail_for ann@example.org
quiet_journal() {
	in_box 'out=$(journalctl -q --no-pager -p warning -u eventbox -u eventbox-mailer -u eventbox-purge)
	    echo "$out"; [ -z "$out" ] &&
	    ! journalctl -q --no-pager -u eventbox -u eventbox-mailer -u eventbox-purge |
	      grep -Ei "not permitted|permission denied|bad system call|read-only file system"'
}
check "the three units' journal has no warning, error or denial" quiet_journal

echo "== reload, logrotate, restart, a crash, stop"
reload() {
	in_box 'before=$(systemctl show -p MainPID --value eventbox)
	    systemctl reload eventbox && sleep 1 &&
	    [ "$(systemctl show -p MainPID --value eventbox)" = "$before" ] &&
	    curl -sSf -o /dev/null https://'"$NAME"'/healthz'
}
check "systemctl reload eventbox keeps its pid and serves" reload
log_files() {
	in_box 'printf "EVENTBOX_LOG_FILE=/var/log/eventbox-web/web.log\n" >>/etc/eventbox/web.env &&
	    printf "EVENTBOX_LOG_FILE=/var/log/eventbox-mail/mailer.log\n" >>/etc/eventbox/mailer.env &&
	    systemctl restart eventbox eventbox-mailer &&
	    grep -q "listening on" /var/log/eventbox-web/web.log &&
	    # the mailer is Type=simple: its first line may come just after
	    for i in $(seq 100); do
	        grep -q "started" /var/log/eventbox-mail/mailer.log 2>/dev/null && break
	        sleep 0.1
	    done &&
	    grep -q "started" /var/log/eventbox-mail/mailer.log &&
	    [ "$(stat -c %U /var/log/eventbox-web/web.log)" = eventbox-web ] &&
	    [ "$(stat -c %U /var/log/eventbox-mail/mailer.log)" = eventbox-mail ]'
}
check "EVENTBOX_LOG_FILE as DEPLOY.md says: each service writes its own file" log_files
rotate() {
	printf '%s\n' "$(doc_block DEPLOY.md '/var/log/eventbox-web/*.log')" >"$D/etc/logrotate.d/eventbox"
	cat "$D/etc/logrotate.d/eventbox"
	in_box 'logrotate -f /etc/logrotate.d/eventbox && sleep 1 &&
	    [ -s /var/log/eventbox-web/web.log.1 ] && [ -s /var/log/eventbox-mail/mailer.log.1 ] &&
	    [ "$(stat -c %U /var/log/eventbox-web/web.log)" = eventbox-web ] &&
	    [ "$(stat -c %U /var/log/eventbox-mail/mailer.log)" = eventbox-mail ]' || return 1
	# the mailer's next line goes to the new file
	register bob@example.org && mail_for bob@example.org &&
	    in_box 'for i in $(seq 50); do grep -q "sent" /var/log/eventbox-mail/mailer.log && exit 0; sleep 0.1; done; exit 1'
}
check "logrotate (DEPLOY.md's block): both files rotated, both services write new ones" rotate
cors() {
	in_box 'printf "EVENTBOX_CORS_ORIGINS=https://www.yourlibrary.org\n" >>/etc/eventbox/web.env &&
	    systemctl restart eventbox &&
	    grep -q "https://www.yourlibrary.org" /etc/nginx/eventbox-cors.map &&
	    head -c 20000 /dev/zero | tr "\0" a >/root/big || exit 1
	    # the unit asks for nginx'"'"'s reload without waiting (--no-block)
	    for i in $(seq 100); do
	        curl -sS -o /dev/null -D /root/h413 -X POST --data-binary @/root/big \
	            -H "Origin: https://www.yourlibrary.org" -H "Content-Type: application/json" \
	            https://'"$NAME"'/api/v1/events/genealogy-basics/registrations
	        grep -q "^HTTP/[0-9.]* 413" /root/h413 &&
	            grep -qi "^access-control-allow-origin: https://www.yourlibrary.org" /root/h413 && exit 0
	        sleep 0.1
	    done; cat /root/h413; exit 1'
}
check "a new EVENTBOX_CORS_ORIGINS and a restart: nginx (reloaded by the unit) names it in its own 413" cors
crash() {
	in_box 'before=$(systemctl show -p MainPID --value eventbox)
	    systemctl kill -s KILL --kill-whom=main eventbox
	    for i in $(seq 150); do
	        now=$(systemctl show -p MainPID --value eventbox)
	        [ "$now" != "$before" ] && [ "$now" != 0 ] && systemctl is-active -q eventbox &&
	            curl -sSf -o /dev/null https://'"$NAME"'/healthz && exit 0
	        sleep 0.1
	    done; exit 1'
}
check "a killed master: systemd restarts the service and it serves" crash
stops() {
	in_box 'systemctl stop eventbox eventbox-mailer &&
	    [ "$(systemctl show -p Result --value eventbox)" = success ] &&
	    [ "$(systemctl show -p Result --value eventbox-mailer)" = success ] &&
	    ! pgrep -x eventbox'
}
check "systemctl stop: both end in success, no eventbox process is left" stops

echo "== reboot"
check "poweroff is clean" poweroff
check "the system boots to \"running\" again" boot || finish
again() {
	in_box 'systemctl is-active eventbox eventbox-mailer nginx postgresql@15-main eventbox-purge.timer &&
	    curl -sSf -o /dev/null https://'"$NAME"'/healthz &&
	    [ "$(cd / && runuser -u postgres -- psql -X -qAt -U eventbox -d eventbox -c \
	        "SELECT count(*) FROM eventbox.registrations WHERE status = '"'confirmed'"'")" = 2 ]'
}
check "after the reboot: everything enabled is up, serving, the registrations kept" again
check "the final poweroff is clean" poweroff
finish
