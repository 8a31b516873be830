package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/crypto/bcrypt"
)

// writeCert writes a self-signed certificate for 127.0.0.1 and its key
// into dir as name.crt and name.key.
func writeCert(t *testing.T, dir, name string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "carbonio-health test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"localhost"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, name+".crt"), string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	writeFile(t, filepath.Join(dir, name+".key"), string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})))
}

func bcryptHash(t *testing.T, pw string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

// TestCheckWebConfig: every mistake of a web config is an error naming the
// file and the line (and column) at fault; a good file says whether it
// protects the endpoint.
func TestCheckWebConfig(t *testing.T) {
	dir := t.TempDir()
	writeCert(t, dir, "a")
	writeCert(t, dir, "b")
	hash := bcryptHash(t, "s3cret")
	tests := []struct {
		name, src string
		wantErr   []string // substrings of the error; nil: valid
		protected bool
	}{
		{"TLS and basic auth", "tls_server_config:\n  cert_file: a.crt\n  key_file: a.key\nbasic_auth_users:\n  prometheus: " + hash + "\n", nil, true},
		{"basic auth only", "basic_auth_users:\n  prometheus: '" + hash + "'\n", nil, true},
		{"empty file", "# nothing\n", nil, false},
		{"not YAML", "basic_auth_users:\n  prometheus: [\n", []string{"web.yml:2:", "yaml"}, false},
		{"unknown key", "tls_server_config:\n  cert_file: a.crt\n  key_file: a.key\nbasic_auth_user:\n  x: y\n", []string{"web.yml:4:", "basic_auth_user"}, false},
		{"password not hashed", "basic_auth_users:\n  alice: " + hash + "\n  prometheus: s3cret\n", []string{"web.yml:3:15:", `"prometheus"`, "not a bcrypt hash"}, false},
		{"certificate missing", "tls_server_config:\n  cert_file: missing.crt\n  key_file: a.key\n", []string{"web.yml:2:14:", "cert_file", "missing.crt", "no such file"}, false},
		{"key missing", "tls_server_config:\n  cert_file: a.crt\n  key_file: /nonexistent/a.key\n", []string{"web.yml:3:13:", "key_file"}, false},
		{"key of another certificate", "# TLS\ntls_server_config:\n  cert_file: a.crt\n  key_file: b.key\n", []string{"web.yml:2:", "private key does not match"}, false},
		{"key without certificate", "tls_server_config:\n  key_file: a.key\n", []string{"web.yml:1:", "cert"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "web.yml")
			writeFile(t, path, tt.src)
			protected, err := checkWebConfig(path)
			if tt.wantErr == nil {
				if err != nil || protected != tt.protected {
					t.Fatalf("checkWebConfig = %v, %v; want %v, nil", protected, err, tt.protected)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error for:\n%s", tt.src)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if !strings.HasPrefix(err.Error(), path+":") {
				t.Errorf("error %q does not start with the file", err)
			}
		})
	}
}

// TestRunRefusesBadWebConfig: `run` stops at once, before any agent is
// asked, with the file and line, and serves nothing.
func TestRunRefusesBadWebConfig(t *testing.T) {
	dir := t.TempDir()
	web := filepath.Join(dir, "web.yml")
	writeFile(t, web, "basic_auth_users:\n  prometheus: plain-password\n")
	var stderr strings.Builder
	code := dispatch(context.Background(), []string{"run", "-http-addr", "127.0.0.1:1", "-metrics-addr", "127.0.0.1:0",
		"-web.config.file", web, "-config-dir", dir}, io.Discard, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), web+":2:15:") || !strings.Contains(stderr.String(), "not a bcrypt hash") {
		t.Errorf("run: exit %d, stderr:\n%s", code, stderr.String())
	}
	stderr.Reset()
	code = dispatch(context.Background(), []string{"run", "-metrics-addr", "", "-web.config.file", web, "-config-dir", dir}, io.Discard, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "-metrics-addr is empty") {
		t.Errorf("run without an endpoint: exit %d, stderr:\n%s", code, stderr.String())
	}
}

// TestMetricsEndpointTLSBasicAuth serves /metrics with a web config of TLS
// and basic auth: no password or a wrong one is refused, plain HTTP gets no
// metrics, the right password over TLS gets them.
func TestMetricsEndpointTLSBasicAuth(t *testing.T) {
	dir := t.TempDir()
	writeCert(t, dir, "a")
	web := filepath.Join(dir, "web.yml")
	writeFile(t, web, "tls_server_config:\n  cert_file: a.crt\n  key_file: a.key\nbasic_auth_users:\n  prometheus: "+bcryptHash(t, "s3cret")+"\n")
	m, err := listenMetrics("127.0.0.1:0", web, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { m.serve(ctx, hclog.NewNullLogger()); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	pool := x509.NewCertPool()
	crt, err := os.ReadFile(filepath.Join(dir, "a.crt"))
	if err != nil {
		t.Fatal(err)
	}
	pool.AppendCertsFromPEM(crt)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"}}, Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	get := func(scheme, user, pw string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, scheme+"://"+m.ln.Addr().String()+"/metrics", nil)
		if user != "" {
			req.SetBasicAuth(user, pw)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, tt := range []struct {
		scheme, user, pw string
		want             int
	}{
		{"https", "", "", http.StatusUnauthorized},
		{"https", "prometheus", "wrong", http.StatusUnauthorized},
		{"http", "prometheus", "s3cret", http.StatusBadRequest}, // Go's answer to plain HTTP on a TLS port
		{"https", "prometheus", "s3cret", http.StatusOK},
	} {
		code, body := get(tt.scheme, tt.user, tt.pw)
		if code != tt.want {
			t.Errorf("%s as %q/%q: %d, want %d (%.200s)", tt.scheme, tt.user, tt.pw, code, tt.want, body)
		}
		if (code == http.StatusOK) != strings.Contains(body, "carbonio_health_build_info") {
			t.Errorf("%s as %q: metrics served with status %d", tt.scheme, tt.user, code)
		}
	}
}
