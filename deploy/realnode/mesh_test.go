package realnode

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/hashicorp/consul/api"
	"golang.org/x/sys/unix"

	"github.com/zextras/carbonio-health/registrar/consultest"
)

// The node's Carbonio Mesh: its service-discover agent (the pinned Consul,
// bind-mounted at /usr/bin/consul) is a client agent joined to a Consul
// server that runs on the host (consultest's Carbonio-shaped cluster, one
// server on the host end of the node's link), with Carbonio's agent
// settings: TLS with auto_encrypt, gossip encryption, ACLs default deny with
// down_policy extend-cache and token persistence, the agent's token (policy
// named after the node) as its agent and default token, and
// enable_local_script_checks (never enable_script_checks).

// NodeName is the node's Consul node name, as Carbonio names agents.
const NodeName = "agent-mail-1-example-com"

// agentDir and agentData are Carbonio's agent folders.
const (
	agentDir  = "/etc/zextras/service-discover"
	agentData = "/var/lib/service-discover/data"
	agentCA   = "/var/lib/service-discover/consul-agent-ca.pem"
)

// patroniRules let Patroni keep its state in Consul (sessions and its keys).
const patroniRules = `key_prefix "service/" {
  policy = "write"
}
session_prefix "" {
  policy = "write"
}
node_prefix "" {
  policy = "read"
}
`

// mesh is the Consul server on the host and what the node needs from it.
type mesh struct {
	cluster *consultest.Cluster
	// AgentToken is the node agent's token; PatroniToken Patroni's.
	AgentToken, PatroniToken string
}

// startMesh starts the server on net's server address and creates the
// node's tokens.
func startMesh(consul string, hn *hostNet) (*mesh, error) {
	c, err := consultest.StartCluster(consul, consultest.ClusterOptions{Servers: 1, ServerIPs: []string{hn.ServerIP}})
	if err != nil {
		return nil, err
	}
	m := &mesh{cluster: c, AgentToken: uuid.NewString()}
	if _, err := c.CreateToken(NodeName, consultest.AgentPolicyRules(NodeName), m.AgentToken); err != nil {
		c.RemoveAll()
		return nil, err
	}
	tok, err := c.CreateToken("patroni", patroniRules, "")
	if err != nil {
		c.RemoveAll()
		return nil, err
	}
	m.PatroniToken = tok.SecretID
	return m, nil
}

// Admin is a management-token client of the server: the catalog.
func (m *mesh) Admin() *api.Client { return m.cluster.Admin() }

// agentConfig is the node agent's main.json.
func (m *mesh) agentConfig(hn *hostNet) ([]byte, error) {
	s := m.cluster.Servers[0]
	cfg := map[string]any{
		"node_name":                  NodeName,
		"datacenter":                 "dc1",
		"data_dir":                   agentData,
		"bind_addr":                  hn.NodeIP,
		"advertise_addr":             hn.NodeIP,
		"client_addr":                "127.0.0.1",
		"retry_join":                 []string{s.SerfAddr},
		"retry_interval":             "1s",
		"encrypt":                    m.cluster.GossipKey,
		"enable_local_script_checks": true,
		"disable_update_check":       true,
		"log_level":                  "info",
		"ports": map[string]any{
			"http": 8500, "grpc": 8502, "grpc_tls": 8503, "dns": -1, "serf_wan": -1,
			"server": m.cluster.ServerPort, // auto_encrypt asks the servers on it
		},
		"acl": map[string]any{
			"enabled": true, "default_policy": "deny", "down_policy": "extend-cache",
			"enable_token_persistence": true,
			"tokens":                   map[string]string{"agent": m.AgentToken, "default": m.AgentToken},
		},
		"auto_encrypt": map[string]any{"tls": true},
		"tls": map[string]any{
			"defaults":     map[string]any{"ca_file": agentCA, "verify_incoming": true, "verify_outgoing": true},
			"internal_rpc": map[string]any{"verify_server_hostname": true},
		},
	}
	return json.MarshalIndent(cfg, "", "  ")
}

// nodeFiles are the node's per-run files, written into its overlay before
// its first boot.
func (m *mesh) nodeFiles(hn *hostNet) ([]nodeFile, error) {
	main, err := m.agentConfig(hn)
	if err != nil {
		return nil, err
	}
	ca, err := os.ReadFile(m.cluster.CAFile)
	if err != nil {
		return nil, err
	}
	return []nodeFile{
		{Path: "/etc/node-net.env", Mode: 0o644, Content: "NODE_ADDR=" + hn.NodeIP + "/24\n"},
		{Path: agentDir + "/main.json", Mode: 0o600, Owner: "service-discover", Content: string(main)},
		{Path: agentCA, Mode: 0o644, Owner: "service-discover", Content: string(ca)},
		// What the stand-in `service-discover bootstrap-token` prints.
		{Path: agentDir + "/cluster-credentials.token", Mode: 0o600, Content: m.cluster.ManagementToken + "\n"},
		{Path: "/etc/patroni/consul.env", Mode: 0o600, Owner: "postgres", Content: "PATRONI_CONSUL_TOKEN=" + m.PatroniToken + "\n"},
	}, nil
}

