# tests/fuzz/fuzz.mk: libFuzzer targets, included by the top Makefile (which defines BUILD, CXX,
# CXXFLAGS_ALL, SRC_CPPFLAGS, PATHDEFS, LIB_OBJS, LIBS and LDFLAGS_ALL).
#
#   make fuzz-replay   replays tests/fuzz/corpus/<target>/ (seeds + crash-* regressions) through a plain
#                      driver built with $(CXX): no clang needed; part of `make check`.
#   make fuzz          builds each target with clang, libFuzzer, ASan and UBSan (installing Debian's clang
#                      and libclang-rt-14-dev when root and they are missing), then fuzzes each one for
#                      FUZZ_SECONDS on a copy of its corpus kept in $(BUILD)/fuzz/work/<target>/.
#                      Crashes land in tests/fuzz/corpus/<target>/ (crash-<sha1>, timeout-*, oom-*, leak-*),
#                      where they stay as regressions; the run fails if any target found one.
#   make fuzz FUZZ_TARGETS=chunked FUZZ_SECONDS=600     one target, longer
#
# A target is tests/fuzz/<target>.cpp defining LLVMFuzzerTestOneInput; tests/fuzz/<target>.dict, when
# present, is given to libFuzzer as a dictionary.

FUZZ_TARGETS ?= request_parser response_parser chunked config_loader cache_policy
FUZZ_SECONDS ?= 60
FUZZ_CLANG   ?= clang++
FUZZ_APT_PACKAGES ?= clang libclang-rt-14-dev
FUZZ_CORPUS  := tests/fuzz/corpus
FUZZ_BUILD   := $(BUILD)/fuzz

.PHONY: fuzz fuzz-replay fuzz-build fuzz-toolchain

# ---- replay with the ordinary compiler, linked against the same objects as the binary ----

FUZZ_REPLAY_OBJS := $(FUZZ_TARGETS:%=$(BUILD)/obj/tests/fuzz/%.o) $(BUILD)/obj/tests/fuzz/replay_main.o

$(BUILD)/obj/tests/fuzz/%.o: tests/fuzz/%.cpp config.mk
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS_ALL) $(SRC_CPPFLAGS) -c $< -o $@

$(FUZZ_BUILD)/replay_%: $(BUILD)/obj/tests/fuzz/%.o $(BUILD)/obj/tests/fuzz/replay_main.o $(LIB_OBJS)
	@mkdir -p $(@D)
	$(CXX) $(LDFLAGS_ALL) -o $@ $^ $(LIBS)

# Every target is replayed even when one fails; the last line is the plain summary CI reads.
fuzz-replay: $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/replay_%)
	@passed=0; failed=0; \
	for t in $(FUZZ_TARGETS); do \
		printf 'fuzz %s: ' $$t; \
		if $(FUZZ_BUILD)/replay_$$t $(FUZZ_CORPUS)/$$t; then passed=$$((passed + 1)); \
		else failed=$$((failed + 1)); echo "fuzz $$t: FAILED (the input named above reproduces it)"; fi; \
	done; \
	echo "fuzz-replay: $$passed passed, $$failed failed"; \
	[ $$failed -eq 0 ]

# ---- libFuzzer build with clang; its own objects, since the main build's are g++'s ----

FUZZ_SAN      := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CXXFLAGS := -std=c++20 -g -O1 $(FUZZ_SAN) -fsanitize=fuzzer-no-link -Wall -Wextra \
                 -Wno-missing-field-initializers -Isrc $(PATHDEFS) -MMD -MP
