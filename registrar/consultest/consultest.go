// Package consultest starts real Consul agents (the pinned build in bin/)
// for integration tests, on top of Consul's own test SDK
// (github.com/hashicorp/consul/sdk): ports come from sdk/freeport, waiting
// is sdk/testutil/retry. It adds only what the SDK's TestServer lacks:
// an agent that can be stopped, have its data dir wiped and be started again
// on the same ports and configuration, as an operator would, in the
// script-check and ACL configurations the tests need.
//
// The exported API, for the tests of every package:
//
//   - Binary: the Consul binary, or a failure under make test;
//   - Start, Options, ScriptChecks: a single-node server agent;
//   - Agent: its addresses and dirs, Client, Stop, Start (same ports),
//     WipeDataDir, WaitReady, Log;
//   - Wait: the retryer tests poll the agent (or a daemon) with;
//   - Listen: a TCP or unix listener that accepts and closes connections.
//
// Only _test.go files import it; `make test` checks that no other package
// does.
package consultest

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/consul/sdk/testutil/retry"
)

// Binary returns the Consul binary: $CARBONIO_HEALTH_CONSUL, else bin/consul
// at the module root. When it is missing the test fails under
// CARBONIO_HEALTH_INTEGRATION=1 (make test) and is skipped otherwise.
func Binary(t testing.TB) string {
	t.Helper()
	return Built(t, "CARBONIO_HEALTH_CONSUL", "consul")
}

// Built returns a binary `make <name>` builds into bin/: $env when set,
// else bin/<name> at the module root (bin/consul, bin/prometheus,
// bin/promtool). When it is missing the test fails under
// CARBONIO_HEALTH_INTEGRATION=1 (make test) and is skipped otherwise.
func Built(t testing.TB, env, name string) string {
	t.Helper()
	path := os.Getenv(env)
	if path == "" {
		if root, err := moduleRoot(); err == nil {
			path = filepath.Join(root, "bin", name)
		}
	}
	if st, err := os.Stat(path); err == nil && !st.IsDir() {
		return path
	}
	Missing(t, "no %s binary at %q: run `make %s`", name, path, name)
	return ""
}

// Missing reports a part of a test that is not there (a binary, a tool, a
// package, root): a failure under CARBONIO_HEALTH_INTEGRATION=1 (make test,
// where a missing part is a build step, never a skip), a skip otherwise.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CARBONIO_HEALTH_INTEGRATION") == "1" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

// moduleRoot walks up from the working directory to go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}

// Wait returns the retryer for waiting on an agent, a daemon or a tool to
// reach a state: every 50 ms for up to 90 s. The deadline catches a hang; it
// is not a timing claim.
func Wait() *retry.Timer {
	return &retry.Timer{Timeout: 90 * time.Second, Wait: 50 * time.Millisecond}
}

// Eventually retries cond with Wait until it holds, and fails the test
// naming what it waited for: the one polling loop of the tests.
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	retry.RunWith(Wait(), t, func(r *retry.R) {
		if !cond() {
			r.Fatalf("timed out waiting for %s", what)
		}
	})
}