// nodeFile is a file written into the node's upper layer.
type nodeFile struct {
	Path, Content string
	Mode          os.FileMode
	// Owner is a user of the node (root when empty).
	Owner string
}

// provision writes files into the upper layer of a node that is not
// running, as the overlay would copy them up: a folder made in the upper
// layer takes the owner and mode of the same folder in the layers below
// (an upper folder's attributes are what the node sees).
func provision(n *Node, files []nodeFile) error {
	upper := filepath.Join(n.Dir, "upper")
	if err := os.MkdirAll(upper, 0o755); err != nil {
		return err
	}
	for _, f := range files {
		uid, gid, err := lookupUser(n.Layers, f.Owner)
		if err != nil {
			return err
		}
		if err := copyUpDirs(upper, n.Layers, filepath.Dir(f.Path)); err != nil {
			return err
		}
		dst := filepath.Join(upper, f.Path)
		if err := os.WriteFile(dst, []byte(f.Content), f.Mode); err != nil {
			return err
		}
		if err := os.Chmod(dst, f.Mode); err != nil {
			return err
		}
		if err := os.Chown(dst, uid, gid); err != nil {
			return err
		}
	}
	return nil
}

// copyUpDirs makes dir and its parents in upper with the attributes they
// have in the topmost layer that holds them.
func copyUpDirs(upper string, layers []string, dir string) error {
	if dir == "/" {
		return nil
	}
	if err := copyUpDirs(upper, layers, filepath.Dir(dir)); err != nil {
		return err
	}
	dst := filepath.Join(upper, dir)
	if _, err := os.Lstat(dst); err == nil {
		return nil
	}
	for _, l := range layers {
		st, err := os.Lstat(filepath.Join(l, dir))
		if err != nil {
			continue
		}
		if !st.IsDir() {
			return fmt.Errorf("%s is not a folder in %s", dir, l)
		}
		sys := st.Sys().(*syscall.Stat_t)
		if err := os.Mkdir(dst, st.Mode().Perm()); err != nil {
			return err
		}
		if err := os.Chmod(dst, st.Mode().Perm()|st.Mode()&(os.ModeSticky|os.ModeSetgid)); err != nil {
			return err
		}
		return os.Chown(dst, int(sys.Uid), int(sys.Gid))
	}
	return fmt.Errorf("%s exists in no layer of the node", dir)
}

// lookupUser reads a user's uid and gid from the node's /etc/passwd.
func lookupUser(layers []string, name string) (int, int, error) {
	if name == "" || name == "root" {
		return 0, 0, nil
	}
	for _, l := range layers {
		b, err := os.ReadFile(filepath.Join(l, "etc/passwd"))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Split(line, ":")
			if len(f) > 3 && f[0] == name {
				uid, err1 := strconv.Atoi(f[2])
				gid, err2 := strconv.Atoi(f[3])
				if err1 != nil || err2 != nil {
					return 0, 0, fmt.Errorf("bad passwd line %q", line)
				}
				return uid, gid, nil
			}
		}
		return 0, 0, fmt.Errorf("no user %s in the node", name)
	}
	return 0, 0, fmt.Errorf("no /etc/passwd in the node's layers")
}

// AgentClient is a client of the node's own agent (127.0.0.1:8500 in the
// node's network namespace) with token: what the daemon and `status` see.
func (n *Node) AgentClient(token string) *api.Client {
	cfg := api.DefaultNonPooledConfig()
	cfg.Address, cfg.Token, cfg.TokenFile = "127.0.0.1:8500", token, ""
	cfg.HttpClient = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: n.dialInside, DisableKeepAlives: true}}
	c, err := api.NewClient(cfg)
	if err != nil {
		panic("realnode: api client: " + err.Error())
	}
	return c
}

// dialInside dials from the node's network namespace: the socket is made
// on an OS thread that joined that namespace and then returns to its own.
// A thread that could not return is thrown away with its goroutine (never
// unlocked), so no other goroutine runs in the node's namespace; that
// would also end the processes it started (their Pdeathsig is per thread).
func (n *Node) dialInside(ctx context.Context, network, addr string) (net.Conn, error) {
	type result struct {
		conn net.Conn
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		own, err := unix.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			ch <- result{err: fmt.Errorf("this thread's network namespace: %w", err)}
			return
		}
		defer unix.Close(own)
		fd, err := unix.Open(fmt.Sprintf("/proc/%d/ns/net", n.PID()), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			ch <- result{err: fmt.Errorf("node %s network namespace: %w", n.Name, err)}
			return
		}
		err = unix.Setns(fd, unix.CLONE_NEWNET)
		unix.Close(fd)
		if err != nil {
			runtime.UnlockOSThread()
			ch <- result{err: fmt.Errorf("enter node %s network namespace: %w", n.Name, err)}
			return
		}
		conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if unix.Setns(own, unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		ch <- result{conn, err}
	}()
	r := <-ch
	return r.conn, r.err
}
