#!/bin/sh
# tests/hardening.sh BINARY: is BINARY built with Debian's hardening flags
# (the release build, see HARDENING in the Makefile)?  Reads the ELF with
# readelf (binutils); prints one line per check and "N passed, M failed".
set -u
bin=${1:-./eventbox}
passed=0
failed=0
check() {  # check NAME COMMAND...
	name=$1
	shift
	if "$@" >/dev/null 2>&1; then
		echo "ok: $name"
		passed=$((passed + 1))
	else
		echo "FAILED: $name"
		failed=$((failed + 1))
	fi
}
dyn=$(readelf -dW "$bin")
hdr=$(readelf -hW "$bin")
seg=$(readelf -lW "$bin")
syms=$(readelf --dyn-syms -W "$bin")
check "position-independent executable (PIE)" \
	sh -c 'printf "%s\n" "$1" | grep -q "Type:.*DYN"' _ "$hdr"
check "read-only relocations (RELRO)" \
	sh -c 'printf "%s\n" "$1" | grep -q GNU_RELRO' _ "$seg"
check "immediate binding (BIND_NOW, full RELRO)" \
	sh -c 'printf "%s\n" "$1" | grep -Eq "BIND_NOW|FLAGS_1.*NOW"' _ "$dyn"
check "stack protector (__stack_chk_fail)" \
	sh -c 'printf "%s\n" "$1" | grep -q __stack_chk_fail' _ "$syms"
check "_FORTIFY_SOURCE (__*_chk functions)" \
	sh -c 'printf "%s\n" "$1" | grep -Eq "__[a-z]+_chk@"' _ "$syms"
check "non-executable stack" \
	sh -c 'printf "%s\n" "$1" | grep GNU_STACK | grep -vq RWE' _ "$seg"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
