# ssetools: ssed, ssecat, ssepub and the framing library they share.
#
#   make                 build every binary into $(BUILD_DIR)/
#   make check           run every test suite; ends with "N passed, M failed"
#   make check SANITIZE=1  the same, built with ASan and UBSan (in build-san/)
#   make fuzz            run each fuzz target for FUZZ_SECONDS (60), one per
#                        core at once (FUZZ_JOBS)
#   make bench           print the benchmark figures (with the cluster's, when
#                        redis-server is installed and ssed built with Redis)
#   make bench-c1m       idle and broadcast figures for C1M_SUBS (200,000)
#                        subscribers over N --reuse-port ssed processes
#                        sharing channels through Redis (tests/bench/c1m.sh;
#                        not part of make bench; a few minutes, niced)
#   make soak            the cluster soak: 3 ssed nodes on one Redis, 1,000
#                        events/s to 1,000 subscribers, a node killed every 10 s;
#                        fails on any acknowledged event lost or duplicated
#                        (SOAK_SECONDS=300; not part of make check)
#   make install         PREFIX=/usr/local DESTDIR= (also SYSCONFDIR, SYSTEMD_UNIT_DIR,
#                        ZSH_COMPLETION_DIR; INSTALL_SYSTEMD=0 leaves ssed's
#                        systemd units out, as it does off Linux)
#   make deb             build build-deb/ssetools_VERSION_ARCH.deb
#   make check-package   check that package: contents, lintian, install and
#                        remove in a throwaway root
#   make deps            install missing build and test packages (as root)
#   make demo            serve a live demo feed (DEMO_LISTEN=127.0.0.1:8080)
#   make STORE=0         build ssed without SQLite: --store is then refused at
#                        start (history stays in memory, as without --store)
#   make REDIS=0         build ssed without hiredis: --redis is then refused at
#                        start (exit 1); ssed is otherwise unchanged
#   make TLS=0           build ssed without OpenSSL: --tls-cert is then refused
#                        at start (exit 1); plaintext HTTP is unchanged
#   make H2=0            build ssed without libnghttp2: it then speaks
#                        HTTP/1.1 only (TLS offers only http/1.1 by ALPN)
#   make JWT=0           build ssed without JWT verification: --jwt-secret-file
#                        and --jwt-key-file are then refused at start (exit 1)
#   make LOOP=poll       ssed's event loop on poll(2) instead of the system's
#                        own: LOOP=epoll (the default on Linux), kqueue (the
#                        default on macOS and the BSDs), poll (any POSIX system;
#                        the default elsewhere). Objects do not depend on it:
#                        a change of LOOP relinks ssed. LOOP=kqueue on Linux
#                        links libkqueue (pkg-config; tests/kqueue/libkqueue.sh)
#   make cross-macos     cross-compile and link ssed, ssecat and ssepub for
#                        macOS x86_64 and arm64 with zig cc (tests/cross/macos.sh;
#                        installs Zig from npm into tests/cross/node_modules)
#
# ssed links jansson (JSON bodies, token payloads) always; OpenSSL's libcrypto
# unless both TLS=0 and JWT=0. ssecat and ssepub link neither.

CC ?= cc
CFLAGS ?= -O2 -g
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DATADIR ?= $(PREFIX)/share
# /usr's configuration lives in /etc; any other prefix keeps its own.
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
# Debian's zsh looks for a package's completions in vendor-completions and
# for the local administrator's in /usr/local/share/zsh/site-functions.
ZSH_COMPLETION_DIR ?= $(if $(filter /usr,$(PREFIX)),$(DATADIR)/zsh/vendor-completions,$(DATADIR)/zsh/site-functions)
SYSTEMD_UNIT_DIR ?= $(PREFIX)/lib/systemd/system
FUZZ_SECONDS ?= 60
FUZZ_CC ?= clang
DEMO_LISTEN ?= 127.0.0.1:8080

ifeq ($(SANITIZE),1)
BUILD_DIR ?= build-san
SAN_FLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
BUILD_DIR ?= build
SAN_FLAGS =
endif

