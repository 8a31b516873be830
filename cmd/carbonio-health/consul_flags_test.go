package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestDaemonTokenFile checks where the daemon's token comes from: a
// -token-file flag, then Consul's environment, then the Carbonio-style token
// file when it exists.
func TestDaemonTokenFile(t *testing.T) {
	dir := t.TempDir()
	present := filepath.Join(dir, "token")
	if err := os.WriteFile(present, []byte("secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	absent := filepath.Join(dir, "missing")
	tests := []struct {
		name                 string
		flag, def, env, envF string
		wantFile, wantToken  string
	}{
		{name: "default file present", def: present, wantFile: present},
		{name: "default file absent", def: absent},
		{name: "no default (read-only commands)", def: ""},
		{name: "flag wins", flag: "/x/flag", def: present, wantFile: "/x/flag"},
		{name: "CONSUL_HTTP_TOKEN wins", def: present, env: "envtoken", wantToken: "envtoken"},
		{name: "CONSUL_HTTP_TOKEN_FILE wins", def: present, envF: "/x/env", wantFile: "/x/env"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("CONSUL_HTTP_TOKEN", tt.env)
			t.Setenv("CONSUL_HTTP_TOKEN_FILE", tt.envF)
			cf := &consulFlags{tokenFile: tt.flag, defaultTokenFile: tt.def}
			cfg := cf.config()
			if cfg.TokenFile != tt.wantFile || cfg.Token != tt.wantToken {
				t.Errorf("TokenFile %q, Token %q; want %q, %q", cfg.TokenFile, cfg.Token, tt.wantFile, tt.wantToken)
			}
		})
	}
}
