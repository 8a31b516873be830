package consultest

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/hashicorp/consul/api"
)

// ClusterOptions shape a Cluster.
type ClusterOptions struct {
	// Servers is the number of server agents (bootstrap_expect); 3 when 0.
	Servers int
	// Clients is the number of client agents.
	Clients int
	// ClientNames name the first clients (the others are agent-N), e.g.
	// after Carbonio's agent-<fqdn with dashes>.
	ClientNames []string
	// Env is added to every agent's environment (their script checks
	// inherit it).
	Env []string
	// RaftMultiplier is performance.raft_multiplier: 1 (fast elections) when
	// 0; Consul's default, which Carbonio keeps, is 5 (a lone server then
	// takes 5-10 s to elect itself).
	RaftMultiplier int
	// ServerIPs, when set, are the servers' addresses (one per server)
	// instead of 127.0.X.N: addresses that agents beyond this host's
	// loopback reach, such as a real node's agent through a veth link
	// (deploy/realnode). They must exist on this host.
	ServerIPs []string
}

// Cluster is a Consul cluster shaped like a Carbonio installation, on
// loopback: server agents (server-N) and client agents (agent-N, or as
// named), each on its own address 127.0.X.N (X random per cluster) with
// ports of its own;
// RPC with TLS (a CA from `consul tls ca create`, a server certificate from
// `consul tls cert create -server`, verify_incoming, verify_outgoing,
// verify_server_hostname; clients get theirs by auto_encrypt); gossip
// encrypted (`consul keygen`); ACLs default deny, down_policy extend-cache,
// token persistence; each agent's token shaped like Carbonio's. The HTTP API
// is plain, as on Carbonio.
type Cluster struct {
	// Dir holds the CA, the certificates and every node's directories.
	Dir string
	// CAFile is the CA certificate.
	CAFile string
	// ManagementToken is the bootstrap (initial management) token.
	ManagementToken string
	// GossipKey is the serf encryption key every agent of the cluster
	// needs (encrypt), and ServerPort the servers' RPC port, which a client
	// sets as its own ports.server (auto_encrypt asks the servers on it).
	GossipKey  string
	ServerPort int
	// Servers and Clients are the agents.
	Servers, Clients []*Node
}

// startTimeout bounds StartCluster's waits (2 shared cores, 6 agents).
const startTimeout = 3 * time.Minute

