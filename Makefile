# spoold - a reminder and recall e-mail spool.  GNU make.
#
#   make            build spoold and spool (installs missing packages first)
#   make check      unit and end-to-end tests          (SANITIZE=1: ASan+UBSan)
#   make demo       run spoold against a local SMTP server with sample jobs
#   make bench      the benchmark (make bench BENCH_JOBS=1000 for a short run)
#   make install    PREFIX=/usr/local DESTDIR= (programs, man pages, templates, unit)
#   make mancheck   the man pages render without a groff warning
#   make format     apply .clang-format
#   make clean

CC       ?= cc
PREFIX   ?= /usr/local
DESTDIR  ?=
SANITIZE ?= 0
PYTHON   ?= /usr/bin/python3
CFLAGS   ?= -O2 -g
BINDIR   ?= $(PREFIX)/bin
SBINDIR  ?= $(PREFIX)/sbin
SHAREDIR ?= $(PREFIX)/share/spoold
SYSCONFDIR ?= /etc
MANDIR   ?= $(PREFIX)/share/man
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions

WARN     = -std=c11 -Wall -Wextra -Wformat=2 -Wmissing-prototypes -Werror \
           -Wshadow -Wpointer-arith -Wstrict-prototypes -Wvla
DEFS     = -D_GNU_SOURCE -DSHAREDIR='"$(SHAREDIR)"'
LIBS     = -letpan -ljansson -linih -lz -lgnutls -ldl

ifeq ($(SANITIZE),1)
O        ?= build/san
SANFLAGS = -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
else
O        ?= build/plain
SANFLAGS =
endif

ALL_CFLAGS  = $(WARN) $(DEFS) $(CFLAGS) $(SANFLAGS) -Ilib -MMD -MP
ALL_LDFLAGS = $(LDFLAGS) $(SANFLAGS)

LIB_SRC    = $(wildcard lib/*.c)
SPOOLD_SRC = $(wildcard spoold/*.c)
SPOOL_SRC  = $(wildcard spool/*.c)
UNIT_SRC   = $(wildcard tests/unit/test_*.c)

LIB_OBJ    = $(LIB_SRC:%.c=$(O)/%.o)
SPOOLD_OBJ = $(SPOOLD_SRC:%.c=$(O)/%.o)
SPOOL_OBJ  = $(SPOOL_SRC:%.c=$(O)/%.o)
UNIT_BIN   = $(UNIT_SRC:%.c=$(O)/%)

DEPSTAMP   = $(O)/.deps-ok

.PHONY: all check unit e2e demo bench install format clean deps fuzz

all: $(O)/spoold/spoold $(O)/spool/spool

# Missing Debian packages are installed once per build directory.
$(DEPSTAMP):
	@contrib/install-deps --check >/dev/null 2>&1 || contrib/install-deps
	@mkdir -p $(O) && touch $@

deps:
	contrib/install-deps

$(O)/%.o: %.c | $(DEPSTAMP)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(O)/libspoold.a: $(LIB_OBJ)
	$(AR) rcs $@ $^

$(O)/spoold/spoold: $(SPOOLD_OBJ) $(O)/libspoold.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(O)/spool/spool: $(SPOOL_OBJ) $(O)/libspoold.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(O)/tests/unit/%: $(O)/tests/unit/%.o $(O)/libspoold.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS) -lcmocka

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; SPOOLD_TEST_DATA=tests/data SPOOLD_TEMPLATES=$(CURDIR)/templates $$t; done

e2e: all
	SPOOLD_BIN=$(O) SPOOLD_TEMPLATES=$(CURDIR)/templates $(PYTHON) -m unittest discover -s tests/e2e -p 'test_*.py' -v

check: all unit e2e

demo: all
	SPOOLD_BIN=$(O) SPOOLD_TEMPLATES=$(CURDIR)/templates contrib/demo

bench:
	@contrib/install-deps --bench --check >/dev/null 2>&1 || contrib/install-deps --bench
	$(MAKE) O=build/bench CFLAGS="-O2 -g" SANITIZE=0 build/bench/spoold/spoold
	SPOOLD_BIN=build/bench SPOOLD_TEMPLATES=$(CURDIR)/templates $(PYTHON) tests/bench/bench.py

# make install: the programs, the man pages, the templates, the example
# configuration and the systemd unit (always in SHAREDIR, to copy; also in
# SYSTEMDUNITDIR when systemd looks there: PREFIX /usr or /usr/local, and
# DESTDIR stages a package or this machine runs systemd; INSTALL_UNIT=yes
# or no decides instead), and bash completion when contrib/ has it.  The
# /usr/local paths written in the man pages and the unit are rewritten to
# the ones installed.  The programs keep the SHAREDIR they were built with:
# build and install with the same PREFIX.
MANPAGES     = man/spoold.8 man/spool.1 man/spoold.conf.5 man/spool-job.5
BASHCOMP     = $(wildcard contrib/spool.bash-completion)
INSTALL_UNIT ?= $(if $(filter /usr /usr/local,$(PREFIX)),$(if $(DESTDIR)$(wildcard /run/systemd/system),yes,no),no)
PATHS_SED    = -e 's|/usr/local/share/spoold|$(SHAREDIR)|g' \
               -e 's|/usr/local/lib/systemd/system|$(SYSTEMDUNITDIR)|g' \
               -e 's|/usr/local/sbin|$(SBINDIR)|g' -e 's|/usr/local/bin|$(BINDIR)|g'

install: all
	@grep -aqF '$(SHAREDIR)/templates' $(O)/spoold/spoold || \
		echo "make install: warning: $(O)/spoold/spoold was built for another PREFIX and" \
		"will not find the templates in $(SHAREDIR)/templates; build it with" \
		"PREFIX=$(PREFIX) (in a new O=DIR), or set templates_dir" >&2
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(SHAREDIR)
	install -m 755 $(O)/spoold/spoold $(DESTDIR)$(SBINDIR)/spoold
	install -m 755 $(O)/spool/spool $(DESTDIR)$(BINDIR)/spool
	cp -R templates $(DESTDIR)$(SHAREDIR)/
	install -m 644 contrib/spoold.conf.example $(DESTDIR)$(SHAREDIR)/spoold.conf.example
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	@set -e; for m in $(MANPAGES); do \
		d=$(DESTDIR)$(MANDIR)/man$${m##*.}/$${m##*/}; echo "sed ... $$m > $$d"; \
		sed $(PATHS_SED) $$m > $$d; chmod 644 $$d; \
	done
	sed $(PATHS_SED) contrib/spoold.service > $(DESTDIR)$(SHAREDIR)/spoold.service
	chmod 644 $(DESTDIR)$(SHAREDIR)/spoold.service
