# eventbox: event registration for library consortia.
#
#   make            build ./eventbox
#   make run        install what is missing, start a private stack, serve
#   make test       the whole suite against a throwaway stack (also ASan+UBSan)
#   make psql       psql on the make-run cluster, as the database owner
#   make bench      benchmarks (not part of make test)
#   make fuzz       long fuzzing runs (FUZZ_SECONDS per target, default 300)
#   make soak       10 minutes of mixed traffic under ASan+UBSan (SOAK_SECONDS)
#   make pot        regenerate po/eventbox.pot from the sources, merge po/*.po
#   make install    PREFIX=/usr/local DESTDIR= (the Debian package: PREFIX=/usr)
#   make rehearse   build the .deb, install it and upgrade an older one to it,
#                   run production on loopback, fail over the database,
#                   count what was lost (nothing)
#   make test-fresh make run on a fresh Debian 12 (debootstrap, chroot)
#   make test-units DEPLOY.md under systemd (debootstrap, systemd-nspawn)
#
# Site tweaks go in Makefile.local (not tracked).

PREFIX	?= /usr/local
BINDIR	?= $(PREFIX)/bin
SBINDIR	?= $(PREFIX)/sbin
DATADIR	?= $(PREFIX)/share/eventbox
LOCALEDIR ?= $(PREFIX)/share/locale
SYSCONFDIR ?= /etc
# systemd units: the package's place under /usr, the admin's otherwise.
UNITDIR	?= $(if $(filter /usr,$(PREFIX)),/lib/systemd/system,/etc/systemd/system)
# The production nginx site (make install renders it; docs/DEPLOY.md).
SERVER_NAME ?= events.example.org
CC	?= cc
CFLAGS	?= -O2 -g
PKGS	 = libpq libcjson uuid fcgi libcurl libcrypto libidn2

WARNINGS = -std=c11 -Wall -Wextra -Werror -Wshadow -Wconversion \
	   -Wmissing-prototypes -Wvla -Wwrite-strings -Wformat-security \
	   -Wno-sign-conversion
SANITIZE = -fsanitize=address,undefined -fno-omit-frame-pointer \
	   -fno-sanitize-recover=undefined

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
ALL_CPPFLAGS = -D_GNU_SOURCE -Isrc -DEVENTBOX_LOCALEDIR_DEFAULT='"$(LOCALEDIR)"' \
	       $(PKG_CFLAGS) $(CPPFLAGS)
ALL_CFLAGS   = $(WARNINGS) $(CFLAGS)

# The release build (./eventbox, the one installed) carries Debian's
# hardening flags: dpkg-buildflags with hardening=+all gives
# _FORTIFY_SOURCE=2, -fstack-protector-strong, -Werror=format-security and
# full RELRO (-z relro -z now); -fPIE/-pie say out loud what Debian's gcc
# does by default; -fstack-clash-protection and -fcf-protection are what
# newer dpkg (1.22) adds to hardening=+all.  HARDENING=no leaves them
# out.  Not for the sanitizer, unit or fuzz builds.  tests/hardening.sh
# checks the result (make test runs it).
HARDENING ?= $(if $(wildcard /usr/bin/dpkg-buildflags),yes,no)
ifeq ($(HARDENING),yes)
HARDEN_ENV	 = DEB_BUILD_MAINT_OPTIONS=hardening=+all
HARDEN_CPPFLAGS := $(shell $(HARDEN_ENV) dpkg-buildflags --get CPPFLAGS)
HARDEN_CFLAGS	:= $(shell $(HARDEN_ENV) dpkg-buildflags --get CFLAGS) -fPIE \
		   -fstack-clash-protection -fcf-protection
HARDEN_LDFLAGS	:= $(shell $(HARDEN_ENV) dpkg-buildflags --get LDFLAGS) -pie
endif
RELEASE_CPPFLAGS = $(ALL_CPPFLAGS) $(HARDEN_CPPFLAGS)
RELEASE_CFLAGS	 = $(WARNINGS) $(HARDEN_CFLAGS) $(CFLAGS)
RELEASE_LDFLAGS	 = $(HARDEN_LDFLAGS) $(LDFLAGS)

