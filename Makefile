# ntskit: one build for everything.
#   make                 release build into build/ (libntskit.a, tools in build/bin)
#   make check           install test dependencies, build with ASan+UBSan into build/san, run every test
#   make hooks-build     nts-ke, nts-poll, nts-serve with the test hooks (-DNK_TEST_HOOKS)
#                        into build/hooks, for the golden traces (tests/golden/README)
#   make ct              constant-time check: Valgrind drivers (tests/ct) built with the
#                        release flags into build/ct, run under memcheck
#   make fuzz            libFuzzer targets (clang) into build/fuzz
#   make bench           benchmarks (not timed tests), print figures
#   make demo            the pipeline against a local nts-serve through a local Dante proxy
#   make ct              constant-time checks under Valgrind (see tests/ct)
#   make deb             the Debian package: build/ntskit_VERSION_ARCH.deb (dpkg-buildpackage)
#   make deb-check       build it, lintian, hardening-check, install/upgrade/purge in a throwaway root
#   make install PREFIX=/usr/local DESTDIR=
.SUFFIXES:

CC       ?= cc
PREFIX   ?= /usr/local
DESTDIR  ?=
B        ?= build
OPT      ?= -O2
SAN      ?=

INIH_CFLAGS := $(shell pkg-config --cflags inih 2>/dev/null)
INIH_LIBS   := $(shell pkg-config --libs inih 2>/dev/null || echo -linih)

# The version, from one place: the newest entry of debian/changelog. Every
# tool's --version prints it, and the Debian package carries it.
VERSION  := $(shell sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' debian/changelog 2>/dev/null)
ifeq ($(VERSION),)
VERSION  := unknown
endif

# Certificate validation never uses a time before the build (nts-ke(1)): the
# commit date, or SOURCE_DATE_EPOCH (a package build: the changelog's date),
# or the build date outside a git checkout.
BUILD_EPOCH := $(shell git log -1 --format=%ct 2>/dev/null || echo $${SOURCE_DATE_EPOCH:-$$(date +%s)})

WARN     = -Wall -Wextra -Werror
CFLAGS   = -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) -g $(SAN) -Ilib $(INIH_CFLAGS) -DNK_BUILD_EPOCH=$(BUILD_EPOCH) -DNK_VERSION='"$(VERSION)"' $(FILE_CFLAGS) $(EXTRA_CFLAGS)
LDFLAGS  = $(SAN) $(EXTRA_LDFLAGS)
# BearSSL and inih from Debian's -dev packages, linked statically: BearSSL is
# one small object file per function, so each tool carries only the code it
# calls (nts-ke: 85 KB) instead of mapping all of libbearssl.so (304 KB of
# text, nearly all of it resident). Rebuild after a Debian update of either.
LIBS     = -Wl,-Bstatic -lbearssl $(INIH_LIBS) -Wl,-Bdynamic

