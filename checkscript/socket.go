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
}

func (c *socketCheck) Run(ctx context.Context) Result {
	st, err := os.Stat(c.path)
	if err != nil {
		return c.result(Critical, socketStatError(c.path, err), nil)
	}
	if st.Mode().Type() != fs.ModeSocket {
		return c.result(Critical, fmt.Sprintf("%s is not a socket but %s", c.path, fileKind(st.Mode())), nil)
	}
	if !c.connect {
		switch err := listening(st); {
		case errors.Is(err, errNoListener):
			return c.result(Critical, fmt.Sprintf("%s is present, but no process listens on it (stale: its daemon is gone)", c.path), nil)
		case err != nil:
			// The kernel could not say: presence is all that is known.
			return c.result(OK, fmt.Sprintf("%s is present (whether a process listens is unknown: %s)", c.path, ErrText(err)), nil)
		}
		return c.result(OK, fmt.Sprintf("%s is present", c.path), nil)
	}
	start := time.Now()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", c.path)
	if err != nil {
		if ctx.Err() != nil {
			return c.result(Critical, fmt.Sprintf("Socket timeout connecting to %s", c.path), nil)
		}
		return c.result(Critical, fmt.Sprintf("connect to %s: %s", c.path, ErrText(err)), nil)
	}
	elapsed := time.Since(start).Seconds()
	_ = conn.Close()
	return c.result(OK, fmt.Sprintf("%s accepts connections", c.path),
		[]Perfdata{{Label: "time", Value: elapsed, UOM: "s", Min: "0"}})
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
