package main

import (
	"flag"
	"fmt"
	"net/http"
	"os"

	"github.com/hashicorp/consul/api"
)

// DaemonTokenFile is where the daemon's ACL token lives on a Carbonio node:
// Carbonio's packages write each service's token to
// /etc/carbonio/<svc>/service-discover/token (mode 0600), and this is the
// same place for the "health" service.
const DaemonTokenFile = "/etc/carbonio/health/service-discover/token"

// consulFlags are the Consul connection flags every command that talks to an
// agent shares. Unset flags leave api.DefaultConfig's values, which come from
// Consul's own environment (CONSUL_HTTP_ADDR, CONSUL_HTTP_TOKEN,
// CONSUL_HTTP_TOKEN_FILE, CONSUL_CACERT, CONSUL_CLIENT_CERT, …), so the
// commands behave like the consul CLI on the same machine.
type consulFlags struct {
	addr, tokenFile, caFile, certFile, keyFile, datacenter string
	// defaultTokenFile is read when it exists and neither -token-file nor
	// Consul's environment gives a token (run and deregister set it to
	// DaemonTokenFile; read-only commands leave it empty).
	defaultTokenFile string

	// cl is the command's one client, built on first use; transport is
	// its connection pool, which close empties.
	cl        *api.Client
	transport *http.Transport
}

// addConsulFlags declares the connection flags on fs.
func addConsulFlags(fs *flag.FlagSet) *consulFlags {
	c := &consulFlags{}
	fs.StringVar(&c.addr, "http-addr", "", "Consul HTTP API address, e.g. 127.0.0.1:8500 or https://… (default $CONSUL_HTTP_ADDR)")
	fs.StringVar(&c.tokenFile, "token-file", "", "file holding the ACL token (default $CONSUL_HTTP_TOKEN_FILE or $CONSUL_HTTP_TOKEN; run and deregister then use "+DaemonTokenFile+" when it exists)")
	fs.StringVar(&c.caFile, "ca-file", "", "CA certificate for TLS to Consul (default $CONSUL_CACERT)")
	fs.StringVar(&c.certFile, "client-cert", "", "client certificate for TLS to Consul (default $CONSUL_CLIENT_CERT)")
	fs.StringVar(&c.keyFile, "client-key", "", "client key for TLS to Consul (default $CONSUL_CLIENT_KEY)")
	fs.StringVar(&c.datacenter, "datacenter", "", "Consul datacenter (default the agent's)")
	return c
}

// config returns the api configuration: Consul's environment, then flags,
// then the default token file.
// The token itself is never logged or printed.
func (c *consulFlags) config() *api.Config {
	cfg := api.DefaultConfig()
	if c.addr != "" {
		cfg.Address = c.addr
	}
	switch {
	case c.tokenFile != "":
		cfg.TokenFile = c.tokenFile
		cfg.Token = ""
	case cfg.Token == "" && cfg.TokenFile == "" && c.defaultTokenFile != "":
		if _, err := os.Stat(c.defaultTokenFile); err == nil {
			cfg.TokenFile = c.defaultTokenFile
		}
	}
	if c.caFile != "" {
		cfg.TLSConfig.CAFile = c.caFile
	}
	if c.certFile != "" {
		cfg.TLSConfig.CertFile = c.certFile
	}
	if c.keyFile != "" {
		cfg.TLSConfig.KeyFile = c.keyFile
	}
	if c.datacenter != "" {
		cfg.Datacenter = c.datacenter
	}
	return cfg
}

// client returns the command's api client, built from config() on first
// use: one connection pool per command, whatever it reads.
func (c *consulFlags) client() (*api.Client, error) {
	if c.cl != nil {
		return c.cl, nil
	}
	cfg := c.config()
	cl, err := api.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("consul client: %w", err)
	}
	c.cl, c.transport = cl, cfg.Transport
	return cl, nil
}

// close closes the client's idle connections: a command that ends returns
// its keep-alive connections to the agent, which counts them per client
// address (http_max_conns_per_client, 200), also when the command runs
// in-process, as in the tests.
func (c *consulFlags) close() {
	if c.transport != nil {
		c.transport.CloseIdleConnections()
	}
}
