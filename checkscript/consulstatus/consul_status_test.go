package consulstatus

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
)

// statusHandler answers /v1/status/* as a Consul agent does: a leader (or
// "" without one), the peers, or a 500 forwarded from servers without a
// leader.
func statusHandler(leader string, fail bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case fail:
			http.Error(w, "rpc error making call: No cluster leader", http.StatusInternalServerError)
		case r.URL.Path == "/v1/status/leader":
			_, _ = w.Write([]byte(`"` + leader + `"`))
		case r.URL.Path == "/v1/status/peers":
			_, _ = w.Write([]byte(`["10.0.0.1:8300","10.0.0.2:8300"]`))
		default:
			http.NotFound(w, r)
		}
	})
}

// TestAddresses: the same answers over http://, host:port, https:// (with
// Consul's TLS variables) and unix://, and the no-leader classification.
func TestAddresses(t *testing.T) {
	plain := httptest.NewServer(statusHandler("10.0.0.1:8300", false))
	defer plain.Close()
	secure := httptest.NewTLSServer(statusHandler("10.0.0.2:8300", false))
	defer secure.Close()
	sock := filepath.Join(t.TempDir(), "consul.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	unix := &httptest.Server{Listener: l, Config: &http.Server{Handler: statusHandler("10.0.0.3:8300", false)}}
	unix.Start()
	defer unix.Close()
	t.Setenv("CONSUL_HTTP_SSL_VERIFY", "false")
	tests := []struct{ addr, want string }{
		{plain.URL, "10.0.0.1:8300"},
		{strings.TrimPrefix(plain.URL, "http://"), "10.0.0.1:8300"},
		{secure.URL, "10.0.0.2:8300"},
		{"unix://" + sock, "10.0.0.3:8300"},
	}
	for _, tt := range tests {
		c := Client{Addr: tt.addr}
		leader, err := c.Leader(context.Background())
		if err != nil || leader != tt.want {
			t.Errorf("%s: leader %q, %v; want %q", tt.addr, leader, err, tt.want)
		}
		peers, err := c.Peers(context.Background())
		if err != nil || len(peers) != 2 {
			t.Errorf("%s: peers %q, %v", tt.addr, peers, err)
		}
	}
	failing := httptest.NewServer(statusHandler("", true))
	defer failing.Close()
	_, err = Client{Addr: failing.URL}.Leader(context.Background())
	if Classify(err) != NoLeader || !strings.Contains(err.Error(), "Unexpected response code: 500") {
		t.Errorf("no leader: %v (%v)", err, Classify(err))
	}
	t.Setenv("CONSUL_HTTP_ADDR", plain.URL)
	if got := (Client{}).Where(); got != plain.URL {
		t.Errorf("Where() with CONSUL_HTTP_ADDR = %q", got)
	}
}
