package registrar

import (
	"fmt"
	"io"
	"net"
	"net/url"
	"testing"

	"github.com/hashicorp/consul/api"
)

// TestLeaderPollErrors: only a failed connection to the agent means the
// agent is gone; an answer from it never does, even one whose body says
// EOF. A client's failed RPC transport says nothing about the leader; "No
// cluster leader" does.
func TestLeaderPollErrors(t *testing.T) {
	// A real refused connection: a port that was listening and is not now.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	client, err := api.NewClient(&api.Config{Address: addr})
	if err != nil {
		t.Fatal(err)
	}
	_, refused := client.Status().Leader()
	if refused == nil {
		t.Fatal("no error from a closed port")
	}
	tests := []struct {
		name                string
		err                 error
		unreachable, broken bool
	}{
		{"connection refused", refused, true, false},
		{"connection closed mid-answer", &url.Error{Op: "Get", URL: "http://" + addr, Err: io.EOF}, true, false},
		{"client: its server killed", api.StatusError{Code: 500, Body: "rpc error making call: EOF"}, false, true},
		{"client: no conn to a server", api.StatusError{Code: 500, Body: "rpc error getting client: failed to get conn: dial tcp 127.0.0.5:0->127.0.0.1:8300: connect: connection refused"}, false, true},
		{"client: no leader", api.StatusError{Code: 500, Body: "rpc error making call: No cluster leader"}, false, false},
		{"server: no leader", api.StatusError{Code: 500, Body: "No cluster leader"}, false, false},
		{"wrapped answer", fmt.Errorf("leader: %w", api.StatusError{Code: 500, Body: "rpc error making call: EOF"}), false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := agentUnreachable(tt.err); got != tt.unreachable {
				t.Errorf("agentUnreachable(%v) = %v, want %v", tt.err, got, tt.unreachable)
			}
			if got := rpcBroken(tt.err); got != tt.broken {
				t.Errorf("rpcBroken(%v) = %v, want %v", tt.err, got, tt.broken)
			}
		})
	}
}
