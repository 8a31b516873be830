// Package consulstatus is what carbonio-health knows of a Consul agent's
// answers: the raft leader and peers (/v1/status, for the leader and ping
// probes) and, for every caller, what a failed call means (Classify).
//
// The client is consul/api's own: its address, scheme, unix socket and TLS
// handling follow Consul's environment (CONSUL_HTTP_ADDR, CONSUL_HTTP_SSL,
// CONSUL_HTTP_SSL_VERIFY, CONSUL_CACERT, CONSUL_CLIENT_CERT/KEY,
// CONSUL_TLS_SERVER_NAME) exactly as the consul CLI reads it.
package consulstatus

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/hashicorp/consul/api"
)

// DefaultAddr is the HTTP API of the local Consul agent on a Carbonio node
// (plain HTTP on loopback). consul/api's own default is localhost:8500,
// which may resolve to ::1 first, where the agent does not listen.
const DefaultAddr = "127.0.0.1:8500"

// Client reads the /v1/status endpoints, which need no ACL token: the
// probes that use it run as script checks with none. Each request opens its
// own connection (consul/api's non-pooled transport, no keep-alive), so
// that an in-process caller running it every interval holds no idle socket.
type Client struct {
	// Addr is host[:port] or a URL (http://, https://, unix://); empty
	// means Consul's own environment (CONSUL_HTTP_ADDR), else DefaultAddr.
	Addr string
}

// Where is the agent's address: Addr (a bare host gets port 8500), else
// $CONSUL_HTTP_ADDR, else DefaultAddr.
func (c Client) Where() string {
	return c.config().Address
}

// config is consul/api's configuration from the environment, with Addr on
// top.
func (c Client) config() *api.Config {
	cfg := api.DefaultNonPooledConfig()
	switch {
	case c.Addr != "":
		cfg.Address = withDefaultPort(c.Addr, "8500")
	case os.Getenv(api.HTTPAddrEnvName) == "":
		cfg.Address = DefaultAddr
	}
	return cfg
}

// client builds a consul/api client for one request.
func (c Client) client() (*api.Client, error) {
	cl, err := api.NewClient(c.config())
	if err != nil {
		return nil, fmt.Errorf("consul client: %w", err)
	}
	return cl, nil
}

// Leader returns the raft leader's address ("" when the cluster has none).
func (c Client) Leader(ctx context.Context) (string, error) {
	cl, err := c.client()
	if err != nil {
		return "", err
	}
	return cl.Status().LeaderWithQueryOptions((&api.QueryOptions{}).WithContext(ctx))
}

// Peers returns the raft peers' addresses (host:port of their server RPC).
func (c Client) Peers(ctx context.Context) ([]string, error) {
	cl, err := c.client()
	if err != nil {
		return nil, err
	}
	return cl.Status().PeersWithQueryOptions((&api.QueryOptions{}).WithContext(ctx))
}

// withDefaultPort appends port to a bare host (not to a URL or host:port).
func withDefaultPort(addr, port string) string {
	if strings.Contains(addr, "://") {
		return addr
	}
	if _, _, err := net.SplitHostPort(addr); err == nil {
		return addr
	}
	return net.JoinHostPort(strings.Trim(addr, "[]"), port)
}
