package registrar

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/hashicorp/go-hclog"

	"github.com/zextras/carbonio-health/hcl"
	"github.com/zextras/carbonio-health/registrar/consultest"
)

// Helpers shared by the integration tests: a declaration written to a temp
// dir, a daemon running in the background, and polling of the agent.

// testLogger writes to the test log.
func testLogger(t *testing.T) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Name: t.Name(), Output: &testWriter{t: t}, Level: hclog.Debug})
}

type testWriter struct {
	mu sync.Mutex
	t  *testing.T
	// lines keeps what was logged, for assertions.
	lines []string
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.lines = append(w.lines, string(p))
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// declDir writes src as node.hcl in a new temp dir and returns a loader
// for it (without the built-in catalog) and the file's path.
func declDir(t *testing.T, src string) (func() (*hcl.Plan, error), string) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "node.hcl")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := hcl.Options{NoBuiltin: true, ConfigDirs: []string{dir}}
	return func() (*hcl.Plan, error) { return hcl.Load(opts) }, path
}

// runningDaemon runs d in the background until the test ends (or stop is
// called) and waits for its first successful reconcile.
type runningDaemon struct {
	stop func()
	done chan error
}

func startDaemon(t *testing.T, d *Daemon) *runningDaemon {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	d.Ready = ready
	if d.Log == nil {
		d.Log = testLogger(t)
	}
	r := &runningDaemon{stop: cancel, done: make(chan error, 1)}
	go func() { r.done <- d.Run(ctx) }()
	t.Cleanup(func() { r.Stop(t) })
	select {
	case <-ready:
	case err := <-r.done:
		r.done <- err // for Stop in the cleanup, which would wait 30 s otherwise
		t.Fatalf("daemon ended before it was ready: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("daemon not ready after 30 s")
	}
	return r
}

// Stop cancels the daemon and returns what Run returned; idempotent.
func (r *runningDaemon) Stop(t *testing.T) error {
	t.Helper()
	r.stop()
	select {
	case err, ok := <-r.done:
		if ok {
			close(r.done)
		}
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("daemon did not stop within 30 s")
		return nil
	}
}

// owned returns the agent's services this tool owns, by ID.
func owned(t *testing.T, c *api.Client) map[string]*api.AgentService {
	t.Helper()
	all, err := c.Agent().Services()
	if err != nil {
		t.Fatalf("agent services: %v", err)
	}
	out := map[string]*api.AgentService{}
	for id, s := range all {
		if Owned(s) {
			out[id] = s
		}
	}
	return out
}

// checkStatus returns a check's status and output in the agent ("" when
// the agent does not know it).
func checkStatus(t *testing.T, c *api.Client, id string) (string, string) {
	t.Helper()
	checks, err := c.Agent().Checks()
	if err != nil {
		return "", err.Error()
	}
	if ck, ok := checks[id]; ok {
		return ck.Status, ck.Output
	}
	return "", ""
}

// loggerTo is testLogger writing through w, so lines can be asserted.
func loggerTo(t *testing.T, w *testWriter) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Name: t.Name(), Output: w, Level: hclog.Debug})
}

func (w *testWriter) snapshot() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.lines...)
}

func (w *testWriter) contains(s string) bool {
	for _, l := range w.snapshot() {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}

func contextWithCancel() (context.Context, context.CancelFunc) {
	return context.WithCancel(context.Background())
}

// nodeFixture is one node of a test: a real agent (client with the management
// token), a TCP listener for the web service and a socket path for the
// sock service of nodeDecl / ttlOnlyDecl, with a live socket when asked.
type nodeFixture struct {
	agent  *consultest.Agent
	client *api.Client
	port   int
	sock   string
	socket net.Listener // nil unless started with the socket up
}

func newNodeFixture(t *testing.T, opts consultest.Options, socketUp bool) *nodeFixture {
	t.Helper()
	n := &nodeFixture{agent: consultest.Start(t, opts)}
	n.client = n.agent.Client(t, n.agent.ManagementToken)
	n.port = consultest.Listen(t, "tcp", "").Addr().(*net.TCPAddr).Port
	n.sock = filepath.Join(t.TempDir(), "s.sock")
	if socketUp {
		n.socket = consultest.Listen(t, "unix", n.sock)
	}
	return n
}

// declare writes the node's declaration (with the script service or not)
// and returns its loader and path.
func (n *nodeFixture) declare(t *testing.T, withScript bool) (func() (*hcl.Plan, error), string) {
	t.Helper()
	if withScript {
		return declDir(t, nodeDecl(n.port, n.sock))
	}
	return declDir(t, ttlOnlyDecl(n.port, n.sock))
}
