package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/hashicorp/go-hclog"

	"github.com/zextras/carbonio-health/hcl"
	"github.com/zextras/carbonio-health/registrar"
	"github.com/zextras/carbonio-health/registrar/consultest"
)

// The shared cluster of the cluster tests: 3 servers and 3 clients
// (consultest.StartCluster), each client running the daemon with a role of
// its own. It starts with the first test that asks for it and stops in
// TestMain; a test that changes it puts it back as it found it.

// Policy files the cluster tests create tokens from.
const (
	daemonPolicyFile = "../../deploy/consul/acl-policy.hcl"
	statusPolicyFile = "../../deploy/consul/acl-status-policy.hcl"
)

// clusterRoles are the clients' declarations, one role each: a TCP check
// run by the agent, a TTL check fed by the daemon (a socket) and a script
// check (through the agent config fragment, as enable_local_script_checks
// wants). The mta client is the example node of the shipped daemon policy
// (exampleNode): its daemon runs with a token of deploy/consul/acl-policy.hcl
// as it is, so its services bear names of the example's catalog
// (exampleNames); the others run with a token of the policy `setup` creates
// for their node and declaration (daemonRules).
var (
	clusterRoles = []string{"mta", "proxy", "store"}
	clusterNames = []string{exampleNode}
	exampleNames = map[string]string{"tcp": "carbonio-mta-smtp", "sock": "carbonio-mta-clamav", "script": "carbonio-mta-units"}
)

var shared struct {
	once sync.Once
	f    *clusterFixture
	err  error
	took time.Duration
}

// clusterFixture is the running cluster with its daemons.
type clusterFixture struct {
	*consultest.Cluster
	// Daemons run on the clients, in the same order.
	Daemons []*clusterDaemon
	// StatusToken holds only deploy/consul/acl-status-policy.hcl.
	StatusToken string
}

// clusterDaemon is the daemon of one client node and what it checks.
type clusterDaemon struct {
	Node  *consultest.Node
	Role  string
	Token *api.ACLToken
	Logs  *lineLog
	// Sock is the socket its TTL check watches; Listener the TCP port.
	Sock     string
	Listener net.Listener

	cancel context.CancelFunc
	done   chan error
}

// sharedCluster returns the package's cluster, starting it the first time.
func sharedCluster(t *testing.T) *clusterFixture {
	t.Helper()
	shared.once.Do(func() {
		start := time.Now()
		shared.f, shared.err = startClusterFixture(consultest.Binary(t))
		shared.took = time.Since(start)
	})
	if shared.err != nil {
		t.Fatalf("cluster: %v", shared.err)
	}
	t.Logf("shared cluster (started in %v): logs under %s", shared.took.Round(time.Millisecond), shared.f.Dir)
	return shared.f
}

// stopSharedCluster stops the cluster if a test started it (TestMain).
func stopSharedCluster() {
	if shared.f != nil {
		shared.f.stop()
	}
}

