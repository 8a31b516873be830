package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestResolveSelf: -self names carbonio-health; carbonio-health-check next
// to it runs the light probes when it is there, and is refused as -self.
func TestResolveSelf(t *testing.T) {
	dir := t.TempDir()
	full := filepath.Join(dir, "carbonio-health")
	slim := filepath.Join(dir, CheckBinary)
	if err := os.WriteFile(full, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got, err := resolveSelf(full); err != nil || got.Self != full || got.Light != "" {
		t.Errorf("without %s: %+v, %v", CheckBinary, got, err)
	}
	if err := os.WriteFile(slim, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got, err := resolveSelf(full); err != nil || got.Self != full || got.Light != slim {
		t.Errorf("with %s: %+v, %v", CheckBinary, got, err)
	}
	if _, err := resolveSelf(slim); err == nil {
		t.Errorf("-self %s accepted", slim)
	}
}

// TestRunBadDeclarationExitsConfig: a declaration that does not load stops
// run at once with EX_CONFIG (78), which the unit does not restart on, and
// the diagnostics name the file and line.
func TestRunBadDeclarationExitsConfig(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "node.hcl"), []byte("node {\n  roles = [\"mta\"]\n}\noverride \"mta\" \"smtp\" {\n  port = 70000\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	code := runDaemon(t.Context(), []string{"-config-dir", dir, "-http-addr", "127.0.0.1:1", "-metrics-addr", ""}, io.Discard, &stderr)
	if code != ExitConfig {
		t.Errorf("exit %d, want %d", code, ExitConfig)
	}
	if want := filepath.Join(dir, "node.hcl") + ":5:"; !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
	}
}
