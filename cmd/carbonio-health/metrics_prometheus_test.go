package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/hashicorp/consul/api"
	"github.com/hashicorp/consul/sdk/freeport"

	"github.com/zextras/carbonio-health/registrar"
	"github.com/zextras/carbonio-health/registrar/consultest"
)

// prometheusJob is the scrape job that prometheusDoc quotes;
// prometheusRules the alert rules beside it.
const (
	prometheusJob   = "../../deploy/prometheus/carbonio-health.yml"
	prometheusRules = "../../deploy/prometheus/carbonio-health.rules.yml"
	prometheusDoc   = "../../deploy/prometheus/README.md"
)

// TestPrometheusScrapesTheDaemon runs `run -metrics-addr` (with the token
// `setup` creates for the node) against a real default-deny agent, and a
// real Prometheus (bin/prometheus) with deploy/prometheus's job
// (consul_sd_configs: server, read-only token, services, tags) and alert
// rules: Prometheus must discover the daemon through the agent, scrape it,
// answer queries, and fire CarbonioHealthCheckCritical when a socket the
// node declares goes away, then resolve it when the socket is back.
// `promtool check metrics` finds nothing to say about a live scrape.
func TestPrometheusScrapesTheDaemon(t *testing.T) {
	prom := prometheusBinary(t)
	agent := consultest.Start(t, consultest.Options{ACL: true, ScriptChecks: consultest.ScriptChecksLocal})
	admin := agent.Client(t, agent.ManagementToken)
	readToken := consultest.PolicyToken(t, admin, "prometheus-read", "../../deploy/consul/acl-status-policy.hcl")

	// The node: the built-in "all" role (script checks run by the agent
	// through a wrapper that makes this test binary the real command) and a
	// socket TTL check evaluated in-process.
	tmp := t.TempDir()
	sock := filepath.Join(tmp, "db.sock")
	sockLn := consultest.Listen(t, "unix", sock)
	confDir := filepath.Join(tmp, "etc")
	writeFile(t, filepath.Join(confDir, "node.hcl"), fmt.Sprintf(`
role "t" {
  service "db" {
    check "socket" {
      type     = "ttl"
      probe    = "socket"
      args     = { p = %q, C = true }
      interval = "1s"
    }
  }
}
node { roles = ["t"] }
`, sock))
	self := filepath.Join(tmp, "carbonio-health")
	writeFile(t, self, fmt.Sprintf("#!/bin/sh\nCARBONIO_HEALTH_AS_BINARY=1 exec %q \"$@\"\n", os.Args[0]))
	if err := os.Chmod(self, 0o755); err != nil {
		t.Fatal(err)
	}
	// The daemon's token: what `setup` creates for this node and declaration.
	mgmt := filepath.Join(tmp, "management-token")
	writeFile(t, mgmt, agent.ManagementToken)
	tokenFile := filepath.Join(tmp, "token")
	var setupOut strings.Builder
	if code := dispatch(context.Background(), []string{"setup", "-http-addr", agent.Addr, "-token-file", mgmt,
		"-config-dir", confDir, "-out", tokenFile}, &setupOut, &setupOut); code != 0 {
		t.Fatalf("setup: exit %d\n%s", code, setupOut.String())
	}

	ctx, cancel := context.WithCancel(context.Background())
	var logs syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- dispatch(ctx, []string{"run", "-http-addr", agent.Addr, "-token-file", tokenFile,
			"-config-dir", confDir, "-agent-config-dir", agent.ConfigDir, "-self", self,
			"-metrics-addr", "127.0.0.1:0", "-log-level", "warn"}, io.Discard, &logs)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		if t.Failed() {
			t.Logf("daemon log:\n%s", logs.String())
		}
	})

	// The daemon registered its endpoint, owned like its other services.
	var exporter *api.AgentService
	consultest.Eventually(t, "the carbonio-health service in the agent", func() bool {
		exporter, _, _ = admin.Agent().Service(registrar.ExporterName, nil)
		return exporter != nil
	})
	if !registrar.Owned(exporter) || exporter.Tags[0] != registrar.ExporterTag || exporter.Meta[registrar.MetaPromPort] != fmt.Sprint(exporter.Port) {
		t.Errorf("exporter registration: tags %v, meta %v, port %d", exporter.Tags, exporter.Meta, exporter.Port)
	}

	// Prometheus with the shipped job, the test's agent and token.
	job, err := os.ReadFile(prometheusJob)
	if err != nil {
		t.Fatal(err)
	}
	cfg := mustReplace(t, string(job), regexp.MustCompile(`server: localhost:8500`), "server: "+agent.Addr)
	cfg = mustReplace(t, cfg, regexp.MustCompile(`token: ".*"`), fmt.Sprintf("token: %q", readToken))
	cfg = "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files: [carbonio-health.rules.yml]\n" + cfg
	// The shipped rules, their waits (for: 5m, …) cut to 2 s.
	rules, err := os.ReadFile(prometheusRules)
	if err != nil {
		t.Fatal(err)
	}
	fast := regexp.MustCompile(`(?m)^(\s+for: )\S+$`).ReplaceAllString(string(rules), "${1}2s")
	promAddr := startPrometheus(t, prom, cfg, map[string]string{"carbonio-health.rules.yml": fast})

	// Its own view: the target discovered through Consul, and up.
	consultest.Eventually(t, "Prometheus to scrape carbonio-health successfully", func() bool {
		var targets struct {
			ActiveTargets []struct {
				DiscoveredLabels map[string]string `json:"discoveredLabels"`
				Labels           map[string]string `json:"labels"`
				Health           string            `json:"health"`
				LastError        string            `json:"lastError"`
			} `json:"activeTargets"`
		}
		promAPI(t, promAddr, "/api/v1/targets", &targets)
		for _, tg := range targets.ActiveTargets {
			if tg.Labels["job"] != "carbonio-health" {
				continue
			}
			if tg.DiscoveredLabels["__meta_consul_service"] != registrar.ExporterName || tg.Labels["node"] != agent.NodeName ||
				tg.DiscoveredLabels["__address__"] != fmt.Sprintf("127.0.0.1:%d", exporter.Port) {
				t.Fatalf("target not as discovered through Consul: %v %v", tg.DiscoveredLabels, tg.Labels)
			}
			if tg.LastError != "" {
				t.Logf("scrape: %s", tg.LastError)
			}
			return tg.Health == "up"
		}
		return false
	})

	// And a query over what it scraped.
	queries := []struct{ query, want string }{
		{`carbonio_health_agent_up{job="carbonio-health"}`, "1"},
		{`carbonio_health_check_status{service="carbonio-t-db",status="passing"}`, "1"},
		{`count(carbonio_health_perfdata_seconds{service="carbonio-t-db",label="time"})`, "1"},
		{`carbonio_health_reconcile_writes_total{kind="register"} > 0`, ""},
		{`carbonio_health_ttl_pushes_total > 0`, ""},
		{`carbonio_health_probe_duration_seconds_count{probe="socket"} > 0`, ""},
		{`carbonio_health_build_info{version="` + version + `"}`, "1"},
	}
	for _, q := range queries {
		consultest.Eventually(t, "the query "+q.query, func() bool {
			var res struct {
				Result []struct {
					Value [2]any `json:"value"`
				} `json:"result"`
			}
			promAPI(t, promAddr, "/api/v1/query?query="+url.QueryEscape(q.query), &res)
			return len(res.Result) == 1 && (q.want == "" || res.Result[0].Value[1] == q.want)
		})
	}

	// promtool's lint of a live scrape: names, units, suffixes, help.
	checkMetricsLint(t, fmt.Sprintf("http://127.0.0.1:%d/metrics", exporter.Port))

	// Every query of the Grafana dashboard evaluates on this Prometheus
	// (matching errors only show there), and those about checks see some.
	dashboardQueriesEvaluate(t, promAddr, agent.NodeName)

	// A real failure: the socket goes away. The rules' CheckCritical fires
	// for this node, role and service, and resolves once the socket is back.
	alertOf := func() string { return socketAlert(t, promAddr, agent.NodeName) }
	if st := alertOf(); st != "" {
		t.Fatalf("CarbonioHealthCheckCritical is %s before any failure", st)
	}
	sockLn.Close() // removes the socket file
	consultest.Eventually(t, "CarbonioHealthCheckCritical firing for carbonio-t-db", func() bool { return alertOf() == "firing" })
	consultest.Listen(t, "unix", sock)
	consultest.Eventually(t, "CarbonioHealthCheckCritical resolved", func() bool { return alertOf() == "" })
}

