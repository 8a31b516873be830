package main

import (
	"os"
	"path/filepath"
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
