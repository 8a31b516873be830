package registrar

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/zextras/carbonio-health/registrar/consultest"
)

// TestDaemonDirsizeFollowsTheTree: a dirsize TTL check run by the daemon
// (its probe built once and started, its tree kept between runs) reports
// what du -sxB1 reports, before and after the tree changes (full output,
// as run -full-output stores it). Its first result after the start is the
// figure: the first run waits for the first walk of a small tree, it does
// not push "not measured yet" (critical, then held by flap damping).
func TestDaemonDirsizeFollowsTheTree(t *testing.T) {
	tree := t.TempDir()
	for i := 0; i < 50; i++ {
		write(t, filepath.Join(tree, fmt.Sprintf("d%d/f%d", i%5, i)), i*1000)
	}
	client, id, logs := startDirsizeDaemon(t, tree, "5M", Options{FullOutput: true})
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
	if logs.contains("not measured yet") {
		t.Errorf("the check was pushed 'not measured yet' after the start of a 50-file tree:\n%s", strings.Join(logs.snapshot(), ""))
	}
}

// TestDaemonDirsizeGrowingFolderIsSteady: a folder that grows all the time
// (a log being written) keeps the same stored output while its state
// holds, so it costs no catalog write; its status still follows it.
func TestDaemonDirsizeGrowingFolderIsSteady(t *testing.T) {
	tree := t.TempDir()
	client, id, _ := startDirsizeDaemon(t, tree, "1M", Options{})
	consultest.Eventually(t, "first measure", func() bool {
		st, _ := checkStatus(t, client, id)
		return st == api.HealthPassing
	})
	outputs := map[string]bool{}
	f, err := os.Create(filepath.Join(tree, "app.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for i := 0; i < 40; i++ { // 16 KiB a tenth of a second, 4 s: under 1 MiB
		if _, err := f.Write(make([]byte, 16<<10)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
		st, out := checkStatus(t, client, id)
		if st != api.HealthPassing {
			t.Fatalf("growing under the warning threshold: %s %s", st, out)
		}
		outputs[out] = true
	}
	if len(outputs) != 1 {
		t.Fatalf("the stored output moved while the folder grew: %v", outputs)
	}
	if _, err := f.Write(make([]byte, 2<<20)); err != nil {
		t.Fatal(err)
	}
	consultest.Eventually(t, "over the warning threshold", func() bool {
		st, out := checkStatus(t, client, id)
		return st == api.HealthWarning && strings.Contains(out, "beyond the warning threshold")
	})
}

// startDirsizeDaemon starts an agent and a daemon with one dirsize TTL
// check of tree (warning over warn, critical over 1G, every second) and
// returns the agent's client, the check's ID and the daemon's log.
func startDirsizeDaemon(t *testing.T, tree, warn string, opts Options) (*api.Client, string, *testWriter) {
	t.Helper()
	agent := consultest.Start(t, consultest.Options{})
	client := agent.Client(t, agent.ManagementToken)
	load, _ := declDir(t, fmt.Sprintf(`
role "t" {
  service "tree" {
    check "size" {
      type     = "ttl"
      probe    = "dirsize"
      args     = { p = %q, w = %q, c = "1G" }
      interval = "1s"
    }
  }
}
node { roles = ["t"] }
`, tree, warn))
	logs := &testWriter{t: t}
	startDaemon(t, &Daemon{Client: client, Log: loggerTo(t, logs), Load: load, Options: opts})
	return client, "carbonio-health:t:tree:size", logs
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