WARN_FLAGS = -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE
ALL_CFLAGS = $(WARN_FLAGS) $(CFLAGS) $(SAN_FLAGS) -Icommon -MMD -MP
# ssed's layers (README, Layout) are folders; its files include each other
# by name, so its sources, unit tests and fuzz targets search every folder.
SSED_DIRS := $(patsubst %/,%,$(sort $(dir $(wildcard cmd/ssed/*/*.h))))
SSED_INC := -Icmd/ssed $(SSED_DIRS:%=-I%)
ALL_LDFLAGS = $(LDFLAGS) $(SAN_FLAGS)

BINS := $(notdir $(wildcard cmd/*))
# The binaries that speak HTTP as clients do it through libcurl.
CURL_BINS := ssecat ssepub
CURL_CFLAGS = $(shell pkg-config --cflags libcurl 2>/dev/null)
# The shared client code in common/ that includes libcurl's headers. ssed
# never references it, so the archive member is not linked into ssed.
CURL_COMMON_SRC := common/http_client.c
CURL_LIBS = $(shell pkg-config --libs libcurl 2>/dev/null || echo -lcurl)

# ssed's durable history (--store) is kept in SQLite, linked into ssed only.
STORE ?= 1
STORE_ENGINE_SRC := cmd/ssed/store/store.c cmd/ssed/store/store_file.c cmd/ssed/store/store_write.c cmd/ssed/store/store_load.c
ifeq ($(STORE),0)
SSED_STORE_SRC := cmd/ssed/store/store_off.c
STORE_LIBS :=
else
SSED_STORE_SRC := $(STORE_ENGINE_SRC)
STORE_LIBS = $(shell pkg-config --libs sqlite3 2>/dev/null || echo -lsqlite3)
endif

# ssed's cluster link (--redis) uses hiredis, linked into ssed only.
REDIS ?= 1
REDIS_ENGINE_SRC := cmd/ssed/cluster/cluster_link.c cmd/ssed/cluster/cluster_link_publish.c cmd/ssed/cluster/cluster_link_fill.c cmd/ssed/cluster/cluster_link_verify.c cmd/ssed/cluster/cluster_link_epoch.c cmd/ssed/cluster/cluster_link_persistence.c cmd/ssed/cluster/redis_loop.c
ifeq ($(REDIS),0)
SSED_REDIS_SRC := cmd/ssed/cluster/cluster_off.c
REDIS_LIBS :=
else
SSED_REDIS_SRC := $(REDIS_ENGINE_SRC)
REDIS_LIBS = $(shell pkg-config --libs hiredis 2>/dev/null || echo -lhiredis)
endif

# ssed's TLS (--tls-cert) uses OpenSSL, linked into ssed only.
TLS ?= 1
TLS_ENGINE_SRC := cmd/ssed/net/tls_context.c cmd/ssed/net/tls_session.c
ifeq ($(TLS),0)
SSED_TLS_SRC := cmd/ssed/net/tls_off.c
TLS_LIBS :=
else
SSED_TLS_SRC := $(TLS_ENGINE_SRC)
TLS_LIBS = $(shell pkg-config --libs libssl libcrypto 2>/dev/null || echo -lssl -lcrypto)
endif
# ssed verifies JSON Web Tokens (--jwt-*) with libcrypto, linked into ssed only.
JWT ?= 1
JWT_ENGINE_SRC := cmd/ssed/auth/jwt.c
ifeq ($(JWT),0)
SSED_JWT_SRC := cmd/ssed/auth/jwt_off.c
JWT_LIBS :=
else
SSED_JWT_SRC := $(JWT_ENGINE_SRC)
JWT_LIBS = $(shell pkg-config --libs libcrypto 2>/dev/null || echo -lcrypto)
endif
# jansson: a strict RFC 8259 parser (duplicate keys, UTF-8), for JSON bodies
# and token payloads; ssed only.
JSON_LIBS = $(shell pkg-config --libs jansson 2>/dev/null || echo -ljansson)

# ssed's event loop: one backend, chosen here (cmd/ssed/net/loop.h). epoll on
# Linux, kqueue on macOS and the BSDs, poll(2) anywhere else (and on request).
# UNAME_S is the system built for: this one's, unless a cross-compile says
# otherwise (tests/cross/macos.sh passes UNAME_S=Darwin).
UNAME_S := $(shell uname -s 2>/dev/null)
ifeq ($(UNAME_S),Linux)
LOOP ?= epoll
else ifneq ($(filter Darwin FreeBSD OpenBSD NetBSD DragonFly,$(UNAME_S)),)
LOOP ?= kqueue
else
LOOP ?= poll
endif
# systemd's units are installed where systemd is: Linux.
INSTALL_SYSTEMD ?= $(if $(filter Linux,$(UNAME_S)),1,0)
LOOP_BACKENDS := epoll kqueue poll
ifeq ($(filter $(LOOP),$(LOOP_BACKENDS)),)
$(error LOOP=$(LOOP): the event loop is one of $(LOOP_BACKENDS))
endif
LOOP_ENGINE_SRC := $(LOOP_BACKENDS:%=cmd/ssed/net/loop_%.c)
SSED_LOOP_SRC := cmd/ssed/net/loop_$(LOOP).c
# kqueue on Linux is libkqueue's emulation (tests/kqueue/libkqueue.sh builds
# it): found by pkg-config, and run from where it was installed.
ifeq ($(LOOP)-$(UNAME_S),kqueue-Linux)
LOOP_CFLAGS = $(shell pkg-config --cflags libkqueue 2>/dev/null || echo -I/usr/include/kqueue)
LOOP_LIBS = $(shell pkg-config --libs libkqueue 2>/dev/null || echo -lkqueue) -lpthread \
	$(addprefix -Wl$(comma)-rpath$(comma),$(shell pkg-config --variable=libdir libkqueue 2>/dev/null))
endif
comma := ,
$(BUILD_DIR)/obj/cmd/ssed/net/loop_kqueue.o: ALL_CFLAGS += $(LOOP_CFLAGS)
# The backend last linked: a change of LOOP relinks ssed and the unit tests.
LOOP_STAMP := $(BUILD_DIR)/loop-backend
$(LOOP_STAMP): FORCE
	@mkdir -p $(dir $@)
	@[ "$$(cat $@ 2>/dev/null)" = "$(LOOP)" ] || echo "$(LOOP)" >$@
FORCE:
$(BUILD_DIR)/ssed $(BUILD_DIR)/unit-tests: $(LOOP_STAMP)

# ssed's HTTP/2 uses libnghttp2, linked into ssed only.
H2 ?= 1
H2_ENGINE_SRC := cmd/ssed/http/h2_session.c cmd/ssed/http/h2_session_state.c cmd/ssed/http/h2_stream.c cmd/ssed/http/h2_owed.c cmd/ssed/http/h2_budget.c
ifeq ($(H2),0)
SSED_H2_SRC := cmd/ssed/http/h2_off.c
H2_LIBS :=
else
SSED_H2_SRC := $(H2_ENGINE_SRC)
H2_LIBS = $(shell pkg-config --libs libnghttp2 2>/dev/null || echo -lnghttp2)
endif

COMMON_SRC := $(wildcard common/*.c)
COMMON_OBJ := $(COMMON_SRC:%.c=$(BUILD_DIR)/obj/%.o)
LIB := $(BUILD_DIR)/libssetools.a
UNIT_SRC := $(wildcard tests/unit/*.c)
UNIT_OBJ := $(UNIT_SRC:%.c=$(BUILD_DIR)/obj/%.o)

.PHONY: all check unit fuzz bench bench-c1m soak install uninstall clean deps demo deb check-package cross-macos FORCE
all: $(BINS:%=$(BUILD_DIR)/%)

$(BUILD_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(if $(filter cmd/ssed/% tests/unit/%,$<),$(SSED_INC)) $(if $(filter $(CURL_BINS:%=cmd/%/%) $(CURL_COMMON_SRC),$(dir $<) $<),$(CURL_CFLAGS)) -c -o $@ $<

$(LIB): $(COMMON_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

# ssed's viewer page is built into it from cmd/ssed/viewer/.
VIEWER_ASSETS := $(wildcard cmd/ssed/viewer/viewer.*)
ssed_EXTRA_OBJ := $(BUILD_DIR)/obj/gen/viewer_assets.o $(SSED_STORE_SRC:%.c=$(BUILD_DIR)/obj/%.o) \
	$(SSED_REDIS_SRC:%.c=$(BUILD_DIR)/obj/%.o) $(SSED_TLS_SRC:%.c=$(BUILD_DIR)/obj/%.o) \
	$(SSED_H2_SRC:%.c=$(BUILD_DIR)/obj/%.o) $(SSED_JWT_SRC:%.c=$(BUILD_DIR)/obj/%.o) \
	$(SSED_LOOP_SRC:%.c=$(BUILD_DIR)/obj/%.o)
ssed_LIBS = $(STORE_LIBS) $(REDIS_LIBS) $(TLS_LIBS) $(H2_LIBS) $(JWT_LIBS) $(JSON_LIBS) $(LOOP_LIBS)

$(BUILD_DIR)/gen/viewer_assets.c: $(VIEWER_ASSETS) cmd/ssed/viewer/embed.sh
	@mkdir -p $(dir $@)
	sh cmd/ssed/viewer/embed.sh cmd/ssed/viewer > $@.tmp && mv $@.tmp $@

$(BUILD_DIR)/obj/gen/viewer_assets.o: $(BUILD_DIR)/gen/viewer_assets.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

define binary_rule
$(1)_OBJ := $$(patsubst %.c,$(BUILD_DIR)/obj/%.o,$$(filter-out $(STORE_ENGINE_SRC) cmd/ssed/store/store_off.c $(REDIS_ENGINE_SRC) cmd/ssed/cluster/cluster_off.c $(TLS_ENGINE_SRC) cmd/ssed/net/tls_off.c $(H2_ENGINE_SRC) cmd/ssed/http/h2_off.c $(JWT_ENGINE_SRC) cmd/ssed/auth/jwt_off.c $(LOOP_ENGINE_SRC),$$(wildcard cmd/$(1)/*.c cmd/$(1)/*/*.c))) $$($(1)_EXTRA_OBJ)
$(BUILD_DIR)/$(1): $$($(1)_OBJ) $(LIB)
	$$(CC) $$(ALL_LDFLAGS) -o $$@ $$($(1)_OBJ) $(LIB) $(if $(filter $(1),$(CURL_BINS)),$$(CURL_LIBS)) $$($(1)_LIBS) -lm
endef
$(foreach b,$(BINS),$(eval $(call binary_rule,$(b))))

# ssed's network-facing parsers and its hub are unit-tested too.
UNIT_SSED_OBJ := $(patsubst %.c,$(BUILD_DIR)/obj/%.o,cmd/ssed/http/http_request.c cmd/ssed/http/chunked.c cmd/ssed/net/listener.c cmd/ssed/net/sockets.c \
	cmd/ssed/hub/hub.c cmd/ssed/hub/intake_gate.c cmd/ssed/hub/history.c cmd/ssed/hub/subscriber.c cmd/ssed/hub/shared_event.c cmd/ssed/routes/publish.c \
	cmd/ssed/hub/dedup.c cmd/ssed/net/redis_url.c cmd/ssed/cluster/cluster_message.c cmd/ssed/cluster/cluster_delivery.c cmd/ssed/hub/latency.c \
	cmd/ssed/routes/metrics.c cmd/ssed/auth/jwt_claims.c cmd/ssed/hub/channel_pattern.c cmd/ssed/auth/jwt_cache.c cmd/ssed/routes/json_body.c cmd/ssed/auth/json_guard.c \
	cmd/ssed/replay/replay_reader.c \
	$(SSED_STORE_SRC) $(SSED_LOOP_SRC))

$(BUILD_DIR)/unit-tests: $(UNIT_OBJ) $(UNIT_SSED_OBJ) $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $(UNIT_OBJ) $(UNIT_SSED_OBJ) $(LIB) $(STORE_LIBS) $(JSON_LIBS) $(LOOP_LIBS) -lm

deps:
	@sh .ci/deps.sh

check: deps all $(BUILD_DIR)/unit-tests
	@bash tests/run-suites.sh $(BUILD_DIR)

unit: $(BUILD_DIR)/unit-tests
	$(BUILD_DIR)/unit-tests

fuzz:
	@FUZZ_CC=$(FUZZ_CC) bash tests/fuzz/run.sh $(FUZZ_SECONDS)

bench: all
	@bash tests/bench/run.sh $(BUILD_DIR)
	@echo "== durable history (--store): tests/bench/store_throughput.sh"
	@bash tests/bench/store_throughput.sh $(BUILD_DIR)
	@bash tests/bench/jwt_connect.sh $(BUILD_DIR)
	@bash tests/bench/viewer_load.sh $(BUILD_DIR)
	@echo "== cluster (--redis): tests/bench/cluster_bench.sh"
	@bash tests/bench/cluster_bench.sh $(BUILD_DIR)

bench-c1m: all
	@nice -n 10 bash tests/bench/c1m.sh $(BUILD_DIR)

soak: all
	@python3 tests/soak/cluster_soak.py $(BUILD_DIR)

# macOS x86_64 and arm64, cross-compiled and linked with zig cc (not run).
cross-macos:
	@bash tests/cross/macos.sh build-cross

# The demo needs only what the build needs.
demo:
	@sh .ci/deps.sh --build
	@$(MAKE) --no-print-directory all >/dev/null
	@bash tests/demo.sh $(BUILD_DIR) $(DEMO_LISTEN)

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -d $(DESTDIR)$(DATADIR)/bash-completion/completions
	install -d $(DESTDIR)$(ZSH_COMPLETION_DIR) $(DESTDIR)$(DATADIR)/fish/vendor_completions.d
	for b in $(BINS); do \
	  install -m 755 $(BUILD_DIR)/$$b $(DESTDIR)$(BINDIR)/$$b && \
	  install -m 644 man/$$b.1 $(DESTDIR)$(MANDIR)/man1/$$b.1 && \
	  install -m 644 completions/$$b.bash $(DESTDIR)$(DATADIR)/bash-completion/completions/$$b && \
	  install -m 644 completions/_$$b $(DESTDIR)$(ZSH_COMPLETION_DIR)/_$$b && \
	  install -m 644 completions/$$b.fish $(DESTDIR)$(DATADIR)/fish/vendor_completions.d/$$b.fish || exit 1; \
	done
	@# ssed's units, with the paths it is installed to (the unit is written
	@# here, not built, as PREFIX may differ from one install to the next);
	@# on Linux only (INSTALL_SYSTEMD), where systemd is.
	install -d $(DESTDIR)$(SYSCONFDIR)/ssed
ifeq ($(INSTALL_SYSTEMD),1)
	install -d $(DESTDIR)$(SYSTEMD_UNIT_DIR)
	sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' cmd/ssed/systemd/ssed.service.in \
	  > $(DESTDIR)$(SYSTEMD_UNIT_DIR)/ssed.service
	chmod 644 $(DESTDIR)$(SYSTEMD_UNIT_DIR)/ssed.service
	install -m 644 cmd/ssed/systemd/ssed.socket $(DESTDIR)$(SYSTEMD_UNIT_DIR)/ssed.socket
endif
	@# An operator's configuration is never overwritten.
	[ -e $(DESTDIR)$(SYSCONFDIR)/ssed/ssed.conf ] || \
	  install -m 644 cmd/ssed/systemd/ssed.conf $(DESTDIR)$(SYSCONFDIR)/ssed/ssed.conf

uninstall:
	for b in $(BINS); do \
	  rm -f $(DESTDIR)$(BINDIR)/$$b $(DESTDIR)$(MANDIR)/man1/$$b.1 \
	    $(DESTDIR)$(DATADIR)/bash-completion/completions/$$b \
	    $(DESTDIR)$(ZSH_COMPLETION_DIR)/_$$b \
	    $(DESTDIR)$(DATADIR)/fish/vendor_completions.d/$$b.fish; \
	done
	rm -f $(DESTDIR)$(SYSTEMD_UNIT_DIR)/ssed.service $(DESTDIR)$(SYSTEMD_UNIT_DIR)/ssed.socket
	@# The configuration goes only as installed: an edited one is the operator's.
	if cmp -s cmd/ssed/systemd/ssed.conf $(DESTDIR)$(SYSCONFDIR)/ssed/ssed.conf; then \
	  rm -f $(DESTDIR)$(SYSCONFDIR)/ssed/ssed.conf; rmdir $(DESTDIR)$(SYSCONFDIR)/ssed 2>/dev/null || true; fi

# The Debian package, from a staged make install of binaries built with
# Debian's hardening flags in build-deb/ (.ci/deb_build.sh).
deb:
	@sh .ci/deb_build.sh build-deb

check-package: deb
	@sh .ci/deb_check.sh build-deb

clean:
	rm -rf build build-san build-clang build-deb build-cross build-poll

-include $(shell find $(BUILD_DIR)/obj -name '*.d' 2>/dev/null)