// StartCluster creates the secrets, starts the servers in parallel, creates
// every agent token once a leader is elected, starts the clients in parallel
// (auto_encrypt needs their token at start), and returns when every node is
// in the catalog with serfHealth passing. Close it when done; on error,
// whatever was started is stopped.
func StartCluster(bin string, opts ClusterOptions) (c *Cluster, err error) {
	if opts.Servers == 0 {
		opts.Servers = 3
	}
	dir, err := os.MkdirTemp("", "consul-cluster-")
	if err != nil {
		return nil, err
	}
	c = &Cluster{Dir: dir, ManagementToken: uuid.NewString()}
	defer func() {
		if err != nil {
			err = fmt.Errorf("%w (agent logs under %s)", err, dir)
			c.stopAll()
		}
	}()
	x, err := rand.Int(rand.Reader, big.NewInt(200))
	if err != nil {
		return nil, err
	}
	prefix := fmt.Sprintf("127.0.%d.", 20+x.Int64())
	var ips []string
	for i := 1; i <= opts.Servers+opts.Clients; i++ {
		ips = append(ips, fmt.Sprint(prefix, i))
	}
	if len(opts.ServerIPs) > 0 {
		if len(opts.ServerIPs) != opts.Servers {
			return c, fmt.Errorf("%d server addresses for %d servers", len(opts.ServerIPs), opts.Servers)
		}
		copy(ips, opts.ServerIPs)
	}
	secrets, err := makeSecrets(bin, dir, "dc1", ips[:opts.Servers])
	if err != nil {
		return c, err
	}
	c.CAFile, c.GossipKey = secrets.CAFile, secrets.GossipKey
	// One set of ports for every node, each on its own address: clients
	// reach the servers' RPC on their own ports.server (auto_encrypt's first
	// request), as on a real cluster where every node uses 8300.
	p, err := freePortsOnAll(ips, 3)
	if err != nil {
		return c, err
	}
	ports := nodePorts{http: p[0], serf: p[1], server: p[2]}
	c.ServerPort = ports.server
	for i, ip := range ips {
		server := i < opts.Servers
		name := fmt.Sprintf("agent-%d", i-opts.Servers+1)
		if c := i - opts.Servers; c >= 0 && c < len(opts.ClientNames) {
			name = opts.ClientNames[c]
		}
		if server {
			name = fmt.Sprintf("server-%d", i+1)
		}
		n, err := newNode(bin, dir, name, ip, server, opts.Env)
		if err != nil {
			return c, err
		}
		n.SerfAddr = fmt.Sprintf("%s:%d", ip, ports.serf)
		if server {
			c.Servers = append(c.Servers, n)
		} else {
			c.Clients = append(c.Clients, n)
		}
	}
	cc := clusterConfig{secrets: secrets, managementToken: c.ManagementToken, servers: opts.Servers, raftMultiplier: max(opts.RaftMultiplier, 1)}
	for _, s := range c.Servers {
		cc.join = append(cc.join, s.SerfAddr)
	}
	for _, n := range c.Nodes() {
		if err := n.writeConfig(cc, ports); err != nil {
			return c, err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	if err := startAll(c.Servers); err != nil {
		return c, err
	}
	if _, err := c.WaitLeader(ctx); err != nil {
		return c, err
	}
	if err := c.CreateAgentTokens(ctx); err != nil {
		return c, err
	}
	if err := startAll(c.Clients); err != nil {
		return c, err
	}
	return c, c.WaitHealthy(ctx)
}

// startAll starts the agents' processes (each start returns at once).
func startAll(nodes []*Node) error {
	for _, n := range nodes {
		if err := n.Start(); err != nil {
			return err
		}
	}
	return nil
}

// stopAll stops every running agent, in parallel.
func (c *Cluster) stopAll() {
	var wg sync.WaitGroup
	for _, n := range c.Nodes() {
		wg.Add(1)
		go func() { defer wg.Done(); n.Stop() }()
	}
	wg.Wait()
}

// Nodes returns the servers, then the clients.
func (c *Cluster) Nodes() []*Node {
	return append(append([]*Node(nil), c.Servers...), c.Clients...)
}

// Close stops every agent; the directory (logs) stays for RemoveAll.
func (c *Cluster) Close() { c.stopAll() }

// RemoveAll stops every agent and removes the cluster's directory.
func (c *Cluster) RemoveAll() {
	c.stopAll()
	_ = os.RemoveAll(c.Dir)
}

// Node returns the node with that name, or nil.
func (c *Cluster) Node(name string) *Node {
	for _, n := range c.Nodes() {
		if n.Name == name {
			return n
		}
	}
	return nil
}

// Admin returns a management-token client on the first running server.
func (c *Cluster) Admin() *api.Client {
	for _, s := range c.Servers {
		if s.Running() {
			return s.Client(c.ManagementToken)
		}
	}
	return c.Servers[0].Client(c.ManagementToken)
}

// Leader returns the server that is the raft leader, as the running servers
// see it.
func (c *Cluster) Leader() (*Node, error) {
	for _, s := range c.Servers {
		if !s.Running() {
			continue
		}
		addr, err := s.Client(c.ManagementToken).Status().Leader()
		if err != nil || addr == "" {
			continue
		}
		host, _, _ := strings.Cut(addr, ":")
		for _, n := range c.Servers {
			if n.IP == host {
				return n, nil
			}
		}
	}
	return nil, errNoLeader
}

// WaitLeader waits until a leader is elected and returns it.
func (c *Cluster) WaitLeader(ctx context.Context) (*Node, error) {
	for {
		if l, err := c.Leader(); err == nil {
			return l, nil
		}
		if err := sleepCtx(ctx, 50*time.Millisecond); err != nil {
			return nil, fmt.Errorf("no leader elected: %w", err)
		}
	}
}

// WaitHealthy waits until every running node is in the catalog with
// serfHealth passing, as seen through the leader, and every running server
// has caught up with the leader (see caughtUp).
func (c *Cluster) WaitHealthy(ctx context.Context) error {
	var last error
	for {
		last = c.healthy()
		if last == nil {
			return nil
		}
		if err := sleepCtx(ctx, 100*time.Millisecond); err != nil {
			return fmt.Errorf("cluster not healthy: %w (last: %v)", err, last)
		}
	}
}

func (c *Cluster) healthy() error {
	if _, err := c.Leader(); err != nil {
		return err
	}
	checks, _, err := c.Admin().Health().State(api.HealthAny, &api.QueryOptions{RequireConsistent: true})
	if err != nil {
		return err
	}
	serf := map[string]string{}
	for _, ck := range checks {
		if ck.CheckID == "serfHealth" {
			serf[ck.Node] = ck.Status
		}
	}
	for _, n := range c.Nodes() {
		if n.Running() && serf[n.Name] != api.HealthPassing {
			return fmt.Errorf("%s: serfHealth %q", n.Name, serf[n.Name])
		}
	}
	return c.caughtUp()
}

// caughtUp says which running server has not caught up with the leader.
//
// A server killed and started again answers, gossips and is passing in the
// catalog (its serfHealth may never have failed) before it has applied the
// raft log written since its last snapshot: it applies it only once a
// leader tells it the commit index. Until then it lacks the Connect CA roots
// that signed the clients' auto_encrypt certificates, and refuses their RPC
// ("tls: unknown certificate authority"). A test that then takes the other
// servers away leaves the clients with no server they can talk to. So a
// server counts as caught up when autopilot calls it healthy and its own
// state (a stale read) holds the leader's active CA root.
func (c *Cluster) caughtUp() error {
	admin := c.Admin()
	health, err := admin.Operator().AutopilotServerHealth(nil)
	if err != nil {
		return fmt.Errorf("autopilot health: %w", err)
	}
	roots, _, err := admin.Connect().CARoots(nil)
	if err != nil {
		return fmt.Errorf("CA roots: %w", err)
	}
	healthy := map[string]bool{}
	for _, s := range health.Servers {
		healthy[s.Name] = s.Healthy
	}
	for _, s := range c.Servers {
		if !s.Running() {
			continue
		}
		if !healthy[s.Name] {
			return fmt.Errorf("%s: not healthy for autopilot", s.Name)
		}
		own, _, err := s.Client(c.ManagementToken).Connect().CARoots(&api.QueryOptions{AllowStale: true})
		if err != nil {
			return fmt.Errorf("%s: CA roots: %w", s.Name, err)
		}
		if own.ActiveRootID == "" || own.ActiveRootID != roots.ActiveRootID {
			return fmt.Errorf("%s: CA root %q, the leader's %q: raft log not applied yet", s.Name, own.ActiveRootID, roots.ActiveRootID)
		}
	}
	return nil
}
