package deploy_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zextras/carbonio-health/registrar/consultest"
)

// The alert rules, checked and unit-tested by Prometheus's own promtool
// (bin/promtool, built by `make promtool` from deploy/prometheus-dev, the
// same Prometheus version as the server of the metrics test).
const (
	rulesFile     = "prometheus/carbonio-health.rules.yml"
	rulesTestFile = "prometheus/carbonio-health.rules.test.yml"
)

func promtool(t *testing.T) string {
	t.Helper()
	return consultest.Built(t, "CARBONIO_HEALTH_PROMTOOL", "promtool")
}

// TestAlertRules runs `promtool check rules` (syntax, PromQL, templates,
// lint) and `promtool test rules` (every alert fires on its input series and
// stays silent on those beside it).
func TestAlertRules(t *testing.T) {
	bin := promtool(t)
	for _, args := range [][]string{
		{"check", "rules", "--lint=all", "--lint-fatal", filepath.Base(rulesFile)},
		{"test", "rules", filepath.Base(rulesTestFile)},
	} {
		cmd := exec.Command(bin, args...)
		cmd.Dir = "prometheus"
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// TestAlertRulesBadFile: a rule file that does not parse is refused with
// the file and line at fault, by promtool as by the Prometheus server that
// loads it (cmd/carbonio-health's metrics test loads the good one).
func TestAlertRulesBadFile(t *testing.T) {
	src, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(t.TempDir(), "bad.rules.yml")
	// Break the PromQL of the first rule: line 21 of the shipped file.
	broken := strings.Replace(string(src), `{status="critical",role!="daemon"} == 1`, `{status="critical" == 1`, 1)
	if broken == string(src) {
		t.Fatal("the first rule's expression is not where the test expects it")
	}
	if err := os.WriteFile(bad, []byte(broken), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(promtool(t), "check", "rules", bad).CombinedOutput()
	if err == nil || !strings.Contains(string(out), bad+": 21:") || !strings.Contains(string(out), "parse error") {
		t.Errorf("promtool check rules on a broken file: %v\n%s", err, out)
	}

	// The server refuses to start on it, naming the file and line.
	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte("rule_files: ["+bad+"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv := exec.CommandContext(ctx, consultest.Built(t, "CARBONIO_HEALTH_PROMETHEUS", "prometheus"), "--config.file="+cfg,
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address=127.0.0.1:0")
	out, err = srv.CombinedOutput()
	if err == nil || ctx.Err() != nil || !strings.Contains(string(out), bad+": 21:") {
		t.Errorf("prometheus with a broken rule file: %v (context %v)\n%s", err, ctx.Err(), out)
	}
}
