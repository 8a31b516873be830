package registrar

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/hashicorp/go-hclog"
)

// configWatchRetry is how often a config folder that cannot be watched
// (gone, or not readable yet) is tried again.
const configWatchRetry = 5 * time.Second

// watchConfigDir signals changed (without blocking) whenever something in
// the agent's config folder changes, or the folder's own permissions: a
// neighbour's broken file fixed, the folder made writable again. The daemon
// then retries at once what the agent refused, instead of at its next
// backoff. Its own temporary files (the fragment being written, the
// writability probe) are not reported; the fragment itself is, since
// someone else may have edited it.
//
// Lifetime: one goroutine, ended by ctx; the channel returned is closed
// when it has ended. A folder that cannot be watched is retried every
// configWatchRetry; events may be missed meanwhile, which the daemon's own
// retries cover.
func watchConfigDir(ctx context.Context, dir string, log hclog.Logger, changed chan<- struct{}) <-chan struct{} {
	dir = filepath.Clean(dir)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			if err := followConfigDir(ctx, dir, changed); err != nil {
				log.Debug("cannot watch the agent's config folder; retrying", "dir", dir, "error", err)
			}
			sleep(ctx, configWatchRetry)
		}
	}()
	return done
}

// followConfigDir watches dir until ctx ends or the folder itself goes.
func followConfigDir(ctx context.Context, dir string, changed chan<- struct{}) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	defer w.Close()
	if err := w.Add(dir); err != nil {
		return err
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			name := filepath.Clean(ev.Name)
			if name == dir && ev.Has(fsnotify.Remove|fsnotify.Rename) {
				notify(changed)
				return nil // watched again once it is back
			}
			if !strings.HasPrefix(filepath.Base(name), "."+FragmentName) {
				notify(changed)
			}
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			// An overflowed queue lost events: say something changed.
			notify(changed)
			if !errors.Is(err, fsnotify.ErrEventOverflow) {
				return err
			}
		}
	}
}
