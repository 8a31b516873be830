package registrar

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/zextras/carbonio-health/registrar/consultest"
)

// TestDaemonScriptModeOncePerConnection: the mode is decided when the
// agent is reached and kept; a reload probes nothing; after an outage it is
// decided again, and a config dir that turned unusable is a logged error
// with the last mode kept, never a silent empty mode.
func TestDaemonScriptModeOncePerConnection(t *testing.T) {
	n := newNodeFixture(t, consultest.Options{ScriptChecks: consultest.ScriptChecksLocal}, false)
	load, _ := n.declare(t, true)
	dir := filepath.Join(t.TempDir(), "agent-config")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	log := &testWriter{t: t}
	d := &Daemon{Client: n.client, AgentConfigDir: dir, Load: load,
		Log: hclog.New(&hclog.LoggerOptions{Output: log, Level: hclog.Info})}
	if err := d.connect(context.Background()); err != nil {
		t.Fatal(err)
	}
	plan, err := load()
	if err != nil {
		t.Fatal(err)
	}
	if err := d.setPlan(t.Context(), plan); err != nil || d.rec.Mode != ScriptConfig {
		t.Fatalf("setPlan: %v, mode %q; want %q", err, d.rec.Mode, ScriptConfig)
	}

	// The dir turns unusable: a declaration set now keeps the decision of
	// the connection (no new probe file, no new mode).
	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := d.setPlan(t.Context(), plan); err != nil || d.rec.Mode != ScriptConfig {
		t.Fatalf("setPlan again: %v, mode %q; want the connection's %q", err, d.rec.Mode, ScriptConfig)
	}

	// After an outage the mode is decided again: no way left is an error
	// in the log, and the last mode stays.
	if err := d.reconnect(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d.rec.Mode != ScriptConfig {
		t.Errorf("mode after reconnect = %q, want the last one kept", d.rec.Mode)
	}
	logged := strings.Join(log.lines, "")
	if !strings.Contains(logged, "[ERROR]") || !strings.Contains(logged, "is not writable") {
		t.Errorf("no error logged for the unwritable config dir:\n%s", logged)
	}
}