LIB_SRC  := $(sort $(wildcard lib/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(B)/%.o)
LIB      := $(B)/libntskit.a

# A tool is a directory nts-*/ with a main.c; every .c in it belongs to that tool.
TOOLS    := $(patsubst %/main.c,%,$(sort $(wildcard nts-*/main.c)))
TOOL_BIN := $(TOOLS:%=$(B)/bin/%)

UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
# Test helper programs: tests/helpers/NAME.c -> NAME; NAME_shim.c -> NAME_shim.so (LD_PRELOAD)
HELP_SRC := $(sort $(filter-out %_shim.c,$(wildcard tests/helpers/*.c)))
HELP_BIN := $(HELP_SRC:tests/helpers/%.c=$(B)/tests/helpers/%)
SHIM_SRC := $(sort $(wildcard tests/helpers/*_shim.c))
SHIM_SO  := $(SHIM_SRC:tests/helpers/%.c=$(B)/tests/helpers/%.so)

FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)

all: $(LIB) $(TOOL_BIN)

# lib/p256.c is long straight-line field arithmetic: GCC's variable tracking
# (debug info for locals) takes two minutes on it under the sanitizers, and
# test_p256 includes it. Line tables stay.
$(B)/lib/p256.o $(B)/tests/test_p256: private FILE_CFLAGS = -fno-var-tracking

$(B)/lib/%.o: lib/%.c $(wildcard lib/*.h)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $(LIB_OBJ)

.SECONDEXPANSION:
$(TOOL_BIN): $(B)/bin/%: $$(wildcard %/*.c) $$(wildcard %/*.h) $(wildcard lib/*.h) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -I$* -o $@ $(filter %.c,$^) $(LDFLAGS) $(LIB) $(LIBS)

# (some unit tests include a tool's own .c files: they depend on those too)
$(B)/tests/test_%: tests/unit/test_%.c $(wildcard lib/*.h tests/unit/*.h nts-*/*.c nts-*/*.h) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itests/unit -o $@ $< $(LDFLAGS) $(LIB) $(LIBS) -lcmocka

$(HELP_BIN): $(B)/tests/helpers/%: tests/helpers/%.c $(wildcard lib/*.h) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(LDFLAGS) $(LIB) $(LIBS)

# LD_PRELOAD shims are built without sanitizers (they are loaded into other processes).
$(SHIM_SO): $(B)/tests/helpers/%.so: tests/helpers/%.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_GNU_SOURCE -O2 $(WARN) -fPIC -shared -o $@ $< -ldl

tests: $(UNIT_BIN) $(HELP_BIN) $(SHIM_SO)

# Constant-time check (tests/ct/README): the library and one driver per
# secret-handling primitive, compiled with the release flags (OPT, -g, no
# sanitizers: Valgrind cannot run ASan binaries) plus -DNK_CT_VALGRIND,
# which turns the NK_CT_PUBLIC annotations (lib/ct.h) into Valgrind client
# requests, into build/ct; tests/integration/ct_valgrind.sh runs each driver
# under memcheck. `make check` builds them and counts that script's results.
CT_SRC  := $(sort $(wildcard tests/ct/ct_*.c))
CT_BIN  := $(CT_SRC:tests/ct/%.c=$(B)/tests/ct/%)
CT_VARS = B=build/ct SAN= EXTRA_CFLAGS=-DNK_CT_VALGRIND
$(CT_BIN): $(B)/tests/ct/%: tests/ct/%.c tests/ct/ct.h $(wildcard lib/*.h) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itests/ct -o $@ $< $(LDFLAGS) $(LIB) $(LIBS)

ct-drivers: $(CT_BIN)

ct-build:
	$(MAKE) $(CT_VARS) ct-drivers

ct: ct-build
	sh tests/run build/ct ct_valgrind

# Golden traces (tests/golden/README): nts-ke, nts-poll and nts-serve built
# once more with -DNK_TEST_HOOKS into build/hooks, the only build in which
# NTSKIT_TEST_SEED and NTSKIT_TEST_TIME mean anything (lib/util.h); release
# and packaged binaries never contain the hooks. `make check` builds them and
# tests/integration/golden_traces.sh runs them.
HOOK_VARS  = B=build/hooks SAN= OPT=-O1 EXTRA_CFLAGS=-DNK_TEST_HOOKS
HOOK_TOOLS = nts-ke nts-poll nts-serve
hooks-tools: $(HOOK_TOOLS:%=$(B)/bin/%)

hooks-build:
	$(MAKE) $(HOOK_VARS) hooks-tools

CHECK_VARS = B=build/san OPT=-O1 SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
check:
	sh scripts/install-deps --test
	$(MAKE) -j$$(nproc 2>/dev/null || echo 2) $(CHECK_VARS) all tests
	$(MAKE) -j$$(nproc 2>/dev/null || echo 2) $(CT_VARS) ct-drivers
	$(MAKE) -j$$(nproc 2>/dev/null || echo 2) $(HOOK_VARS) hooks-tools
	NTSKIT_MAKEVARS='$(CHECK_VARS)' sh tests/run build/san

# libFuzzer: the library compiled once more with clang and the fuzzer's
# instrumentation (build/fuzz/libntskit.a), each target linked against it.
FUZZ_COMMON = -std=c11 -D_GNU_SOURCE -O1 -g $(WARN) -Ilib $(INIH_CFLAGS) -DNK_FUZZING
FUZZ_OBJ := $(LIB_SRC:lib/%.c=build/fuzz/lib/%.o)
build/fuzz/lib/%.o: lib/%.c $(wildcard lib/*.h)
	@mkdir -p $(@D)
	clang $(FUZZ_COMMON) -fsanitize=fuzzer-no-link,address,undefined -c -o $@ $<
build/fuzz/libntskit.a: $(FUZZ_OBJ)
	rm -f $@
	ar rcs $@ $^
$(FUZZ_BIN): build/fuzz/%: tests/fuzz/%.c build/fuzz/libntskit.a $(wildcard lib/*.h nts-*/*.c nts-*/*.h)
	@mkdir -p $(@D)
	clang $(FUZZ_COMMON) -fsanitize=fuzzer,address,undefined -o $@ $< build/fuzz/libntskit.a $(LIBS)

fuzz: $(FUZZ_BIN)

# the whole pipeline against a local NTS server through a local SOCKS5 proxy
demo: all
	sh scripts/demo

# issue 14's seed deployment on loopback under faults for SOAK_MINUTES
# (default 10; or SOAK_ROUNDS rounds of SOAK_INTERVAL s): scripts/soak, which
# prints its checks and figures. Not part of make check (tests/integration/
# soak.sh runs a short one there).
SOAK_MINUTES ?= 10
soak: all $(B)/tests/helpers/vclock_shim.so $(B)/tests/helpers/nostamp_shim.so
	SOAK_MINUTES='$(SOAK_MINUTES)' SOAK_ROUNDS='$(SOAK_ROUNDS)' SOAK_INTERVAL='$(SOAK_INTERVAL)' \
	  NTSKIT_BIN=$(CURDIR)/$(B)/bin NTSKIT_HELPERS=$(CURDIR)/$(B)/tests/helpers sh scripts/soak

# tests/bench/tor_path.sh runs the client tools under libfaketime with nostamp_shim.so
bench: all $(SHIM_SO)
	sh tests/bench/run $(B)

# Where make install puts things (the Debian package: PREFIX=/usr, UNITDIR=/lib/systemd/system).
# Programs documented in section 1 go to bin, the administrator's (section 8) to sbin;
# check_nts where monitoring plugins live; /etc/ntskit.conf only when there is none.
SYSCONFDIR  ?= /etc
UNITDIR     ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
PLUGINDIR   ?= $(PREFIX)/lib/nagios/plugins
SCRIPTS_SBIN = nts-sync ntskit-prom ntskit-status
SCRIPTS_BIN  = ntskit-plot

# /etc/ntskit.conf as installed: the example with every line commented, so
# that nothing runs until the administrator has chosen sources
$(B)/ntskit.conf: scripts/ntskit.conf.example
	@mkdir -p $(@D)
	{ printf '%s\n' '# /etc/ntskit.conf: ntskit configuration (ntskit.conf(5)).' \
	  '# Everything below is commented out: nts-sync and the ntskit units do nothing' \
	  '# until at least one [source NAME] section is enabled. Uncomment and adapt.' ''; \
	  sed -e 's/^\([^#;]\)/#\1/' scripts/ntskit.conf.example; } > $@

install: all $(B)/ntskit.conf
	mkdir -p $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/share/man/man1 \
	  $(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man8 \
	  $(DESTDIR)$(PREFIX)/share/ntskit $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR) \
	  $(DESTDIR)$(PLUGINDIR) $(DESTDIR)$(SYSCONFDIR)
	for t in $(TOOLS); do \
	  if ls $$t/*.8 >/dev/null 2>&1; then d=sbin; else d=bin; fi; \
	  install -m 0755 $(B)/bin/$$t $(DESTDIR)$(PREFIX)/$$d/$$t; done
	for m in $(wildcard nts-*/*.1 lib/*.1 scripts/*.1); do install -m 0644 $$m $(DESTDIR)$(PREFIX)/share/man/man1/; done
	for m in $(wildcard nts-*/*.5 lib/*.5 scripts/*.5); do install -m 0644 $$m $(DESTDIR)$(PREFIX)/share/man/man5/; done
	for m in $(wildcard nts-*/*.7 lib/*.7 scripts/*.7); do mkdir -p $(DESTDIR)$(PREFIX)/share/man/man7; install -m 0644 $$m $(DESTDIR)$(PREFIX)/share/man/man7/; done
	for m in $(wildcard nts-*/*.8 lib/*.8 scripts/*.8); do install -m 0644 $$m $(DESTDIR)$(PREFIX)/share/man/man8/; done
	for s in $(SCRIPTS_SBIN); do sed 's/@VERSION@/$(VERSION)/' scripts/$$s > $(DESTDIR)$(PREFIX)/sbin/$$s; \
	  chmod 0755 $(DESTDIR)$(PREFIX)/sbin/$$s; done
	for s in $(SCRIPTS_BIN); do sed 's/@VERSION@/$(VERSION)/' scripts/$$s > $(DESTDIR)$(PREFIX)/bin/$$s; \
	  chmod 0755 $(DESTDIR)$(PREFIX)/bin/$$s; done
	sed 's/@VERSION@/$(VERSION)/' scripts/check_nts > $(DESTDIR)$(PLUGINDIR)/check_nts
	chmod 0755 $(DESTDIR)$(PLUGINDIR)/check_nts
# the example configuration (scripts/ntskit-loopback.conf.example has
# placeholders only scripts/soak fills in: it stays in the source tree)
	install -m 0644 scripts/ntskit.conf.example $(DESTDIR)$(PREFIX)/share/ntskit/
	[ -e $(DESTDIR)$(SYSCONFDIR)/ntskit.conf ] || install -m 0644 $(B)/ntskit.conf $(DESTDIR)$(SYSCONFDIR)/ntskit.conf
	install -m 0644 scripts/systemd/ntskit.sysusers $(DESTDIR)$(SYSUSERSDIR)/ntskit.conf
	install -m 0644 scripts/systemd/ntskit.tmpfiles $(DESTDIR)$(TMPFILESDIR)/ntskit.conf
	for u in $(wildcard scripts/systemd/*.service scripts/systemd/*.timer); do \
	  sed 's|/usr/local/|$(PREFIX)/|g' $$u > $(DESTDIR)$(UNITDIR)/$$(basename $$u); \
	  chmod 0644 $(DESTDIR)$(UNITDIR)/$$(basename $$u); done
	@[ -n "$(DESTDIR)" ] || echo "make install: now run 'systemd-sysusers; systemd-tmpfiles --create' (the _ntskit user and /var/lib/ntskit)"

# The Debian package (debian/): dpkg-buildpackage -us -uc -b in a copy of the
# tree (build/deb-src), so that this tree's build/ is left alone; the .deb,
# .changes and .buildinfo land in build/. deb-check: tests/integration/debian_package.sh
# (lintian, hardening-check, install, upgrade and purge in a throwaway root).
deb:
	sh scripts/build-deb build

deb-check: all
	sh tests/run $(B) debian_package

clean:
	rm -rf build

.PHONY: all tests check ct ct-build ct-drivers hooks-tools hooks-build fuzz bench demo soak install clean deb deb-check
