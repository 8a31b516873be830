package checkscript

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
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
// (statfs on a dead NFS mount), and gives up when ctx ends. fn's goroutine
// then finishes on its own; its result is discarded.
func Blocking[T any](ctx context.Context, fn func() (T, error)) (T, error) {
	type answer struct {
		v   T
		err error
	}
	ch := make(chan answer, 1)
	go func() {
		v, err := fn()
		ch <- answer{v, err}
	}()
	select {
	case a := <-ch:
		return a.v, a.err
	case <-ctx.Done():
		var zero T
		return zero, fmt.Errorf("gave up waiting: %w", ctx.Err())
	}
}