// socketAlert returns the state of Prometheus's CarbonioHealthCheckCritical
// alert for the test's socket service on node ("" when there is none).
func socketAlert(t *testing.T, promAddr, node string) string {
	var res struct {
		Alerts []struct {
			Labels map[string]string `json:"labels"`
			State  string            `json:"state"`
		} `json:"alerts"`
	}
	promAPI(t, promAddr, "/api/v1/alerts", &res)
	for _, a := range res.Alerts {
		l := a.Labels
		if l["alertname"] != "CarbonioHealthCheckCritical" || l["service"] != "carbonio-t-db" {
			continue // the built-in "all" role's checks fail here too (no network)
		}
		if l["node"] != node || l["role"] != "t" || l["check"] != "carbonio-health:t:db:socket" || l["severity"] != "critical" {
			t.Fatalf("CarbonioHealthCheckCritical with labels %v", l)
		}
		return a.State
	}
	return ""
}

// dashboardFile is the Grafana dashboard deploy/grafana generates.
const dashboardFile = "../../deploy/grafana/carbonio-health.json"

// dashboardQueriesEvaluate runs every panel query of the dashboard, with
// Grafana's variables set for node, through Prometheus's query API: each
// must evaluate, and the check panels must return series.
func dashboardQueriesEvaluate(t *testing.T, promAddr, node string) {
	t.Helper()
	src, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(src, &d); err != nil {
		t.Fatal(err)
	}
	vars := strings.NewReplacer("$node", node, "$role", ".*", "$__rate_interval", "10s")
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			q := vars.Replace(tg.Expr)
			var res struct {
				Result []json.RawMessage `json:"result"`
			}
			promAPI(t, promAddr, "/api/v1/query?query="+url.QueryEscape(q), &res) // fails the test on an error
			if strings.HasPrefix(p.Title, "Check") && len(res.Result) == 0 {
				t.Errorf("dashboard panel %q: no series for %s", p.Title, q)
			}
		}
	}
}

