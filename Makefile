# schemaevo: PGXS build.  `make && make install` builds and installs the
# extension; `make installcheck` runs the pg_regress suites against a
# running server; test/run-tests runs everything (see README).

PG_CONFIG ?= pg_config

EXTENSION = schemaevo
MODULE_big = schemaevo
DATA = schemaevo--1.0.sql
PGFILEDESC = "schemaevo - schema registry and offset-based message decoder"

CODEC_SRCS = $(sort $(filter-out src/codec/cli.c,$(wildcard src/codec/*.c)))
PG_SRCS = $(sort $(wildcard src/pg/*.c))
PAXOS_SRCS = $(sort $(wildcard src/paxos/*.c))
OBJS = $(CODEC_SRCS:.c=.o) $(PG_SRCS:.c=.o) $(PAXOS_SRCS:.c=.o)

PG_CPPFLAGS = -I$(srcdir)/src/codec -I$(shell $(PG_CONFIG) --includedir)
PG_CFLAGS = -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare \
	-Wno-missing-field-initializers $(if $(WERROR),-Werror)
SHLIB_LINK = -ljansson -lpq

REGRESS = registry types evolution malformed fields encode limits safety privileges stats upgrade settings
REGRESS_OPTS = --load-extension=schemaevo

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# The codec builds without PostgreSQL headers, on its own: a static library
# and a command-line tool for producers (see src/codec/codec.h, cli.c).
CODEC_CFLAGS = -std=gnu99 -O2 -fPIC -Wall -Wextra -Werror -Isrc/codec
.PHONY: codec-check codec-cli codec-lib
codec-check:
	$(MAKE) -C test/codec check

codec-lib: src/codec/libschemaevo_codec.a
src/codec/libschemaevo_codec.a: $(CODEC_SRCS) src/codec/codec.h src/codec/codec_internal.h
	rm -rf src/codec/lib.tmp && mkdir -p src/codec/lib.tmp
	cd src/codec/lib.tmp && $(CC) $(CODEC_CFLAGS:-Isrc/codec=-I..) -c $(addprefix ../../../,$(CODEC_SRCS))
	$(AR) rcs $@ src/codec/lib.tmp/*.o && rm -rf src/codec/lib.tmp

codec-cli: src/codec/schemaevo-codec
src/codec/schemaevo-codec: $(CODEC_SRCS) src/codec/cli.c src/codec/codec.h src/codec/codec_internal.h
	$(CC) $(CODEC_CFLAGS) -o $@ $(CODEC_SRCS) src/codec/cli.c -ljansson -lm

# PGXS tracks no header dependencies; every object depends on every header.
$(OBJS): $(wildcard src/codec/*.h src/pg/*.h src/paxos/*.h)

# TAP tests (test/t) with PostgreSQL::Test::Cluster.  PostgreSQL refuses
# to run as root: run as an ordinary user, e.g. through test/run-tests.
PG_BINDIR := $(shell $(PG_CONFIG) --bindir)
PGXS_DIR := $(dir $(PGXS))..
TAP_TESTDIR ?= $(CURDIR)
.PHONY: taptest
taptest:
	rm -rf $(TAP_TESTDIR)/tmp_check && mkdir -p $(TAP_TESTDIR)/tmp_check
	TESTDIR='$(TAP_TESTDIR)' PATH="$(PG_BINDIR):$$PATH" \
	PG_REGRESS='$(PGXS_DIR)/test/regress/pg_regress' \
	prove -I $(PGXS_DIR)/test/perl -I test/perl $(PROVE_FLAGS) \
		$(if $(PROVE_TESTS),$(PROVE_TESTS),test/t/*.pl)

# The inline log (no shared_preload_libraries), against such a server.
.PHONY: installcheck-inline
installcheck-inline:
	$(pg_regress_installcheck) --load-extension=schemaevo inline

# Isolation specs (test/isolation) for concurrent callers of the Paxos
# acceptor, against a running server, like installcheck.  The server must
# preload schemaevo; the specs run in the database of its log worker
# (schemaevo.database, asked of the server, or ISOLATION_DB=...), which
# they make a one-member cluster: a test server only, as in test/run-tests.
PG_ISOLATION_REGRESS = $(PGXS_DIR)/test/isolation/pg_isolation_regress
ISOLATION_DB ?= $(shell psql -XAtc 'SHOW schemaevo.database' 2>/dev/null || echo contrib_regression)
ISOLATION_SPECS = $(sort $(basename $(notdir $(wildcard test/isolation/specs/*.spec))))
.PHONY: isolationcheck
isolationcheck:
	$(PG_ISOLATION_REGRESS) --use-existing --bindir='$(PG_BINDIR)' \
		--dbname='$(ISOLATION_DB)' --inputdir=test/isolation \
		--outputdir=test/isolation/output $(ISOLATION_SPECS)
