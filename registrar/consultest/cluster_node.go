package consultest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/hashicorp/consul/api"
)

// Node is one agent of a Cluster: a server or a client on its own loopback
// address (127.0.x.y), with its own config dir, data dir and log file. Its
// methods are safe for concurrent use.
type Node struct {
	// Name is the node name: server-N or agent-N, as Carbonio names them.
	Name string
	// IP is the node's loopback address; every port of the agent binds it.
	IP string
	// Addr is the plain-HTTP API address, IP:port, for api.Config.Address.
	Addr string
	// Server is true for server agents.
	Server bool
	// ConfigDir is the agent's -config-dir (agent.hcl; tests may add files).
	ConfigDir string
	// DataDir is the agent's data dir.
	DataDir string
	// LogFile collects the agent's output across restarts.
	LogFile string
	// AgentToken is the secret of the node's token (policy shaped like
	// Carbonio's: node "<self>" write, node_prefix "" read,
	// service_prefix "" write), set as its agent and default token (the
	// default token registers the services of its config files).
	AgentToken string
	// SerfAddr is IP:serf_lan port, for retry_join.
	SerfAddr string
	// RPCAddr is IP:server port (servers' RPC, TLS only).
	RPCAddr string

	bin    string
	env    []string
	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
}

// nodePorts are the ports an agent listens on; all others are disabled.
type nodePorts struct{ http, serf, server int }

// newNode prepares the directories and ports of a node (not started).
func newNode(bin, base, name, ip string, server bool, env []string) (*Node, error) {
	dir := filepath.Join(base, name)
	n := &Node{Name: name, IP: ip, Server: server, bin: bin, env: env,
		ConfigDir: filepath.Join(dir, "config"), DataDir: filepath.Join(dir, "data"),
		LogFile: filepath.Join(dir, "consul.log"), AgentToken: uuid.NewString()}
	for _, d := range []string{n.ConfigDir, n.DataDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	return n, nil
}

// clusterConfig is what a node's configuration needs from the cluster.
type clusterConfig struct {
	secrets         clusterSecrets
	managementToken string
	servers         int
	raftMultiplier  int
	join            []string
}

// writeConfig renders agent.hcl: TLS, gossip encryption and ACLs as on a
// Carbonio node; the HTTP API plain on the node's loopback address.
func (n *Node) writeConfig(c clusterConfig, p nodePorts) error {
	n.Addr = net.JoinHostPort(n.IP, strconv.Itoa(p.http))
	n.SerfAddr = net.JoinHostPort(n.IP, strconv.Itoa(p.serf))
	n.RPCAddr = net.JoinHostPort(n.IP, strconv.Itoa(p.server))
	var b strings.Builder
	fmt.Fprintf(&b, `node_name            = %q
datacenter           = "dc1"
data_dir             = %q
bind_addr            = %q
advertise_addr       = %q
client_addr          = %q
log_level            = "debug"
disable_update_check = true
encrypt              = %q
retry_join           = [%s]
retry_interval       = "1s"
enable_local_script_checks = true
performance { raft_multiplier = %d }
ui_config { enabled = false }
ports {
  http     = %d
  serf_lan = %d
  server   = %d
  serf_wan = -1
  dns      = -1
  grpc     = -1
  grpc_tls = -1
}
acl {
  enabled                  = true
  default_policy           = "deny"
  down_policy              = "extend-cache"
  enable_token_persistence = true
  # Consul's default caches are 30 s; 5 s keeps the token tests short.
  token_ttl                = "5s"
  policy_ttl               = "5s"
  role_ttl                 = "5s"
  tokens {
    agent   = %q
    default = %q
`, n.Name, n.DataDir, n.IP, n.IP, n.IP, c.secrets.GossipKey, quoteList(c.join), c.raftMultiplier, p.http, p.serf, p.server, n.AgentToken, n.AgentToken)
	if n.Server {
		fmt.Fprintf(&b, `    initial_management = %q
  }
}
server           = true
bootstrap_expect = %d
connect { enabled = true }
auto_encrypt { allow_tls = true }
tls {
  defaults {
    ca_file         = %q
    cert_file       = %q
    key_file        = %q
    verify_incoming = true
    verify_outgoing = true
  }
  internal_rpc { verify_server_hostname = true }
}
`, c.managementToken, c.servers, c.secrets.CAFile, c.secrets.ServerCert, c.secrets.ServerKey)
	} else {
		fmt.Fprintf(&b, `  }
}
server = false
auto_encrypt { tls = true }
tls {
  defaults {
    ca_file         = %q
    verify_incoming = true
    verify_outgoing = true
  }
  internal_rpc { verify_server_hostname = true }
}
`, c.secrets.CAFile)
	}
	return os.WriteFile(filepath.Join(n.ConfigDir, "agent.hcl"), []byte(b.String()), 0o644)
}

func quoteList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = strconv.Quote(x)
	}
	return strings.Join(q, ", ")
}

