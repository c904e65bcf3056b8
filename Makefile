# eventbox: event registration for library consortia.
#
#   make            build ./eventbox
#   make run        install what is missing, start a private stack, serve
#   make test       the whole suite against a throwaway stack (also ASan+UBSan)
#   make psql       psql on the make-run cluster, as the database owner
#   make bench      benchmarks (not part of make test)
#   make fuzz       long fuzzing runs (FUZZ_SECONDS per target, default 300)
#   make soak       10 minutes of mixed traffic under ASan+UBSan (SOAK_SECONDS)
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

# Fuzzers (libFuzzer, clang): one per tests/fuzz/fuzz_NAME.c, each with a
# seed corpus in tests/fuzz/corpus/NAME/.  A new target is one new file.
FUZZ_CC	 ?= clang
FUZZ_SAN  = -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	    -fno-omit-frame-pointer
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=build/fuzz/%)
FUZZ_OBJS := $(LIB_SRCS:src/%.c=build/fuzz/obj/%.o)
FUZZ_SECONDS ?= 300

sinclude Makefile.local

.PHONY: all run test test-unit psql bench fuzz fuzzers soak install clean deps

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

build/fuzz/obj/%.o: src/%.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(FUZZ_SAN) \
	    -fsanitize=fuzzer-no-link -O1 -MMD -MP -c -o $@ $<

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_OBJS)
	$(FUZZ_CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer \
	    -O1 -o $@ $< $(FUZZ_OBJS) $(PKG_LIBS)

fuzzers: $(FUZZ_BINS)

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
# tests/package-lock.json to versions that run on Debian 12's Node.js 18;
# check-node.cjs refuses a Node/playwright-core pair that would not.
tests/node_modules: tests/package.json tests/package-lock.json
	node tests/browser/check-node.cjs
	npm ci --prefix tests --no-audit --no-fund
	@touch $@

test: deps tests/node_modules
	@node tests/browser/check-node.cjs --installed
	@$(MAKE) --no-print-directory eventbox eventbox-asan tests/loadclient \
	    build/unit build/mail-unit fuzzers
	tests/run.sh

# Each fuzzer for FUZZ_SECONDS (new inputs go to build/fuzz/corpus/, never
# into the committed seeds; crashes to build/fuzz/artifacts/).
fuzz: fuzzers
	FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh long

# Ten minutes of mixed traffic against the ASan+UBSan build (tests/test_soak.py).
SOAK_SECONDS ?= 600
soak: deps
	@$(MAKE) --no-print-directory eventbox eventbox-asan tests/loadclient \
	    build/unit build/mail-unit
	SOAK_SECONDS=$(SOAK_SECONDS) FUZZ_RUNS=0 \
	    PYTEST_ARGS=tests/test_soak.py tests/run.sh

bench: deps
	@$(MAKE) --no-print-directory eventbox tests/loadclient
	bench/run.sh

install: eventbox
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/sql/rules \
	    $(DESTDIR)$(DATADIR)/nginx/errors $(DESTDIR)$(DATADIR)/deploy
	install -m 0755 eventbox $(DESTDIR)$(BINDIR)/eventbox
	install -m 0644 sql/*.sql $(DESTDIR)$(DATADIR)/sql/
	install -m 0644 sql/rules/*.sql $(DESTDIR)$(DATADIR)/sql/rules/
	install -m 0644 nginx/*.in $(DESTDIR)$(DATADIR)/nginx/
	install -m 0644 nginx/errors/* $(DESTDIR)$(DATADIR)/nginx/errors/
	install -m 0644 deploy/*.service deploy/*.timer deploy/*.example \
	    $(DESTDIR)$(DATADIR)/deploy/
	if [ -d static ]; then cp -R static $(DESTDIR)$(DATADIR)/; fi

clean:
	rm -rf build eventbox eventbox-asan tests/loadclient

-include $(OBJS:.o=.d) $(ASAN_OBJS:.o=.d) $(FUZZ_OBJS:.o=.d)
