# carbonio-health: build, run against a dev Consul agent, test, benchmark.
#
#   make run    dev Consul agent on loopback + the daemon with the built-in catalog
#   make test   vet + every test (unit, integration against a real agent, side by
#               side with Debian's monitoring plugins), under -race
#   make bench  the benchmarks of deploy/bench/README.md, results in deploy/bench/results.md
#   make package  .deb and .rpm in bin/pkg/ (nfpm, version from git describe)
#   make node   the real test node's root filesystem in bin/node/ (Debian 12,
#               systemd, Debian's mail daemons; built once, deploy/realnode)

GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)
BIN      := $(CURDIR)/bin
CONSUL   := $(BIN)/consul
PROMETHEUS := $(BIN)/prometheus
PROMTOOL := $(BIN)/promtool
DAEMON   := $(BIN)/carbonio-health
CHECK    := $(BIN)/carbonio-health-check
PLUGINS  := /usr/lib/nagios/plugins
NFPM     := $(BIN)/nfpm
PKG_DIR  := $(BIN)/pkg
NODE     := $(BIN)/node

# Integration tests read these; with CARBONIO_HEALTH_INTEGRATION=1 a missing
# Consul binary or plugin is a failure, never a skip.
export CARBONIO_HEALTH_CONSUL      := $(CONSUL)
export CARBONIO_HEALTH_PROMETHEUS  := $(PROMETHEUS)
export CARBONIO_HEALTH_PROMTOOL    := $(PROMTOOL)
export CARBONIO_HEALTH_PLUGINS     := $(PLUGINS)
export CARBONIO_HEALTH_INTEGRATION := 1
export CARBONIO_HEALTH_BIN         := $(DAEMON)
export CARBONIO_HEALTH_PKG_DIR     := $(PKG_DIR)
export CARBONIO_HEALTH_NODE_ROOTFS := $(NODE)

.PHONY: all build consul prometheus promtool plugins consumers dbus package node run test fuzz bench lint clean

all: build

# Static (CGO_ENABLED=0): no dynamic loader and libc at every exec of a
# script check; the pure Go DNS resolver reads the same /etc files.
build:
	CGO_ENABLED=0 $(GO) build -ldflags "$(LDFLAGS)" -o $(DAEMON) ./cmd/carbonio-health
	CGO_ENABLED=0 $(GO) build -o $(CHECK) ./cmd/carbonio-health-check

# The pinned Consul agent, built once from the nested module (about 4 minutes).
consul: $(CONSUL)
$(CONSUL): deploy/consul-dev/go.mod deploy/consul-dev/go.sum
	cd deploy/consul-dev && $(GO) build -o $(CONSUL) github.com/hashicorp/consul
	@touch $(CONSUL)

# The pinned Prometheus server that scrapes the daemon in the metrics test,
# built from the nested module with Consul discovery only (Debian's
# prometheus 2.42 package is built without Consul discovery).
prometheus: $(PROMETHEUS)
$(PROMETHEUS): deploy/prometheus-dev/go.mod deploy/prometheus-dev/go.sum
	cd deploy/prometheus-dev && $(GO) build -tags remove_all_sd,enable_consul_sd -o $(PROMETHEUS) github.com/prometheus/prometheus/cmd/prometheus
	@touch $(PROMETHEUS)

# promtool from the same module and version: make test runs `check rules`,
# `test rules` on deploy/prometheus's alert rules and `check metrics` on a
# live scrape of the daemon. Built after the server (order only), so that it
# reuses the packages the server's build compiled instead of compiling them
# a second time beside it.
promtool: $(PROMTOOL)
$(PROMTOOL): deploy/prometheus-dev/go.mod deploy/prometheus-dev/go.sum | $(PROMETHEUS)
	cd deploy/prometheus-dev && $(GO) build -tags remove_all_sd,enable_consul_sd -o $(PROMTOOL) github.com/prometheus/prometheus/cmd/promtool
	@touch $(PROMTOOL)

# Debian's monitoring plugins, the reference our probes are compared with.
plugins: $(PLUGINS)/check_disk /usr/bin/nslookup
$(PLUGINS)/check_disk /usr/bin/nslookup &:
	@if [ "$$(id -u)" != 0 ]; then echo "make plugins: run as root to apt-get install monitoring-plugins" >&2; exit 1; fi
	apt-get -o DPkg::Lock::Timeout=600 update -qq
	@# check_dns runs nslookup (bind9-dnsutils), which the plugins do not depend on.
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
		monitoring-plugins-basic monitoring-plugins-standard bind9-dnsutils