ifeq ($(INSTALL_UNIT),yes)
	install -d $(DESTDIR)$(SYSTEMDUNITDIR)
	install -m 644 $(DESTDIR)$(SHAREDIR)/spoold.service $(DESTDIR)$(SYSTEMDUNITDIR)/spoold.service
else
	@echo "make install: the systemd unit is in $(SHAREDIR)/spoold.service;" \
		"to use it: cp $(SHAREDIR)/spoold.service /etc/systemd/system/ (see INSTALL)"
endif
ifneq ($(BASHCOMP),)
	install -d $(DESTDIR)$(BASHCOMPDIR)
	install -m 644 $(BASHCOMP) $(DESTDIR)$(BASHCOMPDIR)/spool
endif

# mancheck: every man page renders without a warning (groff -ww), as man(1) shows it.
.PHONY: mancheck
mancheck:
	@set -e; for m in $(MANPAGES); do \
		out=$$(groff -man -Tutf8 -ww -z $$m 2>&1; MANWIDTH=80 man -l $$m 2>&1 >/dev/null); \
		if [ -n "$$out" ]; then echo "$$m:"; echo "$$out"; exit 1; fi; \
		echo "$$m: ok"; \
	done

format:
	clang-format -i lib/*.[ch] spoold/*.[ch] spool/*.[ch] tests/unit/*.c

clean:
	rm -rf build demo tests/out

# Fuzzing: make fuzz FUZZ_SECONDS=N builds each libFuzzer target with clang
# into build/fuzz/ and runs it for N seconds on a copy of its seed corpus
# (tests/fuzz/corpus/TARGET, copied to build/fuzz/corpus/TARGET, which keeps
# what the fuzzer finds).  Any crash, leak, sanitizer report or timeout fails;
# the input that caused it is saved as build/fuzz/artifacts/TARGET-*.
FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_O        = build/fuzz
FUZZ_TARGETS  = tmpl job rfc2047 reply dsn msgid qp
FUZZ_CFLAGS   = $(WARN) $(DEFS) -g -O1 -fsanitize=fuzzer,address,undefined \
                -fno-sanitize-recover=all -fno-omit-frame-pointer -Ilib
FUZZ_LEN_tmpl    = 8192
FUZZ_LEN_job     = 65536
FUZZ_LEN_rfc2047 = 8192
FUZZ_LEN_reply   = 4096
FUZZ_LEN_dsn     = 65536
FUZZ_LEN_msgid   = 1024
FUZZ_LEN_qp      = 4096

$(FUZZ_O)/.deps-ok:
	@contrib/install-deps --check >/dev/null 2>&1 || contrib/install-deps
	@mkdir -p $(FUZZ_O) && touch $@

$(FUZZ_O)/fuzz_tmpl: tests/fuzz/fuzz_tmpl.c lib/tmpl.c lib/tmpl_parse.c lib/tmpl_doc.c \
                     lib/tmpl.h lib/tmpl_int.h | $(FUZZ_O)/.deps-ok
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $(filter %.c,$^) -ljansson

$(FUZZ_O)/fuzz_job: tests/fuzz/fuzz_job.c lib/job.c lib/job_spool.c lib/addr.c lib/timefmt.c lib/utf8.c \
                    lib/job.h lib/addr.h lib/timefmt.h | $(FUZZ_O)/.deps-ok
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $(filter %.c,$^) -ljansson

$(FUZZ_O)/fuzz_rfc2047: tests/fuzz/fuzz_rfc2047.c lib/rfc2047.c lib/utf8.c lib/rfc2047.h \
                       | $(FUZZ_O)/.deps-ok
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $(filter %.c,$^)

$(FUZZ_O)/fuzz_reply: tests/fuzz/fuzz_reply.c lib/reply.c lib/reply_when.c lib/reply_rules.c \
                      lib/reply.h lib/reply_int.h lib/reply_rules.h lib/smtp.h lib/conf.h \
                      | $(FUZZ_O)/.deps-ok
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $(filter %.c,$^)

$(FUZZ_O)/fuzz_dsn: tests/fuzz/fuzz_dsn.c lib/dsn.c lib/dsn_util.c lib/dsn_text.c lib/utf8.c \
                    lib/dsn_notice.c lib/reply.c lib/reply_when.c lib/reply_rules.c \
                    lib/dsn.h lib/dsn_int.h lib/reply.h lib/reply_int.h lib/reply_rules.h \
                    lib/smtp.h lib/conf.h | $(FUZZ_O)/.deps-ok
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $(filter %.c,$^) -letpan

$(FUZZ_O)/fuzz_msgid: tests/fuzz/fuzz_msgid.c lib/msgid.c lib/spooldir.c lib/spooldir_write.c lib/pid.c \
                      lib/msgid.h lib/spooldir.h lib/spooldir_int.h | $(FUZZ_O)/.deps-ok
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $(filter %.c,$^) -lz

$(FUZZ_O)/fuzz_qp: tests/fuzz/fuzz_qp.c lib/qp.c lib/qp.h tests/unit/qp_check.h \
                   | $(FUZZ_O)/.deps-ok
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $(filter %.c,$^) -letpan

fuzz: $(FUZZ_TARGETS:%=$(FUZZ_O)/fuzz_%)
	@status=0; start=$$(date +%s); \
	for t in $(FUZZ_TARGETS); do \
		case $$t in tmpl) len=$(FUZZ_LEN_tmpl);; job) len=$(FUZZ_LEN_job);; \
		reply) len=$(FUZZ_LEN_reply);; dsn) len=$(FUZZ_LEN_dsn);; msgid) len=$(FUZZ_LEN_msgid);; \
		qp) len=$(FUZZ_LEN_qp);; \
		*) len=$(FUZZ_LEN_rfc2047);; esac; \
		mkdir -p $(FUZZ_O)/corpus/$$t $(FUZZ_O)/artifacts; \
		cp tests/fuzz/corpus/$$t/* $(FUZZ_O)/corpus/$$t/; \
		echo "== fuzz_$$t: $(FUZZ_SECONDS) s, log in $(FUZZ_O)/fuzz_$$t.log"; \
		if $(FUZZ_O)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -detect_leaks=1 \
			-max_len=$$len -timeout=30 -print_final_stats=1 \
			-artifact_prefix=$(FUZZ_O)/artifacts/$$t- \
			$(FUZZ_O)/corpus/$$t >$(FUZZ_O)/fuzz_$$t.log 2>&1; then \
			grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added)' \
				$(FUZZ_O)/fuzz_$$t.log | sed 's/^/   /'; \
		else \
			status=1; tail -n 40 $(FUZZ_O)/fuzz_$$t.log; \
			echo "fuzz_$$t: FAILED (artifacts in $(FUZZ_O)/artifacts/)"; \
		fi; \
	done; \
	echo "fuzz: $$([ $$status = 0 ] && echo passed || echo FAILED) in $$(( $$(date +%s) - start )) s"; \
	exit $$status

-include $(shell find $(O) -name '*.d' 2>/dev/null)
