package main

import (
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/zextras/carbonio-health/registrar/consultest"
)

// TestClusterShape: the shared cluster is configured as Carbonio's is, and
// the daemon on each client has its role's services in the catalog,
// passing, registered with its own least-privilege token.
func TestClusterShape(t *testing.T) {
	f := sharedCluster(t)
	for _, n := range f.Nodes() {
		self, err := n.Client(f.ManagementToken).Agent().Self()
		if err != nil {
			t.Fatalf("%s: %v", n.Name, err)
		}
		dc := self["DebugConfig"]
		tls, _ := dc["TLS"].(map[string]any)
		rpc, _ := tls["InternalRPC"].(map[string]any)
		got := map[string]any{
			"verify_incoming":        rpc["VerifyIncoming"],
			"verify_outgoing":        rpc["VerifyOutgoing"],
			"verify_server_hostname": rpc["VerifyServerHostname"],
			"acl default":            nested(dc, "ACLResolverSettings", "ACLDefaultPolicy"),
			"acl down":               nested(dc, "ACLResolverSettings", "ACLDownPolicy"),
			"token persistence":      nested(dc, "ACLTokens", "EnablePersistence"),
			"gossip encrypted":       nested(self["Stats"], "serf_lan", "encrypted"),
			"auto_encrypt":           dc["AutoEncryptTLS"],
			"auto_encrypt allow":     dc["AutoEncryptAllowTLS"],
		}
		want := map[string]any{
			"verify_incoming": true, "verify_outgoing": true, "verify_server_hostname": true,
			"acl default": "deny", "acl down": "extend-cache", "token persistence": true,
			"gossip encrypted": "true", "auto_encrypt": !n.Server, "auto_encrypt allow": n.Server,
		}
		for k, w := range want {
			if fmt.Sprint(got[k]) != fmt.Sprint(w) {
				t.Errorf("%s: %s = %v, want %v", n.Name, k, got[k], w)
			}
		}
		// Requests without a token get the agent's default token (Carbonio
		// sets it to the node's): a read-only token is what shows the deny.
		reg := &api.AgentServiceRegistration{ID: "ro", Name: "ro"}
		if err := n.Client(f.StatusToken).Agent().ServiceRegister(reg); err == nil {
			t.Errorf("%s: registration with the read-only token accepted", n.Name)
		}
	}
	// RPC without TLS is turned away (verify_incoming).
	s := f.Servers[0]
	conn, err := net.DialTimeout("tcp", s.RPCAddr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, _ = conn.Write([]byte{0}) // pool.RPCConsul: plain msgpack RPC
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("plain RPC to %s: read %v, want the connection closed", s.Name, err)
	}
	consultest.Eventually(t, "the server to log the refused plain RPC", func() bool {
		return strings.Contains(s.Log(), "Non-TLS connection attempted with VerifyIncoming set")
	})
	if wrong := f.catalogTrue(); wrong != "" {
		t.Errorf("catalog: %s", wrong)
	}
}

// nested reads m[k1][k2]… from decoded JSON, nil when a level is missing.
func nested(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}
