package main

import (
	"flag"
	"fmt"

	"github.com/hashicorp/consul/api"
)

// consulFlags are the Consul connection flags every command that talks to an
// agent shares. Unset flags leave api.DefaultConfig's values, which come from
// Consul's own environment (CONSUL_HTTP_ADDR, CONSUL_HTTP_TOKEN,
// CONSUL_HTTP_TOKEN_FILE, CONSUL_CACERT, CONSUL_CLIENT_CERT, …), so the
// commands behave like the consul CLI on the same machine.
type consulFlags struct {
	addr, tokenFile, caFile, certFile, keyFile, datacenter string
}

// addConsulFlags declares the connection flags on fs.
func addConsulFlags(fs *flag.FlagSet) *consulFlags {
	c := &consulFlags{}
	fs.StringVar(&c.addr, "http-addr", "", "Consul HTTP API address, e.g. 127.0.0.1:8500 or https://… (default $CONSUL_HTTP_ADDR)")
	fs.StringVar(&c.tokenFile, "token-file", "", "file holding the ACL token (default $CONSUL_HTTP_TOKEN_FILE or $CONSUL_HTTP_TOKEN)")
	fs.StringVar(&c.caFile, "ca-file", "", "CA certificate for TLS to Consul (default $CONSUL_CACERT)")
	fs.StringVar(&c.certFile, "client-cert", "", "client certificate for TLS to Consul (default $CONSUL_CLIENT_CERT)")
	fs.StringVar(&c.keyFile, "client-key", "", "client key for TLS to Consul (default $CONSUL_CLIENT_KEY)")
	fs.StringVar(&c.datacenter, "datacenter", "", "Consul datacenter (default the agent's)")
	return c
}

// config returns the api configuration: Consul's environment, then flags.
// The token itself is never logged or printed.
func (c *consulFlags) config() *api.Config {
	cfg := api.DefaultConfig()
	if c.addr != "" {
		cfg.Address = c.addr
	}
	if c.tokenFile != "" {
		cfg.TokenFile = c.tokenFile
		cfg.Token = ""
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

// client builds an api client from config().
func (c *consulFlags) client() (*api.Client, error) {
	cl, err := api.NewClient(c.config())
	if err != nil {
		return nil, fmt.Errorf("consul client: %w", err)
	}
	return cl, nil
}
