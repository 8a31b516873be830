package registrar

import (
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/zextras/carbonio-health/registrar/consultest"
)

// TestWatchNoticesDrift: with the periodic comparison pushed out to an
// hour, only the NodeWatch can notice a service deregistered by hand (the
// agent syncs it to the catalog, the blocking query returns): it is back
// at once. With a token that cannot read the node, the watch polls instead.
func TestWatchNoticesDrift(t *testing.T) {
	tests := []struct {
		name      string
		nodeRead  bool
		wantBlind bool
	}{
		{"blocking query", true, false},
		{"token without node read: polling", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newNodeFixture(t, consultest.Options{ACL: true}, true)
			rules := `service_prefix "carbonio-" { policy = "write" }
agent_prefix "" { policy = "read" }
`
			if tt.nodeRead {
				rules += `node_prefix "" { policy = "read" }` + "\n"
			}
			p, _, err := n.client.ACL().PolicyCreate(&api.ACLPolicy{Name: "p", Rules: rules}, nil)
			if err != nil {
				t.Fatal(err)
			}
			tok, _, err := n.client.ACL().TokenCreate(&api.ACLToken{Policies: []*api.ACLTokenPolicyLink{{ID: p.ID}}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			load, _ := n.declare(t, false)
			logs := &testWriter{t: t}
			startDaemon(t, &Daemon{Client: n.agent.Client(t, tok.SecretID), Log: loggerTo(t, logs), Load: load, Resync: time.Hour})
			consultest.Eventually(t, "the web service registered", func() bool { return owned(t, n.client)[webID] != nil })
			if err := n.client.Agent().ServiceDeregister(webID); err != nil {
				t.Fatal(err)
			}
			gone := time.Now()
			consultest.Eventually(t, "the web service back", func() bool { return owned(t, n.client)[webID] != nil })
			t.Logf("back after %v", time.Since(gone).Round(time.Millisecond))
			if blind := logs.contains("cannot read this node"); blind != tt.wantBlind {
				t.Errorf("logged the polling fallback: %v, want %v", blind, tt.wantBlind)
			}
		})
	}
}