// Start starts the agent process and returns at once; WaitAPI waits for it.
func (n *Node) Start() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd != nil {
		return fmt.Errorf("%s: already running", n.Name)
	}
	logf, err := os.OpenFile(n.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	fmt.Fprintf(logf, "==== %s start %s\n", n.Name, time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(n.bin, "agent", "-config-dir", n.ConfigDir)
	cmd.Env = append(os.Environ(), n.env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Own process group (signals reach only it); killed if the test dies.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start %s: %w", n.Name, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); logf.Close(); close(exited) }()
	n.cmd, n.exited = cmd, exited
	return nil
}

// Running reports whether the agent process runs (paused counts).
func (n *Node) Running() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.cmd != nil
}

// Stop stops the agent as systemd does (SIGTERM; SIGKILL after 15 s) and
// waits for it to exit. Stopping a stopped node does nothing.
func (n *Node) Stop() { n.signalAndWait(syscall.SIGTERM, 15*time.Second) }

// Kill kills the agent (SIGKILL), as a crash or an OOM kill would.
func (n *Node) Kill() { n.signalAndWait(syscall.SIGKILL, 15*time.Second) }

func (n *Node) signalAndWait(sig syscall.Signal, grace time.Duration) {
	n.mu.Lock()
	cmd, exited := n.cmd, n.exited
	n.cmd, n.exited = nil, nil
	n.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGCONT) // a paused agent must see the signal
	_ = syscall.Kill(-cmd.Process.Pid, sig)
	select {
	case <-exited:
	case <-time.After(grace):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	}
}

// Pause freezes the agent (SIGSTOP): it stops gossiping and answering, as a
// hung or partitioned node does, until Resume.
func (n *Node) Pause() error { return n.signal(syscall.SIGSTOP) }

// Resume continues a paused agent (SIGCONT).
func (n *Node) Resume() error { return n.signal(syscall.SIGCONT) }

func (n *Node) signal(sig syscall.Signal) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil {
		return fmt.Errorf("%s: not running", n.Name)
	}
	return syscall.Kill(-n.cmd.Process.Pid, sig)
}

// WipeDataDir deletes the data dir's content of a stopped agent.
func (n *Node) WipeDataDir() error {
	if n.Running() {
		return fmt.Errorf("%s: stop the agent before wiping its data dir", n.Name)
	}
	entries, err := os.ReadDir(n.DataDir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(n.DataDir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// WaitAPI waits until the agent answers HTTP at all (any status: a 403 is
// an answer), and returns when it did.
func (n *Node) WaitAPI(ctx context.Context) (time.Time, error) {
	hc := &http.Client{Timeout: time.Second}
	for {
		n.mu.Lock()
		exited := n.exited
		n.mu.Unlock()
		if exited == nil {
			return time.Time{}, fmt.Errorf("%s: not running", n.Name)
		}
		select {
		case <-exited:
			return time.Time{}, fmt.Errorf("%s: agent exited; see %s", n.Name, n.LogFile)
		default:
		}
		resp, err := hc.Get("http://" + n.Addr + "/v1/agent/self")
		if err == nil {
			resp.Body.Close()
			return time.Now(), nil
		}
		if err := sleepCtx(ctx, 20*time.Millisecond); err != nil {
			return time.Time{}, fmt.Errorf("%s: HTTP API not answering: %w", n.Name, err)
		}
	}
}

// Client returns an API client for the node's HTTP API with token.
func (n *Node) Client(token string) *api.Client {
	cfg := api.DefaultNonPooledConfig()
	cfg.Address, cfg.Token, cfg.TokenFile = n.Addr, token, ""
	cfg.HttpClient = &http.Client{Timeout: 30 * time.Second}
	c, err := api.NewClient(cfg)
	if err != nil {
		panic("consultest: api client: " + err.Error()) // only fails on bad TLS files, none here
	}
	return c
}

// Log returns the agent's output so far (all runs).
func (n *Node) Log() string {
	b, err := os.ReadFile(n.LogFile)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// clusterPortMu serialises freePortsOnAll within one test binary.
var clusterPortMu sync.Mutex

// freePortsOnAll returns n distinct ports free for TCP and UDP on every one
// of ips.
func freePortsOnAll(ips []string, n int) ([]int, error) {
	clusterPortMu.Lock()
	defer clusterPortMu.Unlock()
	var ports []int
	for tries := 0; len(ports) < n; tries++ {
		if tries > 100 {
			return nil, fmt.Errorf("no port free on all of %v", ips)
		}
		l, err := net.Listen("tcp", net.JoinHostPort(ips[0], "0"))
		if err != nil {
			return nil, fmt.Errorf("pick a port on %s: %w", ips[0], err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if portFree(ips, port) && !slices.Contains(ports, port) {
			ports = append(ports, port)
		}
	}
	return ports, nil
}

// portFree reports whether port is free for TCP and UDP on every address.
func portFree(ips []string, port int) bool {
	for _, ip := range ips {
		addr := net.JoinHostPort(ip, strconv.Itoa(port))
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return false
		}
		l.Close()
		u, err := net.ListenPacket("udp", addr)
		if err != nil {
			return false
		}
		u.Close()
	}
	return true
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

var errNoLeader = errors.New("no leader")