SRCS	:= $(sort $(wildcard src/*.c))
OBJS	:= $(SRCS:src/%.c=build/release/%.o)
ASAN_OBJS := $(SRCS:src/%.c=build/asan/%.o)
LIB_SRCS := $(filter-out src/main.c,$(SRCS))
# The unit tests link the sanitizer build's objects, main.o aside.
LIB_ASAN_OBJS := $(filter-out build/asan/main.o,$(ASAN_OBJS))

# Fuzzers (libFuzzer, clang): one per tests/fuzz/fuzz_NAME.c, each with a
# seed corpus in tests/fuzz/corpus/NAME/.  A new target is one new file.
FUZZ_CC	 ?= clang
FUZZ_SAN  = -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	    -fno-omit-frame-pointer
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=build/fuzz/%)
FUZZ_OBJS := $(LIB_SRCS:src/%.c=build/fuzz/obj/%.o)
FUZZ_SECONDS ?= 300

# Translations (docs/TRANSLATING.md): po/LL.po for each language, compiled
# to build/locale/LL/LC_MESSAGES/eventbox.mo; a new language is one file.
PO_FILES := $(sort $(wildcard po/*.po))
MO_FILES := $(PO_FILES:po/%.po=build/locale/%/LC_MESSAGES/eventbox.mo)
XGETTEXT_FLAGS = --from-code=UTF-8 --language=C --add-comments=TRANSLATORS: \
	--keyword=_ --keyword=N_ --keyword=P_:1,2 --keyword=C_:1c,2 \
	--keyword=NC_:1c,2 --keyword=answer_error:5 --keyword=answer_field_error:3 \
	--keyword=answer_error_field:6 \
	--keyword=html_error_page:3 \
	--package-name=eventbox --msgid-bugs-address=eventbox@example.org \
	--sort-by-file --no-wrap

sinclude Makefile.local

.PHONY: all run test test-fresh test-units test-interrupt test-unit psql bench fuzz fuzzers soak install clean deps deps-test \
	rehearse locale pot potfile nginx-site FORCE

all: eventbox locale

locale: $(MO_FILES)

build/locale/%/LC_MESSAGES/eventbox.mo: po/%.po
	@mkdir -p $(@D)
	msgfmt --check --strict -o $@ $<

# The template from the marked strings in src/, then each catalogue merged
# with it (new strings arrive empty, changed ones fuzzy, for translators).
# `make potfile POT=FILE` only writes the template (tests/test_i18n.py
# compares it with the committed one).
POT ?= po/eventbox.pot
potfile:
	xgettext $(XGETTEXT_FLAGS) -o $(POT) $(SRCS) $(wildcard src/*.h)

pot: potfile
	for po in $(PO_FILES); do \
	    msgmerge --quiet --update --backup=none --no-wrap $$po \
	        po/eventbox.pot || exit 1; done

eventbox: $(OBJS)
	$(CC) $(RELEASE_CFLAGS) $(RELEASE_LDFLAGS) -o $@ $(OBJS) $(PKG_LIBS)

eventbox-asan: $(ASAN_OBJS)
	$(CC) $(ALL_CFLAGS) $(SANITIZE) $(LDFLAGS) -o $@ $(ASAN_OBJS) $(PKG_LIBS)

build/release/%.o: src/%.c build/release/flags
	$(CC) $(RELEASE_CPPFLAGS) $(RELEASE_CFLAGS) -MMD -MP -c -o $@ $<

# Rebuilds the release objects when the flags change (HARDENING, CFLAGS).
build/release/flags: FORCE
	@mkdir -p $(@D)
	@echo '$(RELEASE_CPPFLAGS) $(RELEASE_CFLAGS) $(RELEASE_LDFLAGS)' | \
	    cmp -s - $@ || \
	    echo '$(RELEASE_CPPFLAGS) $(RELEASE_CFLAGS) $(RELEASE_LDFLAGS)' >$@

build/asan/%.o: src/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(SANITIZE) -O1 -MMD -MP -c -o $@ $<

tests/loadclient: tests/loadclient.c
	$(CC) $(ALL_CFLAGS) -D_POSIX_C_SOURCE=200809L $(LDFLAGS) -o $@ $< \
	    $$(pkg-config --cflags --libs libcurl)

build/unit: tests/unit.c tests/check.h $(LIB_ASAN_OBJS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(SANITIZE) -o $@ tests/unit.c \
	    $(LIB_ASAN_OBJS) $(PKG_LIBS)

build/mail-unit: tests/mail_unit.c tests/check.h $(LIB_ASAN_OBJS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(SANITIZE) -o $@ tests/mail_unit.c \
	    $(LIB_ASAN_OBJS) $(PKG_LIBS)

build/i18n-unit: tests/i18n_unit.c tests/check.h $(LIB_ASAN_OBJS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(SANITIZE) -o $@ tests/i18n_unit.c \
	    $(LIB_ASAN_OBJS) $(PKG_LIBS)

build/fuzz/obj/%.o: src/%.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(FUZZ_SAN) \
	    -fsanitize=fuzzer-no-link -O1 -MMD -MP -c -o $@ $<

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_OBJS)
	$(FUZZ_CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer \
	    -O1 -o $@ $< $(FUZZ_OBJS) $(PKG_LIBS)

fuzzers: $(FUZZ_BINS)
.SECONDARY: $(FUZZ_OBJS)	# kept: each fuzzer links them all

# Installs what is missing on a fresh Debian machine (a no-op when present):
# deps what building and running takes, deps-test also what the tests and
# the benchmarks take (Chromium, Node.js, pytest, clang for the fuzzers ...).
deps:
	@deploy/devstack.sh deps

deps-test:
	@deploy/devstack.sh deps test

run: deps
	@$(MAKE) --no-print-directory eventbox locale
	deploy/devstack.sh run

psql:
	@deploy/devstack.sh psql

test-unit: build/unit build/mail-unit build/i18n-unit locale
	build/unit
	build/mail-unit
	build/i18n-unit

# The tests' npm packages (playwright-core, axe-core for the browser tests;
# ical.js, tests/test_calendar_clients.py), pinned by
# tests/package-lock.json to versions that run on Debian 12's Node.js 18;
# check-node.cjs refuses a Node/playwright-core pair that would not.
tests/node_modules: tests/package.json tests/package-lock.json
	node tests/browser/check-node.cjs
	npm ci --prefix tests --no-audit --no-fund
	@touch $@

# The builds go one job per CPU (three builds of every source file).
test: deps-test tests/node_modules
	@node tests/browser/check-node.cjs --installed
	@$(MAKE) --no-print-directory -j$$(nproc) eventbox eventbox-asan \
	    tests/loadclient build/unit build/mail-unit build/i18n-unit fuzzers locale
	tests/run.sh

# tests/run.sh interrupted (SIGTERM, SIGINT, Ctrl-C) during the soak stops
# all it started (tests/interrupt.sh; about a minute; .ci/run runs it).
test-interrupt: deps-test
	@$(MAKE) --no-print-directory -j$$(nproc) eventbox eventbox-asan \
	    tests/loadclient build/unit build/mail-unit build/i18n-unit fuzzers locale
	tests/interrupt.sh

# Each fuzzer for FUZZ_SECONDS (new inputs go to build/fuzz/corpus/, never
# into the committed seeds; crashes to build/fuzz/artifacts/).
fuzz: fuzzers
	FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh long

# Ten minutes of mixed traffic against the ASan+UBSan build (tests/test_soak.py).
SOAK_SECONDS ?= 600
soak: deps-test
	@$(MAKE) --no-print-directory -j$$(nproc) eventbox eventbox-asan \
	    tests/loadclient build/unit build/mail-unit build/i18n-unit locale
	SOAK_SECONDS=$(SOAK_SECONDS) FUZZ_RUNS=0 \
	    PYTEST_ARGS=tests/test_soak.py tests/run.sh

bench: deps-test
	@$(MAKE) --no-print-directory eventbox tests/loadclient locale
	bench/run.sh

# Everything production needs: the binary, migrations (sql/ and its
# subdirectories), static files, error pages, the systemd units (ExecStart=
# pointing at BINDIR), the three environment file templates, the database
# set-up script, and the nginx site rendered from the same templates the
# tests use, with eventbox-cors-map, which renders nginx's copy of
# EVENTBOX_CORS_ORIGINS.  The Debian package (debian/) is this with PREFIX=/usr.
NGINX_SITE_SED = -e 's|@POST_RATE@|10r/s|g' -e 's|@CONN_LIMIT@|20|g' \
	-e 's|@CACHE_DIR@|/var/cache/nginx/eventbox|g' \
	-e 's|@MICROCACHE_SKIP@|1|g' \
	-e 's|@LISTEN@|443 ssl http2; listen [::]:443 ssl http2|g' \
	-e 's|@SERVER_NAME@|$(SERVER_NAME)|g' \
	-e 's|@POST_BURST@|20|g' \
	-e 's|@UPSTREAM@|unix:/run/eventbox/eventbox.sock|g' \
	-e 's|@FASTCGI_PASS@|eventbox_web|g' \
	-e 's|@STATIC_ROOT@|$(DATADIR)/static|g' \
	-e 's|@ERRORS_ROOT@|$(DATADIR)/nginx/errors|g' \
	-e 's|@ACCESS_LOG@|/var/log/nginx/eventbox-access.log|g' \
	-e 's|@ERROR_LOG@|/var/log/nginx/eventbox-error.log|g' \
	-e 's|@SERVER_INCLUDE@|$(SYSCONFDIR)/nginx/eventbox.d/*.conf|g' \
	-e 's|@CORS_MAP@|$(SYSCONFDIR)/nginx/eventbox-cors.map|g'

# The production site as `make install` writes it, to stdout; the tests
# run this rendering (tests/test_nginx_front.py).
NGINX_SITE = { sed $(NGINX_SITE_SED) nginx/eventbox-site.conf.in; \
	  sed $(NGINX_SITE_SED) nginx/eventbox-http.conf.in; echo; \
	  sed $(NGINX_SITE_SED) nginx/eventbox.conf.in; }

nginx-site:
	@$(NGINX_SITE)

install: eventbox locale
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) \
	    $(DESTDIR)$(DATADIR)/nginx/errors $(DESTDIR)$(DATADIR)/env \
	    $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)/nginx/sites-available \
	    $(DESTDIR)$(SYSCONFDIR)/nginx/eventbox.d
	install -m 0755 eventbox $(DESTDIR)$(BINDIR)/eventbox
	sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@DATADIR@|$(DATADIR)|g' \
	    deploy/eventbox-setup-db >$(DESTDIR)$(SBINDIR)/eventbox-setup-db
	chmod 0755 $(DESTDIR)$(SBINDIR)/eventbox-setup-db
	install -m 0755 deploy/eventbox-cors-map $(DESTDIR)$(SBINDIR)/eventbox-cors-map
	cd sql && find . -name '*.sql' | while read -r f; do \
	    install -D -m 0644 "$$f" "$(DESTDIR)$(DATADIR)/sql/$$f" || exit 1; done
	install -m 0644 nginx/errors/* $(DESTDIR)$(DATADIR)/nginx/errors/
	install -m 0644 nginx/*.in $(DESTDIR)$(DATADIR)/nginx/
	for u in deploy/*.service deploy/*.timer; do \
	    sed -e 's|/usr/bin/eventbox|$(BINDIR)/eventbox|g' \
	        -e 's|/usr/sbin/eventbox|$(SBINDIR)/eventbox|g' \
	        -e 's|/etc/nginx/eventbox-cors.map|$(SYSCONFDIR)/nginx/eventbox-cors.map|g' "$$u" \
	        >$(DESTDIR)$(UNITDIR)/$${u#deploy/} || exit 1; done
	chmod 0644 $(DESTDIR)$(UNITDIR)/eventbox*
	install -m 0644 deploy/*.env.example $(DESTDIR)$(DATADIR)/env/
	$(NGINX_SITE) >$(DESTDIR)$(SYSCONFDIR)/nginx/sites-available/eventbox
	chmod 0644 $(DESTDIR)$(SYSCONFDIR)/nginx/sites-available/eventbox
	install -m 0644 nginx/eventbox-tls.conf \
	    $(DESTDIR)$(SYSCONFDIR)/nginx/eventbox.d/tls.conf
	# nginx's copy of EVENTBOX_CORS_ORIGINS: none until eventbox.service
	# starts and renders web.env's (docs/DEPLOY.md); an existing one is
	# kept.  Not in the Debian package (debian/rules): derived, not a
	# conffile, its postinst makes it.
	[ -e $(DESTDIR)$(SYSCONFDIR)/nginx/eventbox-cors.map ] || \
	    EVENTBOX_CORS_ORIGINS= deploy/eventbox-cors-map \
	    >$(DESTDIR)$(SYSCONFDIR)/nginx/eventbox-cors.map
	if [ -d static ]; then cp -R static $(DESTDIR)$(DATADIR)/; fi
	for mo in $(MO_FILES); do \
	    install -D -m 0644 "$$mo" "$(DESTDIR)$(LOCALEDIR)/$${mo#build/locale/}" \
	    || exit 1; done

# The production rehearsal (tests/rehearse.sh; docs/DEPLOY.md, SCALING.md).
rehearse: deps-test
	tests/rehearse.sh

# The README's first command on a fresh Debian 12 (tests/fresh.sh): a
# debootstrap of bookworm under var/fresh, make run in it under chroot.
test-fresh:
	tests/fresh.sh

# docs/DEPLOY.md under a real systemd (tests/units.sh): the package in a
# Debian 12 booted with systemd-nspawn under var/units.
test-units:
	tests/units.sh

clean:
	rm -rf build eventbox eventbox-asan tests/loadclient

-include $(OBJS:.o=.d) $(ASAN_OBJS:.o=.d) $(FUZZ_OBJS:.o=.d)
