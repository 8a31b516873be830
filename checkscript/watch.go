package checkscript

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
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

// rewatchPeriod is how often WatchChanges retries what it could not watch:
// a folder refused by the watch limit, an inotify instance refused.
const rewatchPeriod = 5 * time.Second

// WatchHandler receives what WatchChanges sees. Its functions run on the
// watching goroutine and must not block for long; nil ones are skipped.
type WatchHandler struct {
	// Changed is called with a path that may have changed: created,
	// removed, renamed or written, or its folder (or a folder above it)
	// came or went.
	Changed func(path string)
	// Blind is called with the reason when a folder that exists cannot be
	// watched (the kernel's inotify limits, permissions), and with nil once
	// every folder is watched again. While blind, only the interval sees
	// that folder's changes.
	Blind func(err error)
	// Overflowed is called when the kernel's event queue overflowed and
	// events were lost; Changed has then been called for every path.
	Overflowed func()
}

// WatchChanges follows paths until ctx is done. It watches each path's
// folder (inotify through fsnotify); when the folder does not exist, or is
// removed, it watches the nearest folder above it that exists and goes back
// down as the folders come back, so a folder removed and created again
// (systemd's RuntimeDirectory= at every restart of a service) is followed
// within milliseconds, with every path in it reported changed. A queue
// overflow reports every path changed. What cannot be watched is reported
// to Blind and retried every few seconds.
//
// Lifetime: one goroutine per call, ended by ctx.
func WatchChanges(ctx context.Context, paths []string, h WatchHandler) {
	f := &follower{h: h, byDir: map[string][]string{}, at: map[string]string{}, blind: map[string]error{}}
	for _, p := range paths {
		p = filepath.Clean(p)
		d := filepath.Dir(p)
		f.byDir[d] = append(f.byDir[d], p)
	}
	go f.run(ctx)
}

// follower is the state of one WatchChanges; only its goroutine uses it.
type follower struct {
	h     WatchHandler
	w     *fsnotify.Watcher
	byDir map[string][]string // the paths, by their folder
	at    map[string]string   // folder → the folder watched for it (itself or above)
	blind map[string]error    // folder → why nothing is watched for it
	// reported is the last error given to Blind ("" when none).
	reported string
}

func (f *follower) run(ctx context.Context) {
	retry := time.NewTicker(rewatchPeriod)
	defer retry.Stop()
	defer func() {
		if f.w != nil {
			_ = f.w.Close()
		}
	}()
	f.start()
	for {
		var events chan fsnotify.Event
		var errs chan error
		if f.w != nil {
			events, errs = f.w.Events, f.w.Errors
		}
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-events:
			if !ok {
				return
			}
			f.event(filepath.Clean(ev.Name), ev.Op)
		case err, ok := <-errs:
			if !ok {
				return
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				f.resolveAll()
				f.changedAll()
				if f.h.Overflowed != nil {
					f.h.Overflowed()
				}
			}
		case <-retry.C:
			if f.w == nil {
				f.start()
			} else if len(f.blind) > 0 {
				for d := range f.blind {
					f.resolve(d)
				}
				f.report()
				f.changedAll()
			}
		}
	}
}

// start creates the inotify instance and watches every folder; an
// instance the kernel refuses is reported and retried.
func (f *follower) start() {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		f.reported = "" // report it even if the text is the same as before
		f.setBlind(fmt.Errorf("cannot follow changes: %w", describeWatchErr(err)))
		return
	}
	f.w = w
	f.blind = map[string]error{}
	f.resolveAll()
	f.changedAll() // what happened while nothing was watched
}

// event handles one inotify event on name.
func (f *follower) event(name string, op fsnotify.Op) {
	folderMoved := op.Has(fsnotify.Create) || op.Has(fsnotify.Remove) || op.Has(fsnotify.Rename)
	for d, ps := range f.byDir {
		for _, p := range ps {
			if p == name {
				f.changed(p)
			}
		}
		if folderMoved && (name == d || strings.HasPrefix(d, name+"/")) {
			// d, or a folder above it, came or went: watch what is there now.
			f.resolve(d)
			f.report()
			for _, p := range ps {
				f.changed(p)
			}
		}
	}
}

// resolve watches d, or the nearest folder above it that exists, and drops
// the watches nobody needs any more.
func (f *follower) resolve(d string) {
	for range 8 { // folders created while we climb: go down again
		watched, err := f.watchNearest(d)
		if err != nil {
			f.blind[d] = err
			delete(f.at, d)
			break
		}
		delete(f.blind, d)
		f.at[d] = watched
		if watched == d || !exists(nextBelow(watched, d)) {
			break
		}
	}
	f.dropUnused()
}

// watchNearest adds a watch on d or, when it does not exist, on the
// nearest folder above it, and returns which.
func (f *follower) watchNearest(d string) (string, error) {
	for dir := d; ; dir = filepath.Dir(dir) {
		err := f.w.Add(dir)
		if err == nil {
			return dir, nil
		}
		if !errors.Is(err, syscall.ENOENT) && !errors.Is(err, syscall.ENOTDIR) || dir == filepath.Dir(dir) {
			return "", fmt.Errorf("cannot watch %s: %w", dir, describeWatchErr(err))
		}
	}
}

// dropUnused removes the watches of folders no path needs now.
func (f *follower) dropUnused() {
	used := map[string]bool{}
	for _, w := range f.at {
		used[w] = true
	}
	for _, w := range f.w.WatchList() {
		if !used[filepath.Clean(w)] {
			_ = f.w.Remove(w)
		}
	}
}

func (f *follower) resolveAll() {
	for d := range f.byDir {
		f.resolve(d)
	}
	f.report()
}

// report tells Blind when the set of unwatched folders changed.
func (f *follower) report() {
	if len(f.blind) == 0 {
		f.setBlind(nil)
		return
	}
	var texts []string
	for _, err := range f.blind {
		texts = append(texts, err.Error())
	}
	sort.Strings(texts)
	f.setBlind(errors.New(strings.Join(texts, "; ")))
}

func (f *follower) setBlind(err error) {
	text := ""
	if err != nil {
		text = err.Error()
	}
	if text == f.reported {
		return
	}
	f.reported = text
	if f.h.Blind != nil {
		f.h.Blind(err)
	}
}

func (f *follower) changed(p string) {
	if f.h.Changed != nil {
		f.h.Changed(p)
	}
}

func (f *follower) changedAll() {
	for _, ps := range f.byDir {
		for _, p := range ps {
			f.changed(p)
		}
	}
}

// nextBelow is the folder one level below watched on the way to d.
func nextBelow(watched, d string) string {
	rest := strings.TrimPrefix(strings.TrimPrefix(d, watched), "/")
	first, _, _ := strings.Cut(rest, "/")
	return filepath.Join(watched, first)
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

// describeWatchErr names the kernel limit behind an inotify error, with
// the setting that raises it.
func describeWatchErr(err error) error {
	switch {
	case errors.Is(err, syscall.ENOSPC):
		return fmt.Errorf("the inotify watch limit is reached (fs.inotify.max_user_watches): %w", err)
	case errors.Is(err, syscall.EMFILE):
		return fmt.Errorf("the inotify instance limit is reached (fs.inotify.max_user_instances): %w", err)
	}
	return err
}