# http/, config/, core/ and cache/ never include Asio, so the fuzz build stays small. Archived, so a
# target links only the objects it uses.
FUZZ_LIB_SRCS := $(sort $(wildcard src/http/*.cpp src/config/*.cpp src/core/*.cpp src/cache/*.cpp))
FUZZ_LIB_OBJS := $(FUZZ_LIB_SRCS:%.cpp=$(FUZZ_BUILD)/obj/%.o)
FUZZ_LIB      := $(FUZZ_BUILD)/libbulwark_fuzz.a
FUZZ_BINS     := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)
FUZZ_TARGET_OBJS := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/obj/tests/fuzz/%.o)

# Objects reached only through pattern rules would otherwise be deleted as intermediates.
.SECONDARY: $(FUZZ_REPLAY_OBJS) $(FUZZ_TARGET_OBJS) $(FUZZ_LIB_OBJS)

# Installs the compiler and libFuzzer runtime from Debian when a trivial fuzzer does not link.
fuzz-toolchain:
	@mkdir -p $(FUZZ_BUILD)
	@probe='extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }'; \
	if ! echo "$$probe" | $(FUZZ_CLANG) -x c++ -fsanitize=fuzzer,address,undefined - \
			-o $(FUZZ_BUILD)/probe >/dev/null 2>&1; then \
		if [ "$$(id -u)" != 0 ]; then \
			echo "fuzz: $(FUZZ_CLANG) cannot build a libFuzzer target; install $(FUZZ_APT_PACKAGES) (as root)"; \
			exit 1; \
		fi; \
		echo "fuzz: installing $(FUZZ_APT_PACKAGES)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(FUZZ_APT_PACKAGES) \
			>/dev/null || exit 1; \
		echo "$$probe" | $(FUZZ_CLANG) -x c++ -fsanitize=fuzzer,address,undefined - -o $(FUZZ_BUILD)/probe \
			|| exit 1; \
	fi; rm -f $(FUZZ_BUILD)/probe

$(FUZZ_BUILD)/obj/%.o: %.cpp | fuzz-toolchain
	@mkdir -p $(@D)
	$(FUZZ_CLANG) $(FUZZ_CXXFLAGS) -c $< -o $@

$(FUZZ_LIB): $(FUZZ_LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/obj/tests/fuzz/%.o $(FUZZ_LIB)
	$(FUZZ_CLANG) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(LIBS)

fuzz-build: $(FUZZ_BINS)

# Each target runs on its work corpus (seeded from the committed one); crashes are written straight into
# the committed corpus. A crash on an input the corpus already holds (a known, unfixed failure) is not
# kept twice. The libFuzzer output goes to $(FUZZ_BUILD)/<target>.log.
fuzz: $(FUZZ_BINS)
	@failed=0; \
	for t in $(FUZZ_TARGETS); do \
		corpus=$(FUZZ_CORPUS)/$$t; work=$(FUZZ_BUILD)/work/$$t; log=$(FUZZ_BUILD)/$$t.log; \
		mkdir -p $$work; cp -n $$corpus/* $$work/ 2>/dev/null; \
		dict=; [ -f tests/fuzz/$$t.dict ] && dict=-dict=tests/fuzz/$$t.dict; \
		ls $$corpus > $(FUZZ_BUILD)/$$t.before; \
		echo "fuzz $$t: $(FUZZ_SECONDS)s, log in $$log"; \
		if UBSAN_OPTIONS=print_stacktrace=1 $(FUZZ_BUILD)/fuzz_$$t $$dict -max_total_time=$(FUZZ_SECONDS) \
				-timeout=10 -print_final_stats=1 -artifact_prefix=$$corpus/ $$work >$$log 2>&1; then \
			grep '^Done' $$log | sed "s/^/fuzz $$t: /"; \
		else \
			failed=1; grep -E 'ERROR|invariant failed|SUMMARY|#[0-9]+ in ' $$log | head -n 30; \
			for new in $$(ls $$corpus | comm -13 $(FUZZ_BUILD)/$$t.before -); do \
				dup=; for old in $$(cat $(FUZZ_BUILD)/$$t.before); do \
					cmp -s $$corpus/$$new $$corpus/$$old && dup=$$old && break; done; \
				if [ -n "$$dup" ]; then rm -f $$corpus/$$new; echo "fuzz $$t: FAILS on existing input $$corpus/$$dup"; \
				else echo "fuzz $$t: NEW FAILING INPUT $$corpus/$$new"; fi; \
			done; \
		fi; \
	done; \
	exit $$failed
