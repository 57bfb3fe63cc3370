# chroma-migrate - build, test, install.
#
#   make                 build/chroma-migrate (optimised)
#   make test            every test (unit, sanitizers, fuzz smoke, end to end with real servers)
#   make san             build-san/: the same code under ASan+UBSan (used by the tests)
#   make fuzz            build/fuzz/*: libFuzzer targets (clang)
#   make install PREFIX=/usr/local DESTDIR=
#
# Sources are found by directory: src/{util,format,net,index,core,legacy,
# chroma,verify} and src/endpoints.c form the library (no CLI knowledge),
# src/cli and src/main.c the program (docs/design.md: who may include whom).

CC      ?= cc
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man/man1

WARN    := -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes -Wmissing-prototypes
STD     := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
OPT     ?= -O2 -g
CFLAGS_ALL = $(STD) $(WARN) $(OPT) $(CFLAGS) -MMD -MP
LIBS    := -lsqlite3 -lcurl -lsnappy -lzstd -lz -llz4 -lbrotlidec -lpthread -lm

LIB_DIRS := util core format index net legacy chroma verify
LIB_SRC  := $(sort $(foreach d,$(LIB_DIRS),$(wildcard src/$(d)/*.c))) src/endpoints.c
CLI_SRC  := $(sort $(wildcard src/cli/*.c)) src/main.c
TEST_SRC := $(sort $(wildcard tests/unit/test_*.c))

B ?= build
LIB_OBJ  := $(LIB_SRC:src/%.c=$(B)/obj/%.o)
CLI_OBJ  := $(CLI_SRC:src/%.c=$(B)/obj/%.o)
TEST_BIN := $(TEST_SRC:tests/unit/%.c=$(B)/tests/%)

.PHONY: all test san fuzz install clean unit bench
all: $(B)/chroma-migrate

$(B)/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

$(B)/libchroma-migrate.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/chroma-migrate: $(CLI_OBJ) $(B)/libchroma-migrate.a
	$(CC) $(CFLAGS_ALL) $(LDFLAGS) -o $@ $(CLI_OBJ) $(B)/libchroma-migrate.a $(LIBS)
	ln -sf chroma-migrate $(B)/chroma_migrate

$(B)/tests/%: tests/unit/%.c tests/unit/check.h $(B)/libchroma-migrate.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Isrc -o $@ $< $(B)/libchroma-migrate.a $(LIBS)

unit: $(TEST_BIN) $(B)/chroma-migrate

# The sanitizer build lives in its own tree so both can coexist.
san:
	$(MAKE) B=build-san CC=clang OPT="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" LDFLAGS="-fsanitize=address,undefined" unit

FUZZ_SRC := $(sort $(wildcard fuzz/fuzz_*.c))
fuzz:
	$(MAKE) B=build-fuzz CC=clang OPT="-O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer" build-fuzz/libchroma-migrate.a
	@mkdir -p build/fuzz
	for f in $(FUZZ_SRC); do n=$$(basename $$f .c); \
	  clang $(STD) $(WARN) -O1 -g -fsanitize=fuzzer,address,undefined -Isrc -o build/fuzz/$$n $$f build-fuzz/libchroma-migrate.a $(LIBS) || exit 1; done

test:
	tests/run-all.sh

bench: all
	bench/run.sh

install: $(B)/chroma-migrate
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)
	install -m 0755 $(B)/chroma-migrate $(DESTDIR)$(BINDIR)/chroma-migrate
	ln -sf chroma-migrate $(DESTDIR)$(BINDIR)/chroma_migrate
	install -m 0644 docs/chroma-migrate.1 $(DESTDIR)$(MANDIR)/chroma-migrate.1

clean:
	rm -rf build build-san build-fuzz

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d)
