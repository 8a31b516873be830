package registrar

import (
	"fmt"
	"io"
	"net"
	"net/url"
	"testing"

	"github.com/hashicorp/consul/api"
)

// TestAgentUnreachable: only a failed connection to the agent means the
// agent is gone; an answer from it never does, even one whose body says
// EOF (a client agent whose servers reject its RPC connections).
func TestAgentUnreachable(t *testing.T) {
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
		name string
		err  error
		want bool
	}{
		{"connection refused", refused, true},
		{"connection closed mid-answer", &url.Error{Op: "Get", URL: "http://" + addr, Err: io.EOF}, true},
		{"agent answers 500 rpc EOF", api.StatusError{Code: 500, Body: "rpc error making call: EOF"}, false},
		{"agent answers 500 no leader", api.StatusError{Code: 500, Body: "No cluster leader"}, false},
		{"wrapped answer", fmt.Errorf("leader: %w", api.StatusError{Code: 500, Body: "EOF"}), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := agentUnreachable(tt.err); got != tt.want {
				t.Errorf("agentUnreachable(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}
