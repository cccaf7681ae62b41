# spoold - a reminder and recall e-mail spool.  GNU make.
#
#   make            build spoold and spool (installs missing packages first)
#   make check      unit and end-to-end tests          (SANITIZE=1: ASan+UBSan)
#   make demo       run spoold against a local SMTP server with sample jobs
#   make bench      the benchmark (make bench BENCH_JOBS=1000 for a short run)
#   make install    PREFIX=/usr/local DESTDIR=
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

WARN     = -std=c11 -Wall -Wextra -Wformat=2 -Wmissing-prototypes -Werror \
           -Wshadow -Wpointer-arith -Wstrict-prototypes -Wvla
DEFS     = -D_GNU_SOURCE -DSHAREDIR='"$(SHAREDIR)"'
LIBS     = -letpan -ljansson -linih -lz -lgnutls -lical

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

.PHONY: all check unit e2e demo bench install format clean deps

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
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; SPOOLD_TEST_DATA=tests/data $$t; done

e2e: all
	SPOOLD_BIN=$(O) $(PYTHON) -m unittest discover -s tests/e2e -p 'test_*.py' -v

check: all unit e2e

demo: all
	SPOOLD_BIN=$(O) contrib/demo

bench:
	@contrib/install-deps --bench --check >/dev/null 2>&1 || contrib/install-deps --bench
	$(MAKE) O=build/bench CFLAGS="-O2 -g" SANITIZE=0 build/bench/spoold/spoold
	SPOOLD_BIN=build/bench $(PYTHON) tests/bench/bench.py

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(SHAREDIR)
	install -m 755 $(O)/spoold/spoold $(DESTDIR)$(SBINDIR)/spoold
	install -m 755 $(O)/spool/spool $(DESTDIR)$(BINDIR)/spool
	cp -R templates $(DESTDIR)$(SHAREDIR)/
	install -m 644 contrib/spoold.conf.example $(DESTDIR)$(SHAREDIR)/spoold.conf.example

format:
	clang-format -i lib/*.[ch] spoold/*.[ch] spool/*.[ch] tests/unit/*.c

clean:
	rm -rf build demo tests/out

-include $(shell find $(O) -name '*.d' 2>/dev/null)
