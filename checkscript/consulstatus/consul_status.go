// Package consulstatus reads a Consul agent's /v1/status endpoints (the raft
// leader and peers) with net/http and encoding/json: the leader and ping
// probes need these two GETs, not the Consul API client and what it links
// (go-hclog, fatih/color, go-metrics, serf, …).
package consulstatus

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
)

// DefaultAddr is the HTTP API of the local Consul agent on a Carbonio node
// (plain HTTP on loopback).
const DefaultAddr = "127.0.0.1:8500"

// Client reads the /v1/status endpoints, which need no ACL token: the
// probes that use it run as script checks with none. Each request opens its
// own connection (no keep-alive), so that an in-process caller running it
// every interval holds no idle socket.
type Client struct {
	// Addr is host[:port] or a URL (http://, https://, unix://); empty
	// means Consul's own environment (CONSUL_HTTP_ADDR), else DefaultAddr.
	// CONSUL_HTTP_SSL, CONSUL_HTTP_SSL_VERIFY, CONSUL_CACERT,
	// CONSUL_CLIENT_CERT/KEY and CONSUL_TLS_SERVER_NAME apply as in the CLI.
	Addr string
}

// StatusError is an answer other than 200, as Consul's API client reports
// it.
type StatusError struct {
	Code int
	Body string
}

func (e StatusError) Error() string {
	return fmt.Sprintf("Unexpected response code: %d (%s)", e.Code, e.Body)
}

// Where is the agent's address: Addr (a bare host gets port 8500), else
// $CONSUL_HTTP_ADDR, else DefaultAddr.
func (c Client) Where() string {
	if c.Addr != "" {
		return withDefaultPort(c.Addr, "8500")
	}
	if env := os.Getenv("CONSUL_HTTP_ADDR"); env != "" {
		return env
	}
	return DefaultAddr
}

// Leader returns the raft leader's address ("" when the cluster has none).
func (c Client) Leader(ctx context.Context) (string, error) {
	var leader string
	err := c.get(ctx, "/v1/status/leader", &leader)
	return leader, err
}

// Peers returns the raft peers' addresses (host:port of their server RPC).
func (c Client) Peers(ctx context.Context) ([]string, error) {
	var peers []string
	err := c.get(ctx, "/v1/status/peers", &peers)
	return peers, err
}

// NoLeader recognises a Consul error that means "there is no leader to ask"
// (a client agent forwarding to servers that have none, or that it cannot
// reach), as opposed to not reaching the agent at all.
func NoLeader(err error) bool {
	var se StatusError
	if !errors.As(err, &se) {
		return false
	}
	b := strings.ToLower(se.Body)
	return strings.Contains(b, "no cluster leader") || strings.Contains(b, "no known consul servers") ||
		strings.Contains(b, "no path to datacenter")
}

// get decodes the JSON answer of GET path into out.
func (c Client) get(ctx context.Context, path string, out any) error {
	base, transport, err := c.transport()
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
	if err != nil {
		return fmt.Errorf("consul request: %w", err)
	}
	resp, err := (&http.Client{Transport: transport}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return StatusError{Code: resp.StatusCode, Body: strings.TrimSpace(string(body))}
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// transport returns the base URL and a non-pooled transport for Where():
// unix://path dials the socket, https:// (or CONSUL_HTTP_SSL=true) speaks
// TLS with Consul's TLS environment.
func (c Client) transport() (string, *http.Transport, error) {
	addr := c.Where()
	t := &http.Transport{DisableKeepAlives: true, Proxy: http.ProxyFromEnvironment}
	scheme := "http"
	if ssl, _ := strconv.ParseBool(os.Getenv("CONSUL_HTTP_SSL")); ssl {
		scheme = "https"
	}
	switch {
	case strings.HasPrefix(addr, "unix://"):
		sock := strings.TrimPrefix(addr, "unix://")
		t.Proxy = nil
		t.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		}
		return "http://localhost", t, nil
	case strings.HasPrefix(addr, "https://"):
		scheme, addr = "https", strings.TrimPrefix(addr, "https://")
	case strings.HasPrefix(addr, "http://"):
		scheme, addr = "http", strings.TrimPrefix(addr, "http://")
	}
	if scheme == "https" {
		cfg, err := tlsConfig()
		if err != nil {
			return "", nil, err
		}
		t.TLSClientConfig = cfg
	}
	return scheme + "://" + strings.TrimSuffix(addr, "/"), t, nil
}

// tlsConfig reads Consul's TLS environment, as the CLI does.
func tlsConfig() (*tls.Config, error) {
	cfg := &tls.Config{ServerName: os.Getenv("CONSUL_TLS_SERVER_NAME")}
	if v := os.Getenv("CONSUL_HTTP_SSL_VERIFY"); v != "" {
		verify, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fmt.Errorf("CONSUL_HTTP_SSL_VERIFY: %w", err)
		}
		cfg.InsecureSkipVerify = !verify
	}
	if ca := os.Getenv("CONSUL_CACERT"); ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			return nil, fmt.Errorf("CONSUL_CACERT: %w", err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CONSUL_CACERT %s: no PEM certificate", ca)
		}
	}
	if cert, key := os.Getenv("CONSUL_CLIENT_CERT"), os.Getenv("CONSUL_CLIENT_KEY"); cert != "" || key != "" {
		pair, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			return nil, fmt.Errorf("CONSUL_CLIENT_CERT/KEY: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
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
