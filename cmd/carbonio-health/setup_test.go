package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/consul/api"
	"github.com/hashicorp/go-hclog"

	"github.com/zextras/carbonio-health/hcl"
	"github.com/zextras/carbonio-health/registrar"
	"github.com/zextras/carbonio-health/registrar/consultest"
)

// setupDecl declares three services of role "t" (tcp, ttl, script) and,
// with extra, a fourth.
func setupDecl(port int, sock string, extra bool) string {
	eps := []consultest.Endpoint{
		{Service: "web", Port: port, Interval: "1s"},
		{Service: "sock", Check: "present", Socket: sock, Interval: "1s"},
		{Service: "sh", Check: "sh", Script: "echo SH OK", Interval: "1s"},
	}
	if extra {
		eps = append(eps, consultest.Endpoint{Service: "extra", Port: 9, Interval: "10s"})
	}
	return consultest.Role("t", eps...)
}

// TestSetup runs `setup` twice against a default-deny agent, then runs the
// daemon with the token it wrote, and widens and narrows the declaration.
func TestSetup(t *testing.T) {
	agent := consultest.Start(t, consultest.Options{ACL: true, ScriptChecks: consultest.ScriptChecksLocal})
	admin := agent.Client(t, agent.ManagementToken)
	dir := t.TempDir()
	mgmt := filepath.Join(dir, "management")
	if err := os.WriteFile(mgmt, []byte(agent.ManagementToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	l := consultest.Listen(t, "tcp", "")
	port := l.Addr().(*net.TCPAddr).Port
	sock := filepath.Join(dir, "s.sock")
	consultest.Listen(t, "unix", sock)
	decl := filepath.Join(dir, "decl")
	if err := os.MkdirAll(decl, 0o755); err != nil {
		t.Fatal(err)
	}
	declare := func(extra bool) {
		if err := os.WriteFile(filepath.Join(decl, "node.hcl"), []byte(setupDecl(port, sock, extra)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	declare(false)
	out := filepath.Join(dir, "etc", "carbonio", "health", "service-discover", "token")
	setup := func(args ...string) (int, string) {
		var b bytes.Buffer
		args = append([]string{"setup", "-http-addr", agent.Addr, "-token-file", mgmt, "-config-dir", decl, "-out", out}, args...)
		code := dispatch(context.Background(), args, &b, &b)
		return code, b.String()
	}

	code, first := setup()
	if code != 0 || !strings.Contains(first, "created") {
		t.Fatalf("first run: %d\n%s", code, first)
	}
	code, second := setup()
	if code != 0 || strings.Contains(second, "created") || strings.Contains(second, "wrote") || strings.Count(second, "unchanged") != 2 {
		t.Fatalf("second run changed something: %d\n%s", code, second)
	}
	t.Logf("first run:\n%ssecond run:\n%s", first, second)
	st, err := os.Stat(out)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v, mode %v", err, st.Mode())
	}
	secret, _ := readTokenFile(out)

	// The policy: exactly the node's services, its node and agent.
	policy, _, err := admin.ACL().PolicyReadByName(policyName(agent.NodeName), nil)
	if err != nil || policy == nil {
		t.Fatalf("policy: %v", err)
	}
	rules, err := parseRules(policy.Rules)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range rules {
		got[r.Kind+" "+r.Name] = r.Access
	}
	for k, v := range map[string]string{
		"agent " + agent.NodeName: "write", "node " + agent.NodeName: "read",
		"service carbonio-t-web": "write", "service carbonio-t-sock": "write", "service carbonio-t-sh": "write",
	} {
		if got[k] != v {
			t.Errorf("rule %s = %q, want %q (rules:\n%s)", k, got[k], v, policy.Rules)
		}
	}
	for k := range got {
		if strings.Contains(k, "_prefix") {
			t.Errorf("prefix rule %s in the daemon's policy", k)
		}
	}

	// The daemon runs with it: everything registered, TTL and script checks
	// passing, the watch blocking (no fallback to polling).
	logs := &lockedBuffer{}
	opts := loadOptions([]string{decl})
	daemon := agent.Client(t, secret)
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan struct{}), make(chan error, 1)
	d := &registrar.Daemon{
		Client: daemon, Log: hclog.New(&hclog.LoggerOptions{Output: logs, Level: hclog.Info}), Ready: ready,
		Load:           func() (*hcl.Plan, error) { return hcl.Load(opts) },
		Options:        registrar.Options{Self: "/bin/false"},
		AgentConfigDir: agent.ConfigDir,
	}
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("daemon with the setup token: %v\n%s", err, logs.String())
	}
	consultest.Eventually(t, "both checks passing under the setup token", func() bool {
		checks, err := admin.Agent().Checks()
		if err != nil {
			return false
		}
		sockOK := checks["carbonio-health:t:sock:present"] != nil && checks["carbonio-health:t:sock:present"].Status == api.HealthPassing
		shOK := checks["carbonio-health:t:sh:sh"] != nil && checks["carbonio-health:t:sh:sh"].Status == api.HealthPassing
		return sockOK && shOK
	})
	if strings.Contains(logs.String(), "cannot read this node") {
		t.Errorf("the watch fell back to polling:\n%s", logs.String())
	}
	// …and cannot write Carbonio's own services.
	for _, name := range []string{"carbonio-mta", "carbonio-mta-sidecar-proxy"} {
		if err := daemon.Agent().ServiceRegister(&api.AgentServiceRegistration{ID: name, Name: name}); err == nil {
			t.Errorf("the daemon's token registered %s", name)
		}
	}

	// A new service widens the policy: refused without -allow-widen, with
	// the difference shown; a narrowing needs no flag.
	declare(true)
	code, refused := setup()
	if code != 1 || !strings.Contains(refused, `+ service "carbonio-t-extra" write`) || !strings.Contains(refused, "-allow-widen") {
		t.Errorf("widening without the flag: %d\n%s", code, refused)
	}
	if code, dry := setup("-dry-run", "-allow-widen"); code != 0 || !strings.Contains(dry, "would be updated") {
		t.Errorf("-dry-run: %d\n%s", code, dry)
	}
	if p, _, _ := admin.ACL().PolicyReadByName(policyName(agent.NodeName), nil); p == nil || p.Rules != policy.Rules {
		t.Error("-dry-run changed the policy")
	}
	if code, widened := setup("-allow-widen"); code != 0 || !strings.Contains(widened, "updated") || !strings.Contains(widened, "token") || strings.Contains(widened, "wrote") {
		t.Errorf("widening with the flag: %d\n%s", code, widened)
	}
	declare(false)
	if code, narrowed := setup(); code != 0 || !strings.Contains(narrowed, `- service "carbonio-t-extra" write`) {
		t.Errorf("narrowing: %d\n%s", code, narrowed)
	}

	// The read-only token of status: reads health, writes nothing.
	ro := filepath.Join(dir, "status-token")
	if code, s := setup("-read-only", "-out", ro); code != 0 {
		t.Fatalf("-read-only: %d\n%s", code, s)
	}
	var b bytes.Buffer
	// Read, whatever the checks say now: never UNKNOWN, all three seen.
	if code := dispatch(context.Background(), []string{"status", "-http-addr", agent.Addr, "-token-file", ro, "-role", "t"}, &b, &b); code == 3 || !strings.Contains(b.String(), " of 3 checks") && !strings.Contains(b.String(), "3 checks passing") {
		t.Errorf("status with the read-only token: %d %s", code, b.String())
	}
	roSecret, _ := readTokenFile(ro)
	if err := agent.Client(t, roSecret).Agent().ServiceRegister(&api.AgentServiceRegistration{ID: "x", Name: "carbonio-t-web"}); err == nil {
		t.Error("the read-only token registered a service")
	}
}

// lockedBuffer is a bytes.Buffer safe for the daemon's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestSetupDaemonOwnServices: even a node whose checks the agent never runs
// as scripts gets write on the daemon's heartbeat and metrics services and
// agent write (the heartbeat goes through the agent's config fragment), and
// the daemon works with that token: its TTL check and its heartbeat pass,
// its metrics endpoint is registered.
func TestSetupDaemonOwnServices(t *testing.T) {
	agent := consultest.Start(t, consultest.Options{ACL: true})
	admin := agent.Client(t, agent.ManagementToken)
	dir := t.TempDir()
	mgmt := filepath.Join(dir, "management")
	if err := os.WriteFile(mgmt, []byte(agent.ManagementToken), 0o600); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "s.sock")
	consultest.Listen(t, "unix", sock)
	decl := consultest.Role("t", consultest.Endpoint{Service: "sock", Check: "present", Socket: sock, Interval: "1s"})
	nodeDir := writeNode(t, decl)
	out := filepath.Join(dir, "token")
	plan, err := hcl.Load(hcl.Options{NoBuiltin: true, ConfigDirs: []string{nodeDir}})
	if err != nil {
		t.Fatal(err)
	}
	s := setupRun{client: admin, stdout: &bytes.Buffer{}, uid: -1, gid: -1, out: out,
		policy: policyName(agent.NodeName), rules: daemonRules(plan, agent.NodeName), description: "test"}
	if err := s.run(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, r := range []struct{ kind, name string }{
		{"agent", agent.NodeName}, {"service", registrar.HeartbeatServiceName}, {"service", registrar.ExporterName},
	} {
		if got := granted(s.rules, r.kind, r.name); got != "write" {
			t.Errorf("%s %q: %q, want write", r.kind, r.name, got)
		}
	}
	secret, _ := readTokenFile(out)
	startTestDaemon(t, &registrar.Daemon{Client: agent.Client(t, secret), AgentConfigDir: agent.ConfigDir,
		Options: registrar.Options{Heartbeat: true, Exporter: &registrar.Exporter{Address: "127.0.0.1", Port: 9171}}}, nodeDir)
	consultest.Eventually(t, "the TTL check and the heartbeat passing, the metrics service registered", func() bool {
		c, _ := admin.Agent().Checks()
		svcs, _ := admin.Agent().Services()
		passing := func(id string) bool { return c[id] != nil && c[id].Status == api.HealthPassing }
		return passing("carbonio-health:t:sock:present") && passing(registrar.HeartbeatCheckID) && svcs[registrar.ExporterName] != nil
	})
}
