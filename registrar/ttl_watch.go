package registrar

import (
	"context"
	"fmt"

	"github.com/hashicorp/go-hclog"

	"github.com/zextras/carbonio-health/checkscript"
)

// A TTL check whose probe reads paths (a socket) is event-driven: a change
// of one of them runs it at once, not at the next interval. What the kernel
// does not let the daemon watch (the inotify limits) is not silent: the
// check turns at least WARNING and its output names the limit, until the
// watch works again (retried every few seconds). A lost batch of events (a
// queue overflow) makes every path be looked at again at once.

// watch starts following the check's paths, if it has any, until ctx ends.
func (w *ttlWorker) watch(ctx context.Context, check checkscript.Check, log hclog.Logger) {
	wt, ok := check.(checkscript.Watcher)
	if !ok || len(wt.WatchPaths()) == 0 {
		return
	}
	checkscript.WatchChanges(ctx, wt.WatchPaths(), checkscript.WatchHandler{
		Changed: func(string) { w.poke() },
		Blind: func(err error) {
			text := ""
			if err != nil {
				text = err.Error()
				log.Warn("changes of the check's paths cannot be followed; the interval alone applies", "error", text)
			} else {
				log.Info("changes of the check's paths are followed again")
			}
			w.blind.Store(&text)
			w.poke()
		},
		Overflowed: func() {
			log.Warn("the inotify event queue overflowed; looking at every path again")
		},
	})
}

// withWatch names a watch that does not work in the check's result; an OK
// result turns WARNING (the others keep their status).
func (w *ttlWorker) withWatch(res checkscript.Result) checkscript.Result {
	blind := w.blind.Load()
	if blind == nil || *blind == "" {
		return res
	}
	note := fmt.Sprintf(" (changes not followed, seen every %s only: %s)", w.def.Interval, *blind)
	if res.Status == checkscript.OK {
		res.Status = checkscript.Warning
	}
	res.Summary += note
	if res.Steady != "" {
		res.Steady += note
	}
	return res
}