// checkMetricsLint runs `promtool check metrics` on one scrape of url.
func checkMetricsLint(t *testing.T, url string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape %s: %d %v", url, resp.StatusCode, err)
	}
	cmd := exec.Command(consultest.Built(t, "CARBONIO_HEALTH_PROMTOOL", "promtool"), "check", "metrics")
	cmd.Stdin = bytes.NewReader(body)
	if out, err := cmd.CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("promtool check metrics on a live scrape (%d bytes): %v\n%s", len(body), err, out)
	}
}

// TestDocQuotesPrometheusJob: the copy-paste block of
// deploy/prometheus/README.md is the job the test above ran.
func TestDocQuotesPrometheusJob(t *testing.T) {
	job, err := os.ReadFile(prometheusJob)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(prometheusDoc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(doc, []byte("```yaml\n"+string(job)+"```\n")) {
		t.Errorf("%s does not quote %s verbatim in a yaml block", prometheusDoc, prometheusJob)
	}
}

// prometheusBinary returns the pinned Prometheus ($CARBONIO_HEALTH_PROMETHEUS,
// else bin/prometheus, built by `make prometheus`; Debian's package lacks
// Consul discovery).
func prometheusBinary(t *testing.T) string {
	return consultest.Built(t, "CARBONIO_HEALTH_PROMETHEUS", "prometheus")
}

// startPrometheus runs prometheus with cfg (and files beside it, by name)
// on a free port and a temp storage dir until the test ends, and returns
// its address once ready.
func startPrometheus(t *testing.T, bin, cfg string, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "prometheus.yml"), cfg)
	for name, content := range files {
		writeFile(t, filepath.Join(dir, name), content)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", freeport.GetOne(t))
	var out syncBuffer
	cmd := exec.Command(bin, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+addr, "--log.level=warn")
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("prometheus output:\n%s", out.String())
		}
	})
	consultest.Eventually(t, "Prometheus ready", func() bool {
		resp, err := http.Get("http://" + addr + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return addr
}

// promAPI GETs a Prometheus API path and decodes its data field into v.
func promAPI(t *testing.T, addr, path string, v any) {
	t.Helper()
	resp, err := http.Get("http://" + addr + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Status string          `json:"status"`
		Data   json.RawMessage `json:"data"`
		Error  string          `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.Status != "success" {
		t.Fatalf("%s: status %q error %q decode %v", path, body.Status, body.Error, err)
	}
	if err := json.Unmarshal(body.Data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// mustReplace replaces the one match of re in s, failing when there is none.
func mustReplace(t *testing.T, s string, re *regexp.Regexp, with string) string {
	t.Helper()
	if n := len(re.FindAllString(s, -1)); n != 1 {
		t.Fatalf("%s: %d matches of %s, want 1", prometheusJob, n, re)
	}
	return re.ReplaceAllLiteralString(s, with)
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// syncBuffer is a bytes.Buffer safe for a process's and the test's use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestMetricsAddrStatedOnce: the metrics endpoint's default address is
// the same in `run -h`, the shipped unit and the READMEs.
func TestMetricsAddrStatedOnce(t *testing.T) {
	var help strings.Builder
	dispatch(context.Background(), []string{"run", "-h"}, io.Discard, &help)
	if want := `(default "` + DefaultMetricsAddr + `")`; !strings.Contains(help.String(), want) {
		t.Errorf("run -h does not say %s:\n%s", want, help.String())
	}
	for _, f := range []struct{ path, want string }{
		{"../../deploy/systemd/carbonio-health.service", "\nEnvironment=METRICS_ADDR=" + DefaultMetricsAddr + "\n"},
		{"../../README.md", "(default `" + DefaultMetricsAddr + "`"},
		{"../../deploy/prometheus/README.md", "(default `" + DefaultMetricsAddr + "`"},
	} {
		src, err := os.ReadFile(f.path)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(src), f.want) {
			t.Errorf("%s does not state the default as %q", f.path, f.want)
		}
	}
}