func startClusterFixture(bin string) (*clusterFixture, error) {
	c, err := consultest.StartCluster(bin, consultest.ClusterOptions{Servers: 3, Clients: len(clusterRoles), ClientNames: clusterNames})
	if err != nil {
		return nil, err
	}
	f := &clusterFixture{Cluster: c}
	fail := func(err error) (*clusterFixture, error) {
		f.stopDaemons()
		f.Close()
		return nil, fmt.Errorf("%w (daemon logs: %s/*/daemon.log)", err, c.Dir)
	}
	status, err := os.ReadFile(statusPolicyFile)
	if err != nil {
		return fail(err)
	}
	tok, err := c.CreateToken("carbonio-health-status", string(status), "")
	if err != nil {
		return fail(err)
	}
	f.StatusToken = tok.SecretID
	for i, n := range c.Clients {
		rules, err := clusterDaemonRules(n.Name, clusterRoles[i])
		if err != nil {
			return fail(err)
		}
		tok, err := c.CreateToken(policyName(n.Name), rules, "")
		if err != nil {
			return fail(err)
		}
		d, err := startClusterDaemon(n, clusterRoles[i], tok, filepath.Join(c.Dir, n.Name))
		if err != nil {
			return fail(err)
		}
		f.Daemons = append(f.Daemons, d)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := f.waitCatalogTrue(ctx); err != nil {
		return fail(err)
	}
	return f, nil
}

// clusterDaemonRules are the rules of the daemon token of node declaring
// role: deploy/consul/acl-policy.hcl as it is on the example node, else
// what `setup` creates for the node and its declaration.
func clusterDaemonRules(node, role string) (string, error) {
	if node == exampleNode {
		b, err := os.ReadFile(daemonPolicyFile)
		return string(b), err
	}
	plan, err := hcl.LoadSources(hcl.Options{NoBuiltin: true}, []hcl.Source{{Name: "node.hcl", Src: []byte(roleDecl(role, 1, "/run/x.sock"))}})
	if err != nil {
		return "", err
	}
	return renderRules("carbonio-health run on "+node, daemonRules(plan, node)), nil
}

// serviceName is the name of the service key of role in roleDecl.
func serviceName(role, key string) string {
	if role == "mta" {
		return exampleNames[key]
	}
	return "carbonio-" + role + "-" + key
}

// roleDecl is the declaration of a client node: three services of role.
func roleDecl(role string, port int, sock string) string {
	return fmt.Sprintf(`
role %[1]q {
  service "tcp" {
    name = %[4]q
    port = %[2]d
    check "tcp" { interval = "1s" }
  }
  service "sock" {
    name = %[5]q
    check "present" {
      type     = "ttl"
      probe    = "socket"
      args     = { p = %[3]q }
      interval = "1s"
      ttl      = "3s"
    }
  }
  service "script" {
    name = %[6]q
    check "sh" {
      type     = "script"
      command  = ["/bin/sh", "-c", "echo %[1]s script OK"]
      interval = "2s"
    }
  }
}
node { roles = [%[1]q] }
`, role, port, sock, serviceName(role, "tcp"), serviceName(role, "sock"), serviceName(role, "script"))
}

// startClusterDaemon writes the node's declaration, opens what it checks,
// and runs the daemon with its token until stop; it waits for the first
// reconcile.
func startClusterDaemon(n *consultest.Node, role string, tok *api.ACLToken, dir string) (*clusterDaemon, error) {
	logf, err := os.Create(filepath.Join(dir, "daemon.log"))
	if err != nil {
		return nil, err
	}
	d := &clusterDaemon{Node: n, Role: role, Token: tok, Logs: &lineLog{file: logf}, Sock: filepath.Join(dir, role+".sock")}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	d.Listener = l
	consultest.Serve(l)
	if _, err := reopenSocket(d); err != nil {
		return nil, err
	}
	decl := filepath.Join(dir, "decl")
	if err := os.MkdirAll(decl, 0o755); err != nil {
		return nil, err
	}
	src := roleDecl(role, l.Addr().(*net.TCPAddr).Port, d.Sock)
	if err := os.WriteFile(filepath.Join(decl, "node.hcl"), []byte(src), 0o644); err != nil {
		return nil, err
	}
	opts := hcl.Options{NoBuiltin: true, ConfigDirs: []string{decl}}
	ready := make(chan struct{})
	daemon := &registrar.Daemon{
		Client: n.Client(tok.SecretID), AgentAddress: n.Addr, AgentConfigDir: n.ConfigDir,
		Log:     hclog.New(&hclog.LoggerOptions{Name: n.Name, Output: d.Logs, Level: hclog.Debug}),
		Load:    func() (*hcl.Plan, error) { return hcl.Load(opts) },
		Ready:   ready,
		Options: registrar.Options{Heartbeat: true},
	}
	ctx, cancel := context.WithCancel(context.Background())
	d.cancel, d.done = cancel, make(chan error, 1)
	go func() { d.done <- daemon.Run(ctx) }()
	select {
	case <-ready:
		return d, nil
	case err := <-d.done:
		return nil, fmt.Errorf("daemon on %s: %w", n.Name, err)
	case <-time.After(time.Minute):
		cancel()
		return nil, fmt.Errorf("daemon on %s not ready after a minute:\n%s", n.Name, d.Logs)
	}
}

// CheckIDs are the IDs of the node's declared checks, then the daemon's
// heartbeat.
func (d *clusterDaemon) CheckIDs() []string {
	p := hcl.IDPrefix + d.Role + ":"
	return []string{p + "tcp:tcp", p + "sock:present", p + "script:sh", registrar.HeartbeatCheckID}
}

func (f *clusterFixture) stop() {
	f.stopDaemons()
	f.Close()
	_ = os.RemoveAll(f.Dir)
}

func (f *clusterFixture) stopDaemons() {
	for _, d := range f.Daemons {
		d.cancel()
		<-d.done
		d.Listener.Close()
	}
}

// catalogChecks returns the catalog's checks of every node, by node then
// check ID, read from a server with the management token.
func (f *clusterFixture) catalogChecks() (map[string]map[string]*api.HealthCheck, error) {
	checks, _, err := f.Admin().Health().State(api.HealthAny, nil)
	if err != nil {
		return nil, err
	}
	out := map[string]map[string]*api.HealthCheck{}
	for _, c := range checks {
		if out[c.Node] == nil {
			out[c.Node] = map[string]*api.HealthCheck{}
		}
		out[c.Node][c.CheckID] = c
	}
	return out, nil
}

// catalogTrue says what is wrong with the catalog: every daemon's checks
// present once and passing, every node's serfHealth passing but for the
// nodes down ("" = right).
func (f *clusterFixture) catalogTrue(down ...*consultest.Node) string {
	all, err := f.catalogChecks()
	if err != nil {
		return err.Error()
	}
	var wrong []string
	for _, n := range f.Nodes() {
		if slices.Contains(down, n) {
			continue
		}
		if st := all[n.Name]["serfHealth"]; st == nil || st.Status != api.HealthPassing {
			wrong = append(wrong, n.Name+" serfHealth not passing")
		}
	}
	for _, d := range f.Daemons {
		for _, id := range d.CheckIDs() {
			c := all[d.Node.Name][id]
			switch {
			case c == nil:
				wrong = append(wrong, d.Node.Name+" "+id+" missing")
			case c.Status != api.HealthPassing:
				wrong = append(wrong, fmt.Sprintf("%s %s %s", d.Node.Name, id, c.Status))
			}
		}
	}
	return strings.Join(wrong, "; ")
}

// waitCatalogTrue waits until catalogTrue has nothing to say.
func (f *clusterFixture) waitCatalogTrue(ctx context.Context, down ...*consultest.Node) error {
	last := ""
	for {
		if last = f.catalogTrue(down...); last == "" {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("catalog not right: %s", last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// restore puts the cluster back as the tests expect it: every agent
// running, a leader, the catalog true. Tests that stop or pause agents
// defer it.
func (f *clusterFixture) restore(t *testing.T) {
	t.Helper()
	for _, n := range f.Nodes() {
		_ = n.Resume()
		if !n.Running() {
			if err := n.Start(); err != nil {
				t.Fatal(err)
			}
		}
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := f.WaitHealthy(ctx); err != nil {
		t.Fatal(err)
	}
	healthy := time.Now()
	if err := f.waitCatalogTrue(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("cluster restored: serfHealth all passing after %v, catalog true after %v",
		healthy.Sub(start).Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
}

// lineLog keeps a daemon's log lines for assertions.
type lineLog struct {
	mu    sync.Mutex
	lines []string
	file  *os.File // a copy, for the post-mortem
}

func (l *lineLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.file != nil {
		_, _ = l.file.Write(p)
	}
	for _, s := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		l.lines = append(l.lines, s)
	}
	return len(p), nil
}

// Lines returns the lines logged so far.
func (l *lineLog) Lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

// Count returns how many lines contain s.
func (l *lineLog) Count(s string) int { return len(l.Since(0, s)) }

// Since returns the lines containing s logged after the first mark lines.
func (l *lineLog) Since(mark int, s string) []string {
	var out []string
	for _, line := range l.Lines()[mark:] {
		if strings.Contains(line, s) {
			out = append(out, line)
		}
	}
	return out
}

func (l *lineLog) String() string { return strings.Join(l.Lines(), "\n") }

// reopenSocket listens on the daemon's socket path again (after a test
// removed it).
func reopenSocket(d *clusterDaemon) (net.Listener, error) {
	l, err := net.Listen("unix", d.Sock)
	if err != nil {
		return nil, err
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	consultest.Serve(l)
	return l, nil
}
