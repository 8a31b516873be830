package registrar

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/consul/api"

	"github.com/zextras/carbonio-health/registrar/consultest"
)

// TestDaemonDirsizeFollowsTheTree: a dirsize TTL check run by the daemon
// (its probe built once and started, its index kept between runs) reports
// what du -sxB1 reports, before and after the tree changes.
func TestDaemonDirsizeFollowsTheTree(t *testing.T) {
	agent := consultest.Start(t, consultest.Options{})
	client := agent.Client(t, agent.ManagementToken)
	tree := t.TempDir()
	for i := 0; i < 50; i++ {
		write(t, filepath.Join(tree, fmt.Sprintf("d%d/f%d", i%5, i)), i*1000)
	}
	load, _ := declDir(t, fmt.Sprintf(`
role "t" {
  service "store" {
    check "size" {
      type     = "ttl"
      probe    = "dirsize"
      args     = { p = %q, w = "5M", c = "1G" }
      interval = "1s"
    }
  }
}
node { roles = ["t"] }
`, tree))
	startDaemon(t, &Daemon{Client: client, Log: testLogger(t), Load: load})
	const id = "carbonio-health:t:store:size"
	du := func() string {
		out, err := exec.Command("du", "-sxB1", tree).Output()
		if err != nil {
			t.Fatal(err)
		}
		return strings.Fields(string(out))[0]
	}
	for _, step := range []struct {
		name   string
		act    func()
		status string
	}{
		{"first walk", func() {}, api.HealthPassing},
		{"files added", func() { write(t, filepath.Join(tree, "d9/big"), 8<<20) }, api.HealthWarning},
		{"folder removed", func() { os.RemoveAll(filepath.Join(tree, "d9")) }, api.HealthPassing},
	} {
		step.act()
		want := du()
		consultest.Eventually(t, step.name, func() bool {
			st, out := checkStatus(t, client, id)
			return st == step.status && strings.Contains(out, " "+want+" B used")
		})
	}
}

func write(t *testing.T, path string, n int) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, make([]byte, n), 0o644); err != nil {
		t.Fatal(err)
	}
}
