# Build, test and install the llamafile toolchain.
#   make demo       build bin/llamafile, put a model inside it as
#                   bin/demo.llamafile and run that: without MODEL,
#                   SmolLM2-135M-Instruct (fetched by make smollm2), served
#                   over HTTP on 127.0.0.1:8080; MODEL=FILE.gguf for another
#   make smollm2    fetch SmolLM2-135M-Instruct Q4_1 (98 MB) into the cache
#                   (~/.cache/llamafile/models; scripts/fetch-model.sh)
#   make gemma3     fetch gemma-3-270m Q4_K_M (253 MB) into the same cache
#                   (scripts/fetch-model.sh gemma3)
#   make            build every command into ./bin (static, CGO_ENABLED=0)
#   make test       vet and test everything (arm64 kernels under qemu too)
#   make install    install commands and man pages under PREFIX (default /usr/local)
#   make cross      build every command for every supported OS and CPU
#   make soak       minutes of mixed traffic against the server (by hand)
#   make fuzz       every parser's fuzz target for FUZZTIME (default 30s) each
# bin/$(ENGINE) (bin/llamafile) is the multi-platform file (llamafile-format(5)):
# the engine built for every platform into bin/engines/, packed by internal/mkape.

GO       ?= go
PREFIX   ?= /usr/local
DESTDIR  ?=
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo 0.1.0-dev)
LDFLAGS  := -s -w -X github.com/llamafile-go/llamafile/pkg/version.Version=$(VERSION)
CMDS     := $(notdir $(wildcard cmd/*))
BINS     := $(addprefix bin/,$(CMDS))
PLATFORMS := linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64 \
             freebsd/amd64 freebsd/arm64 openbsd/amd64 openbsd/arm64 netbsd/amd64 netbsd/arm64

ENGINE     ?= llamafile
ENGINE_PKG ?= ./cmd/$(ENGINE)

export CGO_ENABLED := 0

.PHONY: all test test-arm64 install cross clean demo smollm2 gemma3 FORCE

all: $(BINS)

bin/%: FORCE
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $@ ./cmd/$*

ifneq ($(wildcard $(ENGINE_PKG)/*.go),)
bin/$(ENGINE): FORCE
	@set -e; set --; for p in $(PLATFORMS); do \
		out=bin/engines/$(ENGINE)-$${p%/*}-$${p#*/}; \
		echo "build $$p $(ENGINE)"; \
		GOOS=$${p%/*} GOARCH=$${p#*/} $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $$out $(ENGINE_PKG); \
		set -- "$$@" "$$p=$$out"; \
	done; \
	echo "pack $@"; $(GO) run ./internal/mkape -o $@ "$$@"
endif

# make smollm2: the real model of the tests and of make demo, fetched once
# into the cache that internal/testutil.SmolLM2 reads ($LLAMAFILE_CACHE, else
# $XDG_CACHE_HOME/llamafile, else ~/.cache/llamafile; never the repository).
MODEL_CACHE := $(or $(LLAMAFILE_CACHE),$(or $(XDG_CACHE_HOME),$(HOME)/.cache)/llamafile)
SMOLLM2     := $(MODEL_CACHE)/models/SmolLM2-135M-Instruct.Q4_1.gguf

smollm2:
	@LLAMAFILE_CACHE='$(MODEL_CACHE)' ./scripts/fetch-model.sh

# make gemma3: gemma-3-270m Q4_K_M (253 MB), the real Gemma 3 model of
# pkg/model's tests (internal/testutil.Gemma3), into the same cache.
gemma3:
	@LLAMAFILE_CACHE='$(MODEL_CACHE)' ./scripts/fetch-model.sh gemma3

# make demo: bin/llamafile with MODEL and an .args (-m MODEL's name, then
# DEMO_DEFAULTS, then the user's arguments) in its zip, as
# bin/demo.llamafile, run with DEMO_RUN. Without MODEL the model is SmolLM2
# (make smollm2 fetches it) and the .args holds only -m: with no prompt the
# llamafile serves its chat page and API on 127.0.0.1:8080. MODEL=FILE.gguf
# serves that model the same way (DEMO_RUN='-p "Once upon a time" -n 64'
# completes a prompt instead).
TINYLLAMA_URL := https://huggingface.co/TheBloke/TinyLlama-1.1B-Chat-v1.0-GGUF/resolve/main/tinyllama-1.1b-chat-v1.0.Q4_K_M.gguf

ifeq ($(strip $(MODEL)),)
DEMO_GGUF     := $(SMOLLM2)
DEMO_FETCH    := smollm2
DEMO_DEFAULTS ?=
DEMO_RUN      ?=
else
DEMO_GGUF     := $(MODEL)
DEMO_FETCH    :=
DEMO_DEFAULTS ?=
DEMO_RUN      ?=
endif

ifeq ($(DEMO_FETCH)$(wildcard $(DEMO_GGUF)),)
demo:
	@echo "make demo: $(MODEL) does not exist. Give a GGUF file as MODEL, for example:" >&2
	@echo "  curl -L -o tinyllama.gguf $(TINYLLAMA_URL)" >&2
	@echo "  make demo MODEL=tinyllama.gguf" >&2
	@echo "(without MODEL it uses SmolLM2-135M-Instruct, fetched by make smollm2)" >&2
	@exit 1
else
demo: bin/$(ENGINE) bin/zipalign $(DEMO_FETCH)
	@mkdir -p bin/demo
	cp bin/$(ENGINE) bin/demo.llamafile
	printf '%s\n' -m '$(notdir $(DEMO_GGUF))' $(DEMO_DEFAULTS) ... >bin/demo/.args
	bin/zipalign -j0 bin/demo.llamafile '$(DEMO_GGUF)' bin/demo/.args
	./bin/demo.llamafile $(DEMO_RUN)
endif

# test also runs the packages with kernels built with -tags noasm: the
# portable Go kernels alone (the fallback and the SIMD kernels' oracle).
test: test-arm64
	$(GO) vet ./...
	$(GO) test -timeout 30m ./...
	$(GO) test -tags noasm ./pkg/ggml/cpu ./pkg/model
	cd third_party/jinja && $(GO) vet ./... && $(GO) test ./...
	FUZZTIME=3s GO=$(GO) ./scripts/fuzz.sh

# make fuzz: every fuzz target (scripts/fuzz.sh lists them) for FUZZTIME
# each (30 s; make test runs them for 3 s), printing the executions.
FUZZTIME ?= 30s
.PHONY: fuzz
fuzz:
	FUZZTIME=$(FUZZTIME) GO=$(GO) ./scripts/fuzz.sh

# The packages with arm64 assembly, tested under qemu-user (skipped with a
# message where qemu-aarch64-static is missing, unless CI=true).
test-arm64:
	GO=$(GO) ./scripts/test-arm64.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 $(BINS) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(wildcard man/*.1) $(DESTDIR)$(PREFIX)/share/man/man1/
	install -d $(DESTDIR)$(PREFIX)/share/man/man5
	install -m 644 $(wildcard man/*.5) $(DESTDIR)$(PREFIX)/share/man/man5/

cross:
	@set -e; for p in $(PLATFORMS); do \
		os=$${p%/*}; arch=$${p#*/}; ext=; [ $$os = windows ] && ext=.exe; \
		for c in $(CMDS); do \
			echo "build $$os/$$arch $$c"; \
			GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags '$(LDFLAGS)' \
				-o bin/cross/$$os-$$arch/$$c$$ext ./cmd/$$c; \
		done; \
	done

clean:
	rm -rf bin

# make bench: the speed of random TinyLlama-1.1B-shaped models, generated
# (F16) and quantized once into $(BENCH_DIR), in llamafile --bench and in
# llama.cpp's llama-bench (built natively by scripts/build-llamacpp.sh)
# alternately, with the bound memory bandwidth sets on generation
# (scripts/bench.sh); see README "Benchmarks". make bench-ours runs only
# llamafile --bench.
BENCH_DIR   ?= $(HOME)/.cache/llamafile-bench
BENCH_TYPES ?= q4_0 q8_0 q4_k_m
BENCH_ARGS  ?= -p 512 -n 128 -t 2 -r 5
BENCH_OURS_ARGS ?= -p 512 -n 128 -r 3 -t 2 -o md
BENCH_MODELS := $(foreach t,$(BENCH_TYPES),$(BENCH_DIR)/tinyllama-$(t).gguf) $(BENCH_DIR)/tinyllama-f16.gguf
# The engine for this machine, run directly (bin/llamafile would start it
# through its shell prelude).
BENCH_ENGINE := bin/engines/$(ENGINE)-$(shell $(GO) env GOOS)-$(shell $(GO) env GOARCH)

.PHONY: bench bench-ours bench-models

bench: bin/$(ENGINE) $(BENCH_MODELS)
	bin=$$(./scripts/build-llamacpp.sh) && \
	LLAMAFILE=$(BENCH_ENGINE) LLAMA_BENCH="$${bin%% *}/llama-bench" GO=$(GO) \
		./scripts/bench.sh $(BENCH_ARGS) $(BENCH_MODELS)

bench-ours: bin/$(ENGINE) $(BENCH_MODELS)
	bin/$(ENGINE) --bench $(addprefix -m ,$(BENCH_MODELS)) $(BENCH_OURS_ARGS)

bench-models: $(BENCH_MODELS)

$(BENCH_DIR)/tinyllama-f16.gguf:
	@mkdir -p $(@D)
	$(GO) run ./internal/benchmodel/cmd/mkbenchmodel $@

# bin/quantize is order-only: rebuilding it does not redo the models.
$(BENCH_DIR)/tinyllama-%.gguf: $(BENCH_DIR)/tinyllama-f16.gguf | bin/quantize
	bin/quantize $< $@.tmp $* && mv $@.tmp $@

# make bench-families: the TinyLlama-1.1B-sized twin of each model family
# in BENCH_FAMILIES (mkbenchmodel -arch, benchmodel.Shape.ForArch), written
# in F16 and quantized to BENCH_FAMILY_TYPE once into $(BENCH_DIR), and the
# llama model of make bench-models, measured by llamafile --bench and
# llama.cpp's refbench alternately (scripts/bench-families.sh,
# BENCH_FAMILY_ARGS): each family's pp512 and tg128 tokens/s (the median and
# the best of 5 rounds), relative to llama's in the same engine, and ours
# relative to llama.cpp's.
BENCH_FAMILIES      ?= qwen2 qwen3 phi3 stablelm gemma3 qwen3moe
BENCH_FAMILY_TYPE   ?= q4_0
BENCH_FAMILY_ARGS   ?= -p 512 -n 128 -t 2 -r 5
BENCH_FAMILY_MODELS := $(BENCH_DIR)/tinyllama-$(BENCH_FAMILY_TYPE).gguf \
	$(foreach f,$(BENCH_FAMILIES),$(BENCH_DIR)/$(f)-tinyllama-$(BENCH_FAMILY_TYPE).gguf)

.PHONY: bench-families bench-family-models

bench-families: bin/$(ENGINE) $(BENCH_FAMILY_MODELS)
	LLAMAFILE=bin/$(ENGINE) ./scripts/bench-families.sh $(BENCH_FAMILY_ARGS) \
		llama=$(BENCH_DIR)/tinyllama-$(BENCH_FAMILY_TYPE).gguf \
		$(foreach f,$(BENCH_FAMILIES),$(f)=$(BENCH_DIR)/$(f)-tinyllama-$(BENCH_FAMILY_TYPE).gguf)

bench-family-models: $(BENCH_FAMILY_MODELS)

# bench-family FAMILY: the rules of FAMILY's twin, F16 and quantized.
define bench-family
$(BENCH_DIR)/$(1)-tinyllama-f16.gguf:
	@mkdir -p $$(@D)
	$(GO) run ./internal/benchmodel/cmd/mkbenchmodel -arch $(1) $$@

$(BENCH_DIR)/$(1)-tinyllama-%.gguf: $(BENCH_DIR)/$(1)-tinyllama-f16.gguf | bin/quantize
	bin/quantize $$< $$@.tmp $$* && mv $$@.tmp $$@
endef
$(foreach f,$(BENCH_FAMILIES),$(eval $(call bench-family,$(f))))

# make bench-vision: one 336x336 image encoded by a random LLaVA-1.5-sized
# CLIP encoder (synthvision.LLaVA15: 24 blocks of 1024, 16 heads, FF 4096,
# F16 matrices, mlp projector to 4096) on VISION_THREADS threads, ours
# (pkg/vision's BenchmarkEncode) and llama.cpp's (libmtmd through
# tools/visionref/mtmdbench, built against the reference kit's prebuilt
# libraries) alternately for VISION_ROUNDS rounds; prints both medians and
# the ratio (scripts/bench-vision.sh). The mmproj and the image are written
# once into $(BENCH_DIR).
VISION_MMPROJ  := $(BENCH_DIR)/llava-clip-f16.gguf
VISION_IMAGE   := $(BENCH_DIR)/vision-640x480.png
VISION_ROUNDS  ?= 3
VISION_THREADS ?= 2

.PHONY: bench-vision

bench-vision: $(VISION_MMPROJ) $(VISION_IMAGE)
	GO=$(GO) ROUNDS=$(VISION_ROUNDS) THREADS=$(VISION_THREADS) \
		./scripts/bench-vision.sh '$(VISION_MMPROJ)' '$(VISION_IMAGE)'

$(VISION_MMPROJ):
	@mkdir -p $(@D)
	$(GO) run ./internal/synthvision/cmd/mksynthvision -shape llava15 -o $@.tmp && mv $@.tmp $@

$(VISION_IMAGE):
	@mkdir -p $(@D)
	$(GO) run ./internal/synthvision/cmd/mksynthvision -image 640x480 -seed 1 -o $@

# make soak: minutes of mixed traffic against an in-process server on
# stories260k (internal/soak; SOAK_ARGS='-url http://HOST:PORT' targets a
# running one), reporting requests, errors by kind, latency, goroutines and
# memory every few seconds. make test runs 8 s of it (TestSoak).
SOAK_ARGS ?= -d 5m -workers 16
.PHONY: soak
soak:
	$(GO) run ./internal/soak/cmd/soak $(SOAK_ARGS)

# make llamacpp-bench-tools: llama.cpp's llama-batched-bench and llama-server,
# built from the reference kit's source (CPU only) into the cache, for the
# side-by-side benchmarks of README "Benchmarks".
.PHONY: llamacpp-bench-tools
llamacpp-bench-tools:
	./scripts/build-llamacpp.sh
