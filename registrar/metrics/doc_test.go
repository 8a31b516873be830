package metrics

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/zextras/carbonio-health/checkscript"
	"github.com/zextras/carbonio-health/registrar"
)

// metricsDoc is the reference of every metric (its Metrics table), which the
// dashboard's tests (deploy/grafana) read as the list of series the daemon
// exports.
const metricsDoc = "../../deploy/prometheus/README.md"

// documentedNames returns the names in the first column of the Metrics
// table of metricsDoc: exact names, and prefixes for entries ending in *.
func documentedNames(t *testing.T) (names, prefixes []string) {
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
	tick := regexp.MustCompile("`([a-z_]+\\*?)`")
	for _, line := range strings.Split(section, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 3 || !strings.HasPrefix(line, "| `") {
			continue
		}
		for _, m := range tick.FindAllStringSubmatch(cells[1], -1) {
			if p, ok := strings.CutSuffix(m[1], "*"); ok {
				prefixes = append(prefixes, p)
			} else {
				names = append(names, m[1])
			}
		}
	}
	return names, prefixes
}

// TestMetricsDocumented: the Metrics table names exactly the carbonio_health
// families a fully fed daemon exports (every perfdata unit and limit, a TTL
// evaluation, a push, a pass), and every other family is one of the
// standard collectors' prefixes it names.
func TestMetricsDocumented(t *testing.T) {
	names, prefixes := documentedNames(t)
	c := New("dev")
	st := state(true)
	c.Reconciled(st, registrar.Outcome{AgentChecks: agentChecks(map[string][2]string{
		"carbonio-health:all:x:script": {api.HealthPassing, "X OK|n=1c p=20%;50;80;0;100 s=1s;2;3;0;10 b=1B;2;3;0;4 u=1;2;3;0;4"},
	})}, nil)
	c.Probed(st.Services[0].TTL[0], checkscript.Result{}, time.Millisecond)
	c.Pushed(st.Services[0].TTL[0], nil)
	families, err := c.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var ours []string
	for _, f := range families {
		name := f.GetName()
		if strings.HasPrefix(name, "carbonio_health_") {
			ours = append(ours, name)
			continue
		}
		if !slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(name, p) }) {
			t.Errorf("%s is exported but %s names neither it nor its prefix", name, metricsDoc)
		}
	}
	slices.Sort(ours)
	slices.Sort(names)
	if !slices.Equal(ours, names) {
		t.Errorf("%s's Metrics table names\n  %v\nthe daemon exports\n  %v", metricsDoc, names, ours)
	}
}
