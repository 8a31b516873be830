package checkscript

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"net"
	"os"
	"time"
)

// socketProbe is the socket probe's entry in the registry of the light probes (Light).
var socketProbe = Probe{
	Name:    "socket",
	Label:   "SOCKET",
	Summary: "A unix socket exists and a process listens on it (asked of the kernel, without connecting), or, with -connect, accepts a connection (ClamAV, MariaDB).",
	Define: func(fs *flag.FlagSet) func() (Check, error) {
		c := &socketCheck{}
		StringFlag(fs, &c.path, "p", "path", "", "socket path (required)")
		BoolFlag(fs, &c.connect, "C", "connect", "also connect to the socket")
		return func() (Check, error) {
			if c.path == "" {
				return nil, errors.New("-p PATH is required")
			}
			return c, nil
		}
	},
}

// socketCheck verifies a unix socket is present (and optionally accepting).
type socketCheck struct {
	path    string
	connect bool
	// calls bounds the stat and connect calls given up on (a hung mount)
	// to one: later runs report the hang at once (Blocking).
	calls Calls
}

// Run stats the socket (and connects to it with -connect), giving up when
// ctx ends: a socket under a hung mount is CRITICAL, named so. Its output
// has no moving part but the perfdata (-connect's time), which the steady
// form drops.
func (c *socketCheck) Run(ctx context.Context) Result {
	ctx, cancel, timeout := WithDeadline(ctx)
	defer cancel()
	st, err := Blocking(ctx, &c.calls, "stat "+c.path, func() (fs.FileInfo, error) { return os.Stat(c.path) })
	if err != nil {
		return c.failure(err, "stat", timeout)
	}
	if st.Mode().Type() != fs.ModeSocket {
		return c.result(Critical, fmt.Sprintf("%s is not a socket but %s", c.path, fileKind(st.Mode())), nil)
	}
	if !c.connect {
		switch err := listeningSettled(ctx, st); {
		case errors.Is(err, errNoListener):
			return c.result(Critical, fmt.Sprintf("%s is present, but no process listens on it (stale: its daemon is gone)", c.path), nil)
		case err != nil:
			// The kernel could not say: presence is all that is known.
			return c.result(OK, fmt.Sprintf("%s is present (whether a process listens is unknown: %s)", c.path, ErrText(err)), nil)
		}
		return c.result(OK, fmt.Sprintf("%s is present", c.path), nil)
	}
	// connect(2) resolves the path in the kernel, where ctx cannot reach.
	elapsed, err := Blocking(ctx, &c.calls, "connect "+c.path, func() (float64, error) {
		start := time.Now()
		var d net.Dialer
		conn, err := d.DialContext(ctx, "unix", c.path)
		if err != nil {
			return 0, err
		}
		_ = conn.Close()
		return time.Since(start).Seconds(), nil
	})
	if err != nil {
		return c.failure(err, "connect", timeout)
	}
	return c.result(OK, fmt.Sprintf("%s accepts connections", c.path),
		[]Perfdata{{Label: "time", Value: elapsed, UOM: "s", Min: "0"}})
}

// failure words a failed stat or connect.
func (c *socketCheck) failure(err error, call string, timeout time.Duration) Result {
	var hung *HungError
	switch {
	case errors.As(err, &hung) && hung.Err == nil, errors.As(err, &hung) && call == "stat":
		full, steady := hung.Hung(call, timeout)
		r := c.result(Critical, c.path+" is not accessible: "+full, nil)
		r.Steady = c.path + " is not accessible: " + steady
		return r
	case isTimeout(err):
		return c.result(Critical, fmt.Sprintf("Socket timeout connecting to %s", c.path), nil)
	case call == "stat":
		return c.result(Critical, socketStatError(c.path, err), nil)
	}
	return c.result(Critical, fmt.Sprintf("connect to %s: %s", c.path, ErrText(err)), nil)
}

func (c *socketCheck) result(s Status, summary string, pd []Perfdata) Result {
	return Result{Label: "SOCKET", Status: s, Summary: summary, Perfdata: pd}
}

// socketStatError words a stat failure the way check_disk words a missing path.
func socketStatError(path string, err error) string {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Sprintf("%s is not present: No such file or directory", path)
	}
	return fmt.Sprintf("%s is not accessible: %s", path, ErrText(err))
}

// ErrText returns the innermost error text (e.g. "Connection refused"
// rather than the whole dial chain), capitalised like strerror.
func ErrText(err error) string {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			break
		}
		err = u
	}
	s := err.Error()
	if s != "" && s[0] >= 'a' && s[0] <= 'z' {
		s = string(s[0]-'a'+'A') + s[1:]
	}
	return s
}

// fileKind names a file type for messages.
func fileKind(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "a regular file"
	case m.IsDir():
		return "a directory"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeDevice != 0:
		return "a device"
	default:
		return "another kind of file"
	}
}
