package consultest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/hashicorp/consul/api"
	"github.com/hashicorp/consul/sdk/freeport"
)

// ScriptChecks is the script-check setting an agent gets.
type ScriptChecks int

// The script-check settings.
const (
	// ScriptChecksNone allows no script checks at all.
	ScriptChecksNone ScriptChecks = iota
	// ScriptChecksLocal sets enable_local_script_checks: scripts only from
	// the agent's config files.
	ScriptChecksLocal
	// ScriptChecksRemote sets enable_script_checks: scripts over the API too.
	ScriptChecksRemote
)

// Options configure an agent.
type Options struct {
	// ScriptChecks selects the script-check setting.
	ScriptChecks ScriptChecks
	// ACL enables ACLs with default deny; the management token is in
	// Agent.ManagementToken.
	ACL bool
	// ExtraHCL is appended to the generated configuration.
	ExtraHCL string
	// NodeName defaults to a random "node-…" name.
	NodeName string
}

// Agent is one running (or stopped) Consul agent of a test.
type Agent struct {
	// Addr is the HTTP address, 127.0.0.1:port, for api.Config.Address.
	Addr string
	// NodeName is the agent's node name.
	NodeName string
	// ConfigDir is the agent's -config-dir: agent.hcl lives there, and
	// tests may drop fragments in it and ask for a reload.
	ConfigDir string
	// DataDir is the agent's data dir.
	DataDir string
	// ManagementToken is the ACL management token ("" without ACLs).
	ManagementToken string

	bin    string
	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has exited
	out    *bytes.Buffer
	log    bytes.Buffer // output of every run so far
}

// Start starts an agent and waits until it is ready; it is stopped when the
// test ends, and its output is logged if the test failed.
//
// Measured here (2 cores): about 2 s from exec to ready (leader elected and
// the node in the catalog) with raft_multiplier = 1.
func Start(t testing.TB, opts Options) *Agent {
	t.Helper()
	bin := Binary(t)
	// freeport reserves a block of ports per test process, so agents of
	// packages tested in parallel never get the same ones; serf's UDP port
	// is the TCP one of the same number.
	ports := freeport.GetN(t, 3)
	base := t.TempDir()
	a := &Agent{
		Addr:      fmt.Sprintf("127.0.0.1:%d", ports[0]),
		NodeName:  opts.NodeName,
		ConfigDir: filepath.Join(base, "config"),
		DataDir:   filepath.Join(base, "data"),
		bin:       bin,
	}
	if a.NodeName == "" {
		a.NodeName = "node-" + uuid.NewString()[:8]
	}
	if opts.ACL {
		a.ManagementToken = uuid.NewString()
	}
	for _, d := range []string{a.ConfigDir, a.DataDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(a.ConfigDir, "agent.hcl"), []byte(a.config(opts, ports)), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		a.Stop(t)
		if t.Failed() {
			t.Logf("consul agent %s output:\n%s", a.NodeName, a.Log())
		}
	})
	a.Start(t)
	return a
}

// config renders the agent's configuration.
func (a *Agent) config(opts Options, ports []int) string {
	var b strings.Builder
	fmt.Fprintf(&b, `node_name            = %q
datacenter           = "dc1"
server               = true
bootstrap_expect     = 1
bind_addr            = "127.0.0.1"
client_addr          = "127.0.0.1"
advertise_addr       = "127.0.0.1"
data_dir             = %q
log_level            = "warn"
disable_update_check = true
leave_on_terminate   = false
enable_local_script_checks = %t
enable_script_checks       = %t
ui_config { enabled = false }
performance { raft_multiplier = 1 }
ports {
  http     = %d
  serf_lan = %d
  server   = %d
  serf_wan = -1
  dns      = -1
  grpc     = -1
  grpc_tls = -1
}
`, a.NodeName, a.DataDir, opts.ScriptChecks != ScriptChecksNone, opts.ScriptChecks == ScriptChecksRemote,
		ports[0], ports[1], ports[2])
	if opts.ACL {
		fmt.Fprintf(&b, `acl {
  enabled                  = true
  default_policy           = "deny"
  enable_token_persistence = true
  tokens {
    initial_management = %q
    agent              = %q
  }
}
`, a.ManagementToken, a.ManagementToken)
	}
	b.WriteString(opts.ExtraHCL)
	return b.String()
}

// Start (re)starts a stopped agent with the same ports, configuration and
// data dir, and waits until it is ready.
func (a *Agent) Start(t testing.TB) {
	t.Helper()
	a.mu.Lock()
	if a.cmd != nil {
		a.mu.Unlock()
		t.Fatal("consultest: agent already running")
	}
	out := &bytes.Buffer{}
	cmd := exec.Command(a.bin, "agent", "-config-dir", a.ConfigDir)
	cmd.Stdout, cmd.Stderr = &lockedWriter{mu: &a.mu, w: out}, &lockedWriter{mu: &a.mu, w: out}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		a.mu.Unlock()
		t.Fatalf("start consul: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	a.cmd, a.out, a.exited = cmd, out, exited
	a.mu.Unlock()
	a.WaitReady(t)
}

// Stop stops the agent (SIGINT, then SIGKILL after 10 s); a stopped
// agent's state stays in DataDir. Stopping a stopped agent does nothing.
func (a *Agent) Stop(t testing.TB) {
	t.Helper()
	a.mu.Lock()
	cmd, out, exited := a.cmd, a.out, a.exited
	a.cmd, a.out, a.exited = nil, nil, nil
	a.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	}
	a.mu.Lock()
	a.log.Write(out.Bytes())
	a.mu.Unlock()
}

// Signal sends sig to the running agent's process group, e.g. SIGSTOP to
// freeze it (it keeps its sockets but answers nothing, not even gossip)
// and SIGCONT to resume it.
func (a *Agent) Signal(t testing.TB, sig syscall.Signal) {
	t.Helper()
	a.mu.Lock()
	cmd := a.cmd
	a.mu.Unlock()
	if cmd == nil {
		t.Fatal("consultest: the agent is not running")
	}
	if err := syscall.Kill(-cmd.Process.Pid, sig); err != nil {
		t.Fatalf("signal %v to the agent: %v", sig, err)
	}
}

// WipeDataDir deletes everything in the data dir of a stopped agent, as an
// operator deleting it would.
func (a *Agent) WipeDataDir(t testing.TB) {
	t.Helper()
	a.mu.Lock()
	running := a.cmd != nil
	a.mu.Unlock()
	if running {
		t.Fatal("consultest: stop the agent before wiping its data dir")
	}
	entries, err := os.ReadDir(a.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(a.DataDir, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
}

// Log returns the agent's output so far, across restarts.
func (a *Agent) Log() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.log.String()
	if a.out != nil {
		s += a.out.String()
	}
	return s
}

// lockedWriter serialises the process's writes with Log's reads.
type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// Client returns an API client for the agent with the given token.
func (a *Agent) Client(t testing.TB, token string) *api.Client {
	t.Helper()
	cfg := api.DefaultNonPooledConfig()
	cfg.Address, cfg.Token, cfg.TokenFile = a.Addr, token, ""
	c, err := api.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
