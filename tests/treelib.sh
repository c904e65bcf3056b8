# tests/treelib.sh: a Debian tree under var/ that a test runs things in
# (tests/fresh.sh: chroot; tests/units.sh: systemd-nspawn).  Sourced.
#
# procs_in DIR: the processes whose root is DIR (also once it is deleted:
# "(deleted)"), one "PID COMMAND-LINE" line each.
procs_in() {
	local p r
	for p in /proc/[0-9]*; do
		r=$(readlink "$p/root" 2>/dev/null) || continue
		[ "$r" = "$1" ] || [ "$r" = "$1 (deleted)" ] || continue
		echo "${p#/proc/} $(tr '\0' ' ' <"$p/cmdline" 2>/dev/null | cut -c1-100)"
	done
}

# mounted_under DIR: is anything mounted under DIR (in this mount
# namespace)?  Not `findmnt | grep -q`: under pipefail, grep's early exit
# fails findmnt with SIGPIPE, and the pipeline says "no" on a match.
mounted_under() {
	local m
	m=$(findmnt -rn -o TARGET)
	grep -q "^$1/" <<<"$m"
}
