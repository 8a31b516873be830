package checkscript

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestWatchChanges watches real unix sockets come and go.
func TestWatchChanges(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "clamd.sock")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events := make(chan string, 16)
	if err := WatchChanges(ctx, []string{sock}, func(p string) { events <- p }); err != nil {
		t.Fatal(err)
	}
	var l net.Listener
	steps := []struct {
		name string
		act  func()
		want bool // a notification for sock
	}{
		{"socket created", func() {
			var err error
			if l, err = net.Listen("unix", sock); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"unrelated file in the same folder", func() { os.WriteFile(filepath.Join(dir, "other"), nil, 0o644) }, false},
		{"socket removed", func() { l.Close(); os.Remove(sock) }, true},
	}
	for _, s := range steps {
		drain(events)
		s.act()
		got := waitEvent(events, sock, s.want)
		if got != s.want {
			t.Errorf("%s: notified = %v, want %v", s.name, got, s.want)
		}
	}
}

// TestWatchChangesLateParent: the socket's folder appears after the start.
func TestWatchChangesLateParent(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run", "carbonio")
	sock := filepath.Join(dir, "mysql.sock")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events := make(chan string, 16)
	if err := WatchChanges(ctx, []string{sock}, func(p string) { events <- p }); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// The retry period is 5 s; allow a few.
	select {
	case p := <-events:
		if p != sock {
			t.Errorf("notified %q", p)
		}
	case <-time.After(3 * rewatchPeriod):
		t.Fatal("no notification after the folder appeared")
	}
}

func TestWatchPaths(t *testing.T) {
	tests := []struct {
		probe string
		args  []string
		want  int
	}{
		{"socket", []string{"-p", "/run/x.sock"}, 1},
		{"load", []string{"-w", "1,1,1", "-c", "2,2,2"}, 0},
	}
	for _, tt := range tests {
		c, err := Light.New(tt.probe, tt.args)
		if err != nil {
			t.Fatal(err)
		}
		w, ok := c.(Watcher)
		if !ok || len(w.WatchPaths()) != tt.want {
			t.Errorf("%s: Watcher %v, paths %v", tt.probe, ok, w)
		}
	}
}

func drain(c chan string) {
	for {
		select {
		case <-c:
		default:
			return
		}
	}
}

// waitEvent reports whether path was notified: waits up to 5 s when one
// is expected, and 300 ms to be confident none comes otherwise.
func waitEvent(c chan string, path string, expected bool) bool {
	wait := 300 * time.Millisecond
	if expected {
		wait = 5 * time.Second
	}
	deadline := time.After(wait)
	for {
		select {
		case p := <-c:
			if p == path {
				return true
			}
		case <-deadline:
			return false
		}
	}
}
