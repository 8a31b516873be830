package main

import (
	"bytes"
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"
)

const (
	dashboardFile = "carbonio-health.json"
	metricsDoc    = "../prometheus/README.md"
	rulesFile     = "../prometheus/carbonio-health.rules.yml"
)

// consulExporter are the series of consul_exporter (Carbonio's "consul"
// exporter, prometheus/consul_exporter's pkg/exporter), which the dashboard
// and the rules may read beside the daemon's: the servers' view of health.
var consulExporter = []string{
	"consul_up", "consul_raft_peers", "consul_raft_leader", "consul_serf_lan_members",
	"consul_serf_lan_member_info", "consul_serf_lan_member_status", "consul_catalog_services",
	"consul_catalog_service_node_healthy", "consul_health_node_status", "consul_health_service_status",
	"consul_service_checks", "consul_service_tag", "consul_catalog_kv",
}

// TestDashboardIsGenerated: carbonio-health.json is what `go run .` writes.
func TestDashboardIsGenerated(t *testing.T) {
	want, err := render()
	if err != nil {
		t.Fatal(err)
	}
	have, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(have, want) {
		t.Errorf("%s is not what the generator writes: cd deploy/grafana && go run . > %s", dashboardFile, dashboardFile)
	}
}

// promql is Prometheus's PromQL parser with the default options (those of
// the server and promtool of deploy/prometheus-dev).
var promql = parser.NewParser(parser.Options{})

// grafanaVars stand for Grafana's variables where PromQL needs a value
// (range durations); $node and $role sit inside label values.
var grafanaVars = strings.NewReplacer("$__rate_interval", "5m", "$__interval", "1m", "$__range", "1h")

// labelValues is a variable's query: label_values(<selector>, <label>).
var labelValues = regexp.MustCompile(`^label_values\((.*),\s*([a-zA-Z_]+)\)$`)

// dashboardQueries returns every panel target's expression and every
// variable's selector, by where they are.
func dashboardQueries(t *testing.T) map[string]string {
	t.Helper()
	src, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				RefID string `json:"refId"`
				Expr  string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Name  string `json:"name"`
				Type  string `json:"type"`
				Query any    `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(src, &d); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			if tg.Expr == "" {
				t.Errorf("panel %q target %s has no expression", p.Title, tg.RefID)
			}
			out["panel "+p.Title+" "+tg.RefID] = tg.Expr
		}
	}
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		q, _ := v.Query.(string)
		m := labelValues.FindStringSubmatch(q)
		if m == nil {
			t.Errorf("variable %s: query %q is not label_values(selector, label)", v.Name, q)
			continue
		}
		out["variable "+v.Name] = m[1]
	}
	if len(out) < 10 {
		t.Fatalf("only %d queries in %s", len(out), dashboardFile)
	}
	return out
}

// ruleExprs returns every alert rule's expression, by alert.
func ruleExprs(t *testing.T) map[string]string {
	t.Helper()
	src, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Groups []struct {
			Rules []struct {
				Alert string `yaml:"alert"`
				Expr  string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(src, &f); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			out["rule "+r.Alert] = r.Expr
		}
	}
	return out
}

// exported returns the series names the daemon documents (the Metrics
// table of deploy/prometheus/README.md, which registrar/metrics keeps equal
// to what it exports), a histogram's _bucket, _sum and _count included, and
// the prefixes of the standard collectors (go_*, process_*).
func exported(t *testing.T) (names map[string]bool, prefixes []string) {
	t.Helper()
	src, err := os.ReadFile(metricsDoc)
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(src), "\n## Metrics\n")
	if !ok {
		t.Fatalf("%s has no Metrics section", metricsDoc)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	names = map[string]bool{}
	tick := regexp.MustCompile("`([a-z_]+\\*?)`")
	for _, line := range strings.Split(section, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 3 || !strings.HasPrefix(line, "| `") {
			continue
		}
		for _, m := range tick.FindAllStringSubmatch(cells[1], -1) {
			if p, ok := strings.CutSuffix(m[1], "*"); ok {
				prefixes = append(prefixes, p)
				continue
			}
			names[m[1]] = true
			if strings.TrimSpace(cells[2]) == "histogram" {
				for _, s := range []string{"_bucket", "_sum", "_count"} {
					names[m[1]+s] = true
				}
			}
		}
	}
	if len(names) < 10 {
		t.Fatalf("only %d names in %s's Metrics table", len(names), metricsDoc)
	}
	return names, prefixes
}

// TestQueriesParseAndNameExportedSeries parses every dashboard query and
// alert rule with Prometheus's PromQL parser and checks that each series
// it selects is one the daemon exports, consul_exporter's, or Prometheus's
// own up.
func TestQueriesParseAndNameExportedSeries(t *testing.T) {
	names, prefixes := exported(t)
	allowed := func(n string) bool {
		return names[n] || n == "up" || slices.Contains(consulExporter, n) ||
			slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(n, p) })
	}
	queries := dashboardQueries(t)
	for k, v := range ruleExprs(t) {
		queries[k] = v
	}
	for where, q := range queries {
		expr, err := promql.ParseExpr(grafanaVars.Replace(q))
		if err != nil {
			t.Errorf("%s: %v\n  %s", where, err, q)
			continue
		}
		selectors := 0
		parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
			vs, ok := n.(*parser.VectorSelector)
			if !ok {
				return nil
			}
			selectors++
			if vs.Name == "" {
				t.Errorf("%s: a selector without a metric name: %s", where, vs)
			} else if !allowed(vs.Name) {
				t.Errorf("%s: %s is no series the daemon, consul_exporter or Prometheus exports", where, vs.Name)
			}
			return nil
		})
		if selectors == 0 {
			t.Errorf("%s selects no series: %s", where, q)
		}
	}
}

// TestQueriesCheckedCatchMistakes: the two checks above fail on a query
// that does not parse and on a series nobody exports.
func TestQueriesCheckedCatchMistakes(t *testing.T) {
	if _, err := promql.ParseExpr(grafanaVars.Replace(`rate(carbonio_health_ttl_pushes_total{node="$node"[$__rate_interval])`)); err == nil {
		t.Error("a broken query parsed")
	}
	names, _ := exported(t)
	for _, n := range []string{"carbonio_health_ttl_pushes", "node_filesystem_size_bytes"} {
		if names[n] || slices.Contains(consulExporter, n) {
			t.Errorf("%s counted as exported", n)
		}
	}
}