# The tools that consume what deploy/ ships, run on it by make test: lintian
# and dpkg on the .deb, rpm on the .rpm, systemd-analyze on the unit, nagios4,
# icinga2 and zabbix_agentd on the monitoring files, man on the manual pages;
# and Debian's dbus-daemon, whose private bus carries a stand-in systemd for
# the systemd probe's tests; mmdebstrap and systemd-nspawn, which build and
# boot the real node (make node).
# After plugins: one apt at a time.
consumers: plugins
	@for t in lintian dpkg-deb rpm systemd-analyze nagios4 icinga2 zabbix_agentd dbus-daemon man mmdebstrap systemd-nspawn; do command -v $$t >/dev/null || missing=1; done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" != 0 ]; then echo "make consumers: run as root to apt-get install the tools" >&2; exit 1; fi; \
		apt-get -o DPkg::Lock::Timeout=600 update -qq; \
		DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
			lintian rpm systemd nagios4-core icinga2-bin icinga2-common zabbix-agent dbus man-db \
			mmdebstrap systemd-container; \
	fi
dbus: consumers

# .deb and .rpm in bin/pkg/, built by nfpm (built once from deploy/package).
package: $(NFPM)
	GO=$(GO) NFPM=$(NFPM) deploy/package/build.sh
$(NFPM): deploy/package/go.mod deploy/package/go.sum
	cd deploy/package && $(GO) build -o $(NFPM) github.com/goreleaser/nfpm/v2/cmd/nfpm
	@touch $(NFPM)

# The real test node's root filesystem (deploy/realnode/rootfs/build.sh):
# mmdebstrap of Debian 12 with systemd and Debian's mail daemons (minutes,
# once; it reads the Debian sources apt uses here), then Carbonio's shape
# on top (seconds, again whenever deploy/realnode/rootfs changes). Root.
# After consumers, which installs mmdebstrap and systemd-nspawn: one apt at
# a time (on a fresh machine, make test runs these side by side).
node: consumers
	deploy/realnode/rootfs/build.sh $(NODE)

run: build consul
	deploy/dev/run.sh

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@# The test harnesses stay out of the product: only _test.go files import
	@# registrar/consultest (Consul agents), checkscript/faultfs (FUSE faults) and
	@# checkscript/plugintest (the node the probes meet Debian's plugins on).
	@out=$$($(GO) list -f '{{.ImportPath}}: {{join .Imports " "}}' ./... | grep -Ev '^[^:]*/(consultest|faultfs|plugintest):' | grep -E '/(registrar/consultest|checkscript/faultfs|checkscript/plugintest)( |$$)' || true); \
		if [ -n "$$out" ]; then echo "non-test packages import a test harness (registrar/consultest, checkscript/faultfs, checkscript/plugintest):"; echo "$$out"; exit 1; fi
	@# carbonio-health-check, exec'd for every light probe's script check, links none of the
	@# heavy probes' packages or libraries (checkscript/README.md, "Light and heavy probes"): no HCL, registrar, Consul API,
	@# HTTP, TLS, DNS library, D-Bus, ICMP library, regexps.
	@out=$$($(GO) list -deps ./cmd/carbonio-health-check | grep -E '^(crypto/tls|crypto/x509|net/http|regexp|github\.com/(hashicorp|miekg|godbus|coreos|prometheus-community)/|github\.com/shirou/gopsutil/v3/host|github\.com/zextras/carbonio-health/(hcl|registrar|checkscript/))' || true); \
		if [ -n "$$out" ]; then echo "cmd/carbonio-health-check links heavy packages:"; echo "$$out"; exit 1; fi

# test and bench first get what they need side by side: the Consul build
# (minutes, the first time) overlaps the plugin install, the daemon build and
# the real node's root filesystem. The cluster tests (a 6-agent cluster) and
# the real node's (a booted Debian node with the package installed) run on
# their own, after the rest.
CLUSTER_TESTS := ^TestCluster
REALNODE      := ./deploy/realnode
test:
	$(MAKE) -j4 consul prometheus promtool plugins consumers build lint package node
	$(GO) test -race -count=1 -skip '$(CLUSTER_TESTS)' $$($(GO) list ./... | grep -v '/deploy/realnode$$')
	cd deploy/grafana && $(GO) vet ./... && $(GO) test -count=1 ./...
	$(GO) test -race -count=1 -timeout 20m -run '$(CLUSTER_TESTS)' ./cmd/carbonio-health
	$(GO) test -race -count=1 -timeout 20m $(REALNODE)

fuzz:
	$(GO) test -run='^$$' -fuzz=FuzzParseRange -fuzztime=30s ./checkscript
	$(GO) test -run='^$$' -fuzz=FuzzLoad -fuzztime=30s ./hcl

bench:
	$(MAKE) -j3 consul plugins build
	deploy/bench/run.sh

clean:
	rm -rf $(BIN)
