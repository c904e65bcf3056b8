# eventbox: event registration for library consortia.
#
#   make            build ./eventbox
#   make run        install what is missing, start a private stack, serve
#   make test       the whole suite against a throwaway stack (also ASan+UBSan)
#   make psql       psql on the make-run cluster, as the database owner
#   make bench      benchmarks (not part of make test)
#   make fuzz       long fuzzing runs
#   make install    PREFIX=/usr/local DESTDIR=
#
# Site tweaks go in Makefile.local (not tracked).

PREFIX	?= /usr/local
BINDIR	?= $(PREFIX)/bin
DATADIR	?= $(PREFIX)/share/eventbox
CC	?= cc
CFLAGS	?= -O2 -g
PKGS	 = libpq libcjson uuid fcgi libcurl libcrypto

WARNINGS = -std=c11 -Wall -Wextra -Werror -Wshadow -Wconversion \
	   -Wmissing-prototypes -Wvla -Wwrite-strings -Wformat-security \
	   -Wno-sign-conversion
SANITIZE = -fsanitize=address,undefined -fno-omit-frame-pointer \
	   -fno-sanitize-recover=undefined

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
ALL_CPPFLAGS = -D_GNU_SOURCE -Isrc $(PKG_CFLAGS) $(CPPFLAGS)
ALL_CFLAGS   = $(WARNINGS) $(CFLAGS)

SRCS	:= $(sort $(wildcard src/*.c))
OBJS	:= $(SRCS:src/%.c=build/release/%.o)
ASAN_OBJS := $(SRCS:src/%.c=build/asan/%.o)
LIB_SRCS := $(filter-out src/main.c,$(SRCS))

sinclude Makefile.local

.PHONY: all run test test-unit psql bench fuzz install clean deps

all: eventbox

eventbox: $(OBJS)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(OBJS) $(PKG_LIBS)

eventbox-asan: $(ASAN_OBJS)
	$(CC) $(ALL_CFLAGS) $(SANITIZE) $(LDFLAGS) -o $@ $(ASAN_OBJS) $(PKG_LIBS)

build/release/%.o: src/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

build/asan/%.o: src/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(SANITIZE) -O1 -MMD -MP -c -o $@ $<

tests/loadclient: tests/loadclient.c
	$(CC) $(ALL_CFLAGS) -D_POSIX_C_SOURCE=200809L $(LDFLAGS) -o $@ $< \
	    $$(pkg-config --cflags --libs libcurl)

build/unit: tests/unit.c tests/check.h $(LIB_SRCS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(SANITIZE) -o $@ tests/unit.c \
	    $(LIB_SRCS) $(PKG_LIBS)

build/mail-unit: tests/mail_unit.c tests/check.h $(LIB_SRCS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(SANITIZE) -o $@ tests/mail_unit.c \
	    $(LIB_SRCS) $(PKG_LIBS)

# Installs build dependencies on a fresh Debian machine (a no-op when present).
deps:
	@deploy/devstack.sh deps

run: deps
	@$(MAKE) --no-print-directory eventbox
	deploy/devstack.sh run

psql:
	@deploy/devstack.sh psql

test-unit: build/unit build/mail-unit
	build/unit
	build/mail-unit

# The browser tests' npm packages (playwright-core, axe-core), pinned by
# tests/package-lock.json.
tests/node_modules: tests/package.json tests/package-lock.json
	npm ci --prefix tests --no-audit --no-fund
	@touch $@

test: deps tests/node_modules
	@$(MAKE) --no-print-directory eventbox eventbox-asan tests/loadclient build/unit \
	    build/mail-unit
	tests/run.sh

bench: deps
	@$(MAKE) --no-print-directory eventbox tests/loadclient
	bench/run.sh

install: eventbox
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/sql \
	    $(DESTDIR)$(DATADIR)/nginx/errors $(DESTDIR)$(DATADIR)/deploy
	install -m 0755 eventbox $(DESTDIR)$(BINDIR)/eventbox
	install -m 0644 sql/*.sql $(DESTDIR)$(DATADIR)/sql/
	install -m 0644 nginx/*.in $(DESTDIR)$(DATADIR)/nginx/
	install -m 0644 nginx/errors/* $(DESTDIR)$(DATADIR)/nginx/errors/
	install -m 0644 deploy/*.service deploy/*.timer deploy/*.example \
	    $(DESTDIR)$(DATADIR)/deploy/
	if [ -d static ]; then cp -R static $(DESTDIR)$(DATADIR)/; fi

clean:
	rm -rf build eventbox eventbox-asan tests/loadclient

-include $(OBJS:.o=.d) $(ASAN_OBJS:.o=.d)
