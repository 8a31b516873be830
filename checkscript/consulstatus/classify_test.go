package consulstatus

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"syscall"
	"testing"

	"github.com/hashicorp/consul/api"
)

// TestClassify: every answer of Consul the tool decides on, as consul/api
// returns it, and the failures to get one.
func TestClassify(t *testing.T) {
	refused := &url.Error{Op: "Get", URL: "http://127.0.0.1:1/v1/agent/self",
		Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}}
	tests := []struct {
		name   string
		err    error
		want   Kind
		reason string
	}{
		{"no error", nil, None, ""},
		{"connection refused", refused, Unreachable, refused.Error()},
		{"EOF", &url.Error{Op: "Put", URL: "x", Err: errors.New("EOF")}, Unreachable, ""},
		{"no answer in time", &url.Error{Op: "Get", URL: "x", Err: context.DeadlineExceeded}, Unreachable, ""},
		{"caller canceled", &url.Error{Op: "Get", URL: "x", Err: context.Canceled}, Canceled, ""},
		{"permission", api.StatusError{Code: 403, Body: `Permission denied: token with AccessorID 'a' lacks permission 'service:write' on "carbonio-mta-smtp"`},
			Denied, "service:write on carbonio-mta-smtp"},
		{"token gone", api.StatusError{Code: 403, Body: "ACL not found"}, Denied, "a valid token (ACL not found: the token was deleted or never existed)"},
		{"unknown check", api.StatusError{Code: 404, Body: `Unknown check ID "x"`}, NotFound, `Unknown check ID "x"`},
		{"not a TTL check", api.StatusError{Code: 500, Body: `CheckID "x" does not have associated TTL`}, NotFound, ""},
		{"no leader", api.StatusError{Code: 500, Body: "rpc error making call: No cluster leader"}, NoLeader, ""},
		{"no servers", api.StatusError{Code: 500, Body: "No known Consul servers"}, NoLeader, ""},
		{"server gone", api.StatusError{Code: 500, Body: "rpc error making call: EOF"}, Transport, ""},
		{"server distrusts", api.StatusError{Code: 500, Body: "rpc error getting client: failed to get conn: dial tcp: connection refused"}, Transport, ""},
		{"reload failed", api.StatusError{Code: 500, Body: "Failed to parse /etc/consul.d/x.json: invalid character"}, Rejected,
			"Failed to parse /etc/consul.d/x.json: invalid character"},
		{"bad definition", api.StatusError{Code: 400, Body: "Invalid check: TTL must be > 0"}, Rejected, ""},
		{"missing permission, no resource", api.StatusError{Code: 403, Body: `Permission denied: token with AccessorID 'a1' lacks permission 'operator:read'`},
			Denied, "operator:read"},
		{"deleted token through a server", api.StatusError{Code: 403, Body: "rpc error making call: ACL not found"},
			Denied, "a valid token (ACL not found: the token was deleted or never existed)"},
		{"other refusal quoted", api.StatusError{Code: 403, Body: "Permission denied"}, Denied, "Permission denied"},
		{"an answer whose body says EOF", api.StatusError{Code: 500, Body: "EOF"}, Rejected, "EOF"},
		{"client: no leader", api.StatusError{Code: 500, Body: "rpc error making call: No cluster leader"}, NoLeader, ""},
		{"wrapped", fmt.Errorf("register service x: %w", api.StatusError{Code: 403, Body: "Permission denied"}), Denied, ""},
	}
	// A real refused connection: a port that was listening and is not now.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, real := Client{Addr: addr}.Leader(context.Background())
	tests = append(tests, struct {
		name   string
		err    error
		want   Kind
		reason string
	}{"a real refused connection", real, Unreachable, ""})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Classify(tt.err); got != tt.want {
				t.Errorf("Classify = %v, want %v", got, tt.want)
			}
			if tt.reason != "" && Reason(tt.err) != tt.reason {
				t.Errorf("Reason = %q, want %q", Reason(tt.err), tt.reason)
			}
		})
	}
}
