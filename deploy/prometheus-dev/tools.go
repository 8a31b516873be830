//go:build tools

// Package prometheusdev pins the Prometheus server built by `make
// prometheus` for the metrics test, and promtool (`make promtool`), which
// `make test` runs on the alert rules (check rules, test rules) and on a live
// scrape of the daemon (check metrics). Debian's prometheus package (2.42) is
// built without Consul service discovery ("Disable Consul SD until its
// Debian package is back in shape"), and Carbonio's Prometheus finds its
// targets with consul_sd_configs.
package prometheusdev

import (
	_ "github.com/prometheus/prometheus/cmd/prometheus"
	_ "github.com/prometheus/prometheus/cmd/promtool"
)
