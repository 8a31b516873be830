package registrar

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/zextras/carbonio-health/hcl"
	"github.com/zextras/carbonio-health/registrar/consultest"
)

// presenceDecl declares two disk folders: store, mandatory on the node's
// role, and backup, checked only while it exists.
func presenceDecl(store, backup string) string {
	return fmt.Sprintf(`
role "t" {
  service "store" {
    if_present  = %[1]q
    required_by = ["t"]
    check "disk" {
      type     = "ttl"
      probe    = "disk"
      args     = { p = %[1]q, used-critical = "100%%" }
      interval = "1s"
    }
  }
  service "backup" {
    if_present = %[2]q
    check "disk" {
      type     = "ttl"
      probe    = "disk"
      args     = { p = %[2]q, used-critical = "100%%" }
      interval = "1s"
    }
  }
}
node { roles = ["t"] }
`, store, backup)
}

// TestDaemonFollowsFolders: with a real agent and real folders, an optional
// folder created after the start gets its service and a passing check with
// no reload, and loses them when it goes away; a mandatory folder that goes
// away keeps its service, critical.
func TestDaemonFollowsFolders(t *testing.T) {
	n := newNodeFixture(t, consultest.Options{}, false)
	root := t.TempDir()
	store, backup := filepath.Join(root, "store"), filepath.Join(root, "backup")
	if err := os.Mkdir(store, 0o755); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "node.hcl"), []byte(presenceDecl(store, backup)), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := hcl.Options{NoBuiltin: true, ConfigDirs: []string{dir}, DeferPresence: true}
	w := &testWriter{t: t}
	d := &Daemon{Client: n.client, Log: loggerTo(t, w), Load: func() (*hcl.Plan, error) { return hcl.Load(opts) }}
	startDaemon(t, d)

	const storeID, backupID = "carbonio-health:t:store", "carbonio-health:t:backup"
	has := func(id string) bool { _, ok := owned(t, n.client)[id]; return ok }
	status := func(id string) (string, string) { return checkStatus(t, n.client, id+":disk") }
	consultest.Eventually(t, "the store's check passing", func() bool { s, _ := status(storeID); return s == api.HealthPassing })
	if has(backupID) {
		t.Fatal("backup registered before its folder exists")
	}

	steps := []struct {
		name   string
		act    func() error
		id     string
		want   string // the check's status; "" = the service is gone
		output string // a part of the check's output
	}{
		{"optional folder created", func() error { return os.Mkdir(backup, 0o755) }, backupID, api.HealthPassing, "DISK OK"},
		{"optional folder removed", func() error { return os.Remove(backup) }, backupID, "", ""},
		{"mandatory folder removed", func() error { return os.Remove(store) }, storeID, api.HealthCritical, "is not accessible"},
		{"mandatory folder back", func() error { return os.Mkdir(store, 0o755) }, storeID, api.HealthPassing, "DISK OK"},
		{"optional folder created again", func() error { return os.Mkdir(backup, 0o755) }, backupID, api.HealthPassing, "DISK OK"},
	}
	for _, s := range steps {
		if err := s.act(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		consultest.Eventually(t, s.name, func() bool {
			if s.want == "" {
				return !has(s.id)
			}
			st, out := status(s.id)
			return st == s.want && strings.Contains(out, s.output)
		})
		if !has(storeID) {
			t.Fatalf("%s: the mandatory store service is gone", s.name)
		}
	}
	if !w.contains("folders changed") {
		t.Error("the daemon did not log the folder changes")
	}
}

func TestPresencePeriod(t *testing.T) {
	svc := func(ifPresent string, intervals ...time.Duration) hcl.Service {
		s := hcl.Service{IfPresent: ifPresent}
		for _, i := range intervals {
			s.Checks = append(s.Checks, hcl.Check{Interval: i})
		}
		return s
	}
	tests := []struct {
		name     string
		services []hcl.Service
		want     time.Duration
	}{
		{"nothing conditional", []hcl.Service{svc("", time.Second)}, 0},
		{"the shortest conditional interval", []hcl.Service{svc("", time.Second), svc("/a", time.Minute, 30*time.Second), svc("/b", 45*time.Second)}, 30 * time.Second},
		{"a conditional service without checks", []hcl.Service{svc("/a")}, hcl.DefaultInterval},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := presencePeriod(&hcl.Plan{Services: tt.services}); got != tt.want {
				t.Errorf("period %s, want %s", got, tt.want)
			}
		})
	}
}
