package checkscript

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"sync"
	"time"
)

// WithDeadline returns ctx bounded by its own deadline or, when it has none,
// by DefaultTimeout, so that an in-process caller can never make a probe wait
// forever. timeout is the time left at the start, rounded to a tenth of a
// second, for "Socket timeout after N seconds" and perfdata maxima.
func WithDeadline(ctx context.Context) (context.Context, context.CancelFunc, time.Duration) {
	if _, ok := ctx.Deadline(); !ok {
		ctx, cancel := context.WithTimeout(ctx, DefaultTimeout)
		return ctx, cancel, DefaultTimeout
	}
	dl, _ := ctx.Deadline()
	left := time.Until(dl).Round(100 * time.Millisecond)
	if left < 0 {
		left = 0
	}
	ctx, cancel := context.WithCancel(ctx)
	return ctx, cancel, left
}

// isTimeout reports whether err is an I/O deadline or context expiry.
func isTimeout(err error) bool {
	var ne interface{ Timeout() bool }
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout())
}

// socketTimeout is the plugins' CRITICAL answer to an expired -t.
func socketTimeout(label string, timeout time.Duration) Result {
	return Result{Label: label, Status: Critical, Summary: "Socket timeout after " + FormatFloat(Seconds(timeout)) + " seconds"}
}

// Seconds returns d in seconds, rounded to a tenth for display.
func Seconds(d time.Duration) float64 {
	return math.Round(d.Seconds()*10) / 10
}

// Blocking runs fn, which may block in the kernel without honouring ctx
// (statfs on a hung NFS or FUSE mount), and gives up when ctx ends. A call
// given up on is not abandoned to pile up: while it is still blocked, every
// later Blocking with the same key returns a *HungError at once instead of
// starting another, so a path that hangs holds one goroutine (and the OS
// thread its system call holds) however many runs time out, and the runs
// report the hang without waiting. key names the call and what it blocks on
// ("statfs /opt"); calls with different keys are independent. calls is
// the check's own record of its blocked calls (a field of the check, which
// the daemon builds once and runs every interval).
func Blocking[T any](ctx context.Context, calls *Calls, key string, fn func() (T, error)) (T, error) {
	var zero T
	if since, ok := calls.stuck(key); ok {
		return zero, &HungError{Call: key, Since: since}
	}
	type answer struct {
		v   T
		err error
	}
	c := &blockedCall{since: time.Now()}
	ch := make(chan answer, 1)
	go func() {
		v, err := fn()
		calls.finish(key, c)
		ch <- answer{v, err}
	}()
	select {
	case a := <-ch:
		return a.v, a.err
	case <-ctx.Done():
		if calls.giveUp(key, c) {
			return zero, &HungError{Call: key, Since: c.since, Err: ctx.Err()}
		}
		a := <-ch // it just answered
		return a.v, a.err
	}
}

// HungError says a call did not answer before its context ended, or is
// still blocked since an earlier run gave up on it.
type HungError struct {
	// Call is Blocking's key: "statfs /opt".
	Call string
	// Since is when the blocked call started.
	Since time.Time
	// Err is the context's error when this run waited for it (the first
	// run to give up), nil when an earlier run already had.
	Err error
}

func (e *HungError) Error() string {
	return fmt.Sprintf("%s: no answer since %s", e.Call, e.Since.Format(time.DateTime))
}

// Unwrap gives context.DeadlineExceeded (or Canceled) to the run that
// waited for it.
func (e *HungError) Unwrap() error { return e.Err }

// Hung words a HungError in a result: "statfs hung (no answer within 10
// seconds, since 2026-12-02 07:40:13)" for what = "statfs"; steady (for
// Result.Steady) leaves the time out. timeout is the run's -t.
func (e *HungError) Hung(what string, timeout time.Duration) (full, steady string) {
	steady = fmt.Sprintf("%s hung (no answer within %s seconds)", what, FormatFloat(Seconds(timeout)))
	return fmt.Sprintf("%s hung (no answer within %s seconds, since %s)", what, FormatFloat(Seconds(timeout)),
		e.Since.Format(time.DateTime)), steady
}

// Calls is one check's calls that Blocking gave up on and that have not
// answered yet, by key: at most one per key. The zero value is ready.
type Calls struct {
	mu sync.Mutex
	m  map[string]*blockedCall
}

// Blocked is the number of calls given up on that are still blocked.
func (b *Calls) Blocked() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.m)
}

// blockedCall is one call Blocking started.
type blockedCall struct {
	since    time.Time
	finished bool
}

// stuck reports whether key's call is still blocked, and since when.
func (b *Calls) stuck(key string) (time.Time, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if c := b.m[key]; c != nil {
		return c.since, true
	}
	return time.Time{}, false
}

// giveUp records c as blocked, unless it answered meanwhile (false).
func (b *Calls) giveUp(key string, c *blockedCall) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if c.finished {
		return false
	}
	if b.m == nil {
		b.m = map[string]*blockedCall{}
	}
	b.m[key] = c
	return true
}

// finish records that c answered: key is free again.
func (b *Calls) finish(key string, c *blockedCall) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c.finished = true
	if b.m[key] == c {
		delete(b.m, key)
	}
}
