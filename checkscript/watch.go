package checkscript

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Watcher is implemented by checks whose result depends on filesystem
// paths: a runner may re-run them as soon as one of those paths changes
// instead of waiting for the next interval. An empty list means no paths
// (every Check from New implements Watcher, forwarding its probe's paths).
type Watcher interface {
	WatchPaths() []string
}

// WatchPaths returns the socket path.
func (c *socketCheck) WatchPaths() []string { return []string{c.path} }

// WatchPaths forwards the probe's paths, if it has any.
func (t *timed) WatchPaths() []string {
	if w, ok := t.check.(Watcher); ok {
		return w.WatchPaths()
	}
	return nil
}

// rewatchPeriod is how often WatchChanges retries parents that do not
// exist (yet), e.g. /run/carbonio before the service creates it.
const rewatchPeriod = 5 * time.Second

// WatchChanges calls notify whenever one of paths is created, removed,
// renamed or written, until ctx is done. It watches each path's parent
// directory (inotify through fsnotify), so a socket created after the start
// or deleted and re-created is seen; a parent that does not exist is
// retried every few seconds, and notify is called when it appears. notify
// runs on the watching goroutine and must not block for long.
//
// Lifetime: one goroutine per call, ended by ctx. The error is only for a
// watcher that cannot be created at all.
func WatchChanges(ctx context.Context, paths []string, notify func(path string)) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watch %v: %w", paths, err)
	}
	byDir := map[string][]string{}
	for _, p := range paths {
		p = filepath.Clean(p)
		byDir[filepath.Dir(p)] = append(byDir[filepath.Dir(p)], p)
	}
	missing := map[string]bool{}
	for dir := range byDir {
		if w.Add(dir) != nil {
			missing[dir] = true
		}
	}
	go func() {
		defer w.Close()
		retry := time.NewTicker(rewatchPeriod)
		defer retry.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-w.Events:
				if !ok {
					return
				}
				name := filepath.Clean(ev.Name)
				for _, p := range byDir[filepath.Dir(name)] {
					if p == name {
						notify(p)
					}
				}
			case _, ok := <-w.Errors:
				if !ok {
					return
				}
			case <-retry.C:
				for dir := range missing {
					if w.Add(dir) == nil {
						delete(missing, dir)
						for _, p := range byDir[dir] {
							notify(p)
						}
					}
				}
			}
		}
	}()
	return nil
}
