# bulwark build. `./configure` writes config.mk; `make check` and `make run` run it (and install the
# Debian packages of scripts/deps when root) if config.mk is missing.
-include config.mk

CXX      ?= g++
PREFIX   ?= /usr/local
SBINDIR  ?= $(PREFIX)/sbin
SYSCONFDIR ?= $(PREFIX)/etc
LOCALSTATEDIR ?= $(PREFIX)/var
MANDIR   ?= $(PREFIX)/share/man
LIBS     ?= -lssl -lcrypto -linih -lz -llz4
DESTDIR  ?=

ifeq ($(CONFIGURE_SANITIZE),yes)
SANITIZE ?= 1
endif
ifeq ($(SANITIZE),1)
BUILD    := build/san
# g++ 12 under ASan reports false -Wmismatched-new-delete (Asio awaitable frames) and
# -Wmaybe-uninitialized (libstdc++ regex); both are silenced for the sanitizer build only.
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined -Wno-mismatched-new-delete -Wno-maybe-uninitialized
else
BUILD    := build
SANFLAGS :=
endif

ifeq ($(DEBUG),yes)
OPTFLAGS := -O0 -g3 -DBW_DEBUG=1
else
OPTFLAGS := -O2 -g
endif

NPROC    := $(shell nproc 2>/dev/null || echo 2)
VERSION  := $(shell cat VERSION 2>/dev/null || echo 0.1.0)
WARN     := -Wall -Wextra -Werror -Wno-missing-field-initializers
CXXFLAGS_ALL := -std=c++20 $(OPTFLAGS) $(WARN) $(SANFLAGS) -MMD -MP $(CXXFLAGS)
PATHDEFS := -DBULWARK_VERSION='"$(VERSION)"' \
            -DBULWARK_SYSCONFDIR='"$(SYSCONFDIR)"' -DBULWARK_LOCALSTATEDIR='"$(LOCALSTATEDIR)"'
SRC_CPPFLAGS := -Isrc $(PATHDEFS) -DBOOST_ASIO_NO_DEPRECATED
LDFLAGS_ALL := $(SANFLAGS) $(LDFLAGS)

SRCS      := $(shell find src -name '*.cpp' | sort)
LIB_SRCS  := $(filter-out src/main.cpp,$(SRCS))
LIB_OBJS  := $(LIB_SRCS:%.cpp=$(BUILD)/obj/%.o)
MAIN_OBJ  := $(BUILD)/obj/src/main.o
UNIT_SRCS := $(shell find tests/unit -name '*.cpp' 2>/dev/null | sort)
UNIT_OBJS := $(UNIT_SRCS:%.cpp=$(BUILD)/obj/%.o)
INTEG_SRCS := $(shell find tests/integration -name '*.cpp' 2>/dev/null | sort)
INTEG_OBJS := $(INTEG_SRCS:%.cpp=$(BUILD)/obj/%.o)
DEMO_OBJ  := $(BUILD)/obj/scripts/demo_backend.o

BIN        := $(BUILD)/bulwark
UNIT_BIN   := $(BUILD)/unit_tests
INTEG_BIN  := $(BUILD)/integration_tests
DEMO_BIN   := $(BUILD)/demo-backend

.PHONY: all check unit integration run install uninstall clean distclean deps
.DEFAULT_GOAL := all

all: $(BIN) $(DEMO_BIN)

config.mk:
	@sh scripts/deps install
	./configure

deps:
	@sh scripts/deps install

$(BUILD)/obj/src/%.o: src/%.cpp config.mk
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS_ALL) $(SRC_CPPFLAGS) -c $< -o $@

$(BUILD)/obj/tests/unit/%.o: tests/unit/%.cpp config.mk
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS_ALL) $(SRC_CPPFLAGS) -DBOOST_TEST_DYN_LINK -DBULWARK_SRCDIR='"$(CURDIR)"' -c $< -o $@

# The integration harness runs origins on threads, so unlike the single-threaded workers it keeps
# Asio's locking (BULWARK_ASIO_THREADS); it links none of src/ and talks to the real binary.
$(BUILD)/obj/tests/integration/%.o: tests/integration/%.cpp config.mk
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS_ALL) -Isrc -Itests/integration -DBULWARK_ASIO_THREADS -DBOOST_TEST_DYN_LINK -c $< -o $@

$(BUILD)/obj/scripts/%.o: scripts/%.cpp config.mk
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS_ALL) -Isrc -c $< -o $@

$(BIN): $(MAIN_OBJ) $(LIB_OBJS)
	$(CXX) $(LDFLAGS_ALL) -o $@ $^ $(LIBS)

$(UNIT_BIN): $(UNIT_OBJS) $(LIB_OBJS)
	$(CXX) $(LDFLAGS_ALL) -o $@ $^ $(LIBS) -lboost_unit_test_framework

$(INTEG_BIN): $(INTEG_OBJS)
	$(CXX) $(LDFLAGS_ALL) -o $@ $^ -lboost_unit_test_framework -lpthread

$(DEMO_BIN): $(DEMO_OBJ)
	$(CXX) $(LDFLAGS_ALL) -o $@ $^

unit: $(UNIT_BIN)
	@sh scripts/run-tests unit $(UNIT_BIN)

integration: $(BIN) $(INTEG_BIN)
	@BULWARK_BIN=$(CURDIR)/$(BIN) BULWARK_SRCDIR=$(CURDIR) $(if $(SANFLAGS),BULWARK_SANITIZED=1) \
		sh scripts/run-tests integration $(INTEG_BIN)

check: deps config.mk
	@$(MAKE) --no-print-directory -j$(NPROC) all $(UNIT_BIN) $(INTEG_BIN) $(FUZZ_TARGETS:%=$(BUILD)/fuzz/replay_%)
	@$(MAKE) --no-print-directory unit fuzz-replay integration

run: deps config.mk
	@$(MAKE) --no-print-directory -j$(NPROC) all
	@sh scripts/run-demo $(BIN) $(DEMO_BIN)

install: $(BIN)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(SYSCONFDIR)/bulwark \
		$(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5
	install -d -m 750 $(DESTDIR)$(LOCALSTATEDIR)/log/bulwark
	install -d -m 755 $(DESTDIR)$(LOCALSTATEDIR)/run/bulwark
	install -m 755 $(BIN) $(DESTDIR)$(SBINDIR)/bulwark
	test -e $(DESTDIR)$(SYSCONFDIR)/bulwark/bulwark.ini || \
		install -m 644 conf/bulwark.ini $(DESTDIR)$(SYSCONFDIR)/bulwark/bulwark.ini
	install -m 644 man/bulwark.8 $(DESTDIR)$(MANDIR)/man8/bulwark.8
	install -m 644 man/bulwark.ini.5 $(DESTDIR)$(MANDIR)/man5/bulwark.ini.5

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/bulwark $(DESTDIR)$(MANDIR)/man8/bulwark.8 $(DESTDIR)$(MANDIR)/man5/bulwark.ini.5

clean:
	rm -rf build

distclean: clean
	rm -f config.mk

include tests/fuzz/fuzz.mk

-include $(shell find build -name '*.d' 2>/dev/null)
