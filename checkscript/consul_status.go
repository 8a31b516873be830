package checkscript

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/hashicorp/consul/api"
)

// DefaultConsulAddr is the HTTP API of the local Consul agent on a Carbonio
// node (plain HTTP on loopback).
const DefaultConsulAddr = "127.0.0.1:8500"

// consulStatus reads a Consul agent's /v1/status endpoints, which need no
// ACL token: the probes that use it run as script checks with none.
type consulStatus struct {
	// addr is host[:port] or a URL (http://, https://, unix://); empty
	// means Consul's own environment (CONSUL_HTTP_ADDR), else
	// DefaultConsulAddr.
	addr string
}

// client returns a client without keep-alive connections, so that an
// in-process caller running it every interval holds no idle socket. The
// rest of Consul's environment (CONSUL_CACERT, …) applies as in the CLI.
func (s consulStatus) client() (*api.Client, error) {
	cfg := api.DefaultNonPooledConfig()
	cfg.Address = s.where()
	c, err := api.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("consul client for %s: %w", cfg.Address, err)
	}
	return c, nil
}

// where is the agent's address: addr, else $CONSUL_HTTP_ADDR, else
// DefaultConsulAddr.
func (s consulStatus) where() string {
	if s.addr != "" {
		return withDefaultPort(s.addr, "8500")
	}
	if env := os.Getenv(api.HTTPAddrEnvName); env != "" {
		return env
	}
	return DefaultConsulAddr
}

// leader returns the raft leader's address ("" when the cluster has none).
func (s consulStatus) leader(ctx context.Context) (string, error) {
	c, err := s.client()
	if err != nil {
		return "", err
	}
	return c.Status().LeaderWithQueryOptions((&api.QueryOptions{}).WithContext(ctx))
}

// peers returns the raft peers' addresses (host:port of their server RPC).
func (s consulStatus) peers(ctx context.Context) ([]string, error) {
	c, err := s.client()
	if err != nil {
		return nil, err
	}
	return c.Status().PeersWithQueryOptions((&api.QueryOptions{}).WithContext(ctx))
}

// noLeaderAnswer recognises a Consul error that means "there is no leader
// to ask" (a client agent forwarding to servers that have none, or that it
// cannot reach), as opposed to not reaching the agent at all.
func noLeaderAnswer(err error) bool {
	var se api.StatusError
	if !errors.As(err, &se) {
		return false
	}
	b := strings.ToLower(se.Body)
	return strings.Contains(b, "no cluster leader") || strings.Contains(b, "no known consul servers") ||
		strings.Contains(b, "no path to datacenter")
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
