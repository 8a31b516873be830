// Command grafana writes carbonio-health's Grafana dashboard (one node at a
// time, with a role selector) as JSON, built with the Grafana Foundation SDK,
// which is typed against Grafana's dashboard schema:
//
//	cd deploy/grafana && go run . > carbonio-health.json
//
// It is a module of its own, like deploy/prometheus-dev and deploy/consul-dev:
// the SDK (and the PromQL parser its tests use) never reach the product's
// go.mod. Its tests keep carbonio-health.json equal to what it writes, parse
// every query with Prometheus's own PromQL parser and allow only the series
// the daemon exports (deploy/prometheus/README.md), consul_exporter's and
// Prometheus's own up.
package main

import (
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/statetimeline"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// The selectors every panel applies: the node of the $node variable (the
// label the scrape job of deploy/prometheus/carbonio-health.yml sets from
// the Consul node) and the roles of $role.
const (
	onNode     = `job="carbonio-health",node="$node"`
	onNodeRole = onNode + `,role=~"$role"`
)

// datasource is the dashboard's $datasource variable: Carbonio's
// Prometheus, whatever it is named in Grafana.
var datasource = common.DataSourceRef{Type: cog.ToPtr("prometheus"), Uid: cog.ToPtr("${datasource}")}

// build returns the dashboard.
func build() (dashboard.Dashboard, error) {
	b := dashboard.NewDashboardBuilder("Carbonio health").
		Uid("carbonio-health").
		Description("carbonio-health on one Carbonio node: the state of every declared check, probe durations, disks and folders, and the daemon's own work (TTL pushes, writes to the agent). Metrics: deploy/prometheus/README.md.").
		Tags([]string{"carbonio", "consul", "carbonio-health"}).
		Refresh("1m").
		Time("now-6h", "now").
		Timezone(common.TimeZoneBrowser).
		Readonly().
		WithVariable(dashboard.NewDatasourceVariableBuilder("datasource").
			Label("Prometheus").
			Type("prometheus")).
		WithVariable(dashboard.NewQueryVariableBuilder("node").
			Label("Node").
			Description("The Consul node name (agent-<fqdn with dashes>).").
			Datasource(datasource).
			Query(dashboard.StringOrMap{String: cog.ToPtr(`label_values(carbonio_health_build_info{job="carbonio-health"}, node)`)}).
			Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
			Sort(dashboard.VariableSortAlphabeticalAsc)).
		WithVariable(dashboard.NewQueryVariableBuilder("role").
			Label("Role").
			Description("Roles declared on the node (all: disks, load, users, ping, DNS; daemon: its heartbeat).").
			Datasource(datasource).
			Query(dashboard.StringOrMap{String: cog.ToPtr(`label_values(carbonio_health_check_status{job="carbonio-health",node="$node"}, role)`)}).
			Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
			Sort(dashboard.VariableSortAlphabeticalAsc).
			Multi(true).
			IncludeAll(true).
			AllValue(".*"))

	b = b.WithRow(dashboard.NewRowBuilder("Checks"))
	for _, p := range checkPanels() {
		b = b.WithPanel(p)
	}
	b = b.WithRow(dashboard.NewRowBuilder("Probes"))
	for _, p := range probePanels() {
		b = b.WithPanel(p)
	}
	b = b.WithRow(dashboard.NewRowBuilder("Disks and folders"))
	for _, p := range diskPanels() {
		b = b.WithPanel(p)
	}
	b = b.WithRow(dashboard.NewRowBuilder("The daemon"))
	for _, p := range daemonPanels() {
		b = b.WithPanel(p)
	}
	return b.Build()
}

// query is one PromQL target of a panel.
func query(ref, expr, legend string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().RefId(ref).Expr(expr).LegendFormat(legend).Datasource(datasource)
}

// stateMappings show a check state (0 passing, 1 warning, 2 critical) as
// Consul names it, in the usual colors.
func stateMappings() []dashboard.ValueMapping {
	result := func(text, color string) dashboard.ValueMappingResult {
		return dashboard.ValueMappingResult{Text: cog.ToPtr(text), Color: cog.ToPtr(color)}
	}
	return []dashboard.ValueMapping{{ValueMap: &dashboard.ValueMap{Type: dashboard.MappingTypeValueToText, Options: map[string]dashboard.ValueMappingResult{
		"0": result("passing", "green"),
		"1": result("warning", "orange"),
		"2": result("critical", "red"),
	}}}}
}

func checkPanels() []cog.Builder[dashboard.Panel] {
	// One value per check: 0, 1 or 2 (the daemon exports one status series
	// per check, with the current status as its label).
	state := `max by (service, check) (` +
		`(carbonio_health_check_status{` + onNodeRole + `,status="passing"} * 0)` +
		` or (carbonio_health_check_status{` + onNodeRole + `,status="warning"} * 1)` +
		` or (carbonio_health_check_status{` + onNodeRole + `,status="critical"} * 2))`
	return []cog.Builder[dashboard.Panel]{
		stat.NewPanelBuilder().
			Title("Checks by state").
			Description("Declared checks of the selected roles, by the status the local Consul agent reports.").
			Height(6).Span(8).
			WithTarget(query("A", `count by (status) (carbonio_health_check_status{`+onNodeRole+`})`, "{{status}}").Instant()),
		stat.NewPanelBuilder().
			Title("Heartbeat in the catalog").
			Description("carbonio-health:daemon:alive as the Consul servers hold it (consul_exporter): critical means the node's other checks in the catalog are stale (daemon down, or its token refused).").
			Height(6).Span(8).
			Mappings([]dashboard.ValueMapping{{ValueMap: &dashboard.ValueMap{Type: dashboard.MappingTypeValueToText, Options: map[string]dashboard.ValueMappingResult{
				"1": {Text: cog.ToPtr("fed"), Color: cog.ToPtr("green")},
				"0": {Text: cog.ToPtr("stale"), Color: cog.ToPtr("red")},
			}}}}).
			WithTarget(query("A", `max(consul_health_service_status{node="$node",check="carbonio-health:daemon:alive",status="passing"})`, "heartbeat").Instant()),
		stat.NewPanelBuilder().
			Title("Agent reachable").
			Description("1 when the daemon's last reconcile pass could read the local Consul agent.").
			Height(6).Span(8).
			Mappings([]dashboard.ValueMapping{{ValueMap: &dashboard.ValueMap{Type: dashboard.MappingTypeValueToText, Options: map[string]dashboard.ValueMappingResult{
				"1": {Text: cog.ToPtr("yes"), Color: cog.ToPtr("green")},
				"0": {Text: cog.ToPtr("no"), Color: cog.ToPtr("red")},
			}}}}).
			WithTarget(query("A", `min(carbonio_health_agent_up{`+onNode+`}) and min(up{`+onNode+`})`, "agent").Instant()),
		statetimeline.NewPanelBuilder().
			Title("Check states over time").
			Description("Each declared check of the selected roles: passing, warning or critical, as the agent reported it at each scrape.").
			Height(14).Span(24).
			Mappings(stateMappings()).
			WithTarget(query("A", state, "{{service}} {{check}}")),
	}
}

func probePanels() []cog.Builder[dashboard.Panel] {
	return []cog.Builder[dashboard.Panel]{
		timeseries.NewPanelBuilder().
			Title("Probe duration, 90th percentile").
			Description("In-process evaluations of the TTL checks (sockets, disks, folders), per check.").
			Unit("s").Height(8).Span(12).
			WithTarget(query("A", `histogram_quantile(0.9, sum by (check, le) (rate(carbonio_health_probe_duration_seconds_bucket{`+onNodeRole+`}[$__rate_interval])))`, "{{check}}")),
		timeseries.NewPanelBuilder().
			Title("Probe duration, mean").
			Unit("s").Height(8).Span(12).
			WithTarget(query("A", `sum by (check) (rate(carbonio_health_probe_duration_seconds_sum{`+onNodeRole+`}[$__rate_interval])) / sum by (check) (rate(carbonio_health_probe_duration_seconds_count{`+onNodeRole+`}[$__rate_interval]))`, "{{check}}")),
		timeseries.NewPanelBuilder().
			Title("Measured times (perfdata)").
			Description("Times the probes report (TCP connect, DNS answer, ping round trip), as seconds.").
			Unit("s").Height(8).Span(24).
			WithTarget(query("A", `carbonio_health_perfdata_seconds{`+onNodeRole+`}`, "{{service}} {{label}}")),
	}
}

func diskPanels() []cog.Builder[dashboard.Panel] {
	return []cog.Builder[dashboard.Panel]{
		timeseries.NewPanelBuilder().
			Title("File systems used").
			Description("Used bytes of each disk check's file system over its size (perfdata max). CarbonioHealthDiskWillFill fires when the 6 h trend reaches 100 % within a day.").
			Unit("percentunit").Min(0).Max(1).Height(8).Span(12).
			WithTarget(query("A", `carbonio_health_perfdata_bytes{`+onNodeRole+`} / ignoring (limit) carbonio_health_perfdata_limit_bytes{`+onNodeRole+`,limit="max"}`, "{{label}}")),
		timeseries.NewPanelBuilder().
			Title("File systems: time until full").
			Description("At the rate of the last 6 hours; empty while a file system does not grow.").
			Unit("s").Min(0).Height(8).Span(12).
			WithTarget(query("A", `(carbonio_health_perfdata_limit_bytes{`+onNodeRole+`,limit="max"} - ignoring (limit) carbonio_health_perfdata_bytes{`+onNodeRole+`}) / ignoring (limit) (deriv(carbonio_health_perfdata_bytes{`+onNodeRole+`}[6h]) > 0)`, "{{label}}")),
		timeseries.NewPanelBuilder().
			Title("Folder sizes").
			Description("The bytes each folder's tree uses (dirsize, as du -sxB1), with its warning threshold where one is declared.").
			Unit("bytes").Min(0).Height(8).Span(24).
			WithTarget(query("A", `carbonio_health_perfdata_bytes{`+onNodeRole+`} unless ignoring (limit) carbonio_health_perfdata_limit_bytes{`+onNodeRole+`,limit="max"}`, "{{label}}")).
			WithTarget(query("B", `carbonio_health_perfdata_limit_bytes{`+onNodeRole+`,limit="warning"} unless ignoring (limit) carbonio_health_perfdata_limit_bytes{`+onNodeRole+`,limit="max"}`, "{{label}} warning")),
	}
}

func daemonPanels() []cog.Builder[dashboard.Panel] {
	return []cog.Builder[dashboard.Panel]{
		timeseries.NewPanelBuilder().
			Title("TTL pushes").
			Description("TTL check updates the daemon sends to the agent, and those that failed.").
			Unit("ops").Height(8).Span(12).
			WithTarget(query("A", `rate(carbonio_health_ttl_pushes_total{`+onNode+`}[$__rate_interval])`, "pushes")).
			WithTarget(query("B", `rate(carbonio_health_ttl_push_failures_total{`+onNode+`}[$__rate_interval])`, "failed")),
		timeseries.NewPanelBuilder().
			Title("Writes to the agent").
			Description("Registrations, updates, deregistrations and config reloads: zero in a steady state.").
			Unit("short").Height(8).Span(12).
			WithTarget(query("A", `increase(carbonio_health_reconcile_writes_total{`+onNode+`}[$__rate_interval])`, "{{kind}}")).
			WithTarget(query("B", `increase(carbonio_health_reconcile_errors_total{`+onNode+`}[$__rate_interval])`, "failed passes")),
		timeseries.NewPanelBuilder().
			Title("Memory").
			Height(8).Span(12).Unit("bytes").
			WithTarget(query("A", `process_resident_memory_bytes{`+onNode+`}`, "resident memory")).
			WithTarget(query("B", `go_memstats_heap_inuse_bytes{`+onNode+`}`, "Go heap in use")),
		timeseries.NewPanelBuilder().
			Title("File descriptors, threads, goroutines").
			Description("A leak shows here first (CarbonioHealthFileDescriptorsExhausting at 80 % of the limit).").
			Height(8).Span(12).
			WithTarget(query("A", `process_open_fds{`+onNode+`}`, "open fds")).
			WithTarget(query("B", `go_threads{`+onNode+`}`, "threads")).
			WithTarget(query("C", `go_goroutines{`+onNode+`}`, "goroutines")),
	}
}
