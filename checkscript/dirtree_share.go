package checkscript

import (
	"context"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// dirTrees holds the keepers of a process: one per outermost declared
// folder of a filesystem, shared by every declared folder inside it on the
// same filesystem, so that no file is read or held twice.
type dirTrees struct {
	mu      sync.Mutex
	keepers []*dirKeeper
}

// sharedTrees is the set the dirsize checks started in this process (the
// daemon's TTL checks) share.
var sharedTrees = &dirTrees{}

// dirHandle is a started dirsize check's folder. Its keeper changes when a
// folder around it is declared, or the one around it leaves.
type dirHandle struct {
	path string
	opts dirKeeperOptions
	k    atomic.Pointer[dirKeeper]
}

func (h *dirHandle) keeper() *dirKeeper { return h.k.Load() }

// join gives path a keeper: the one whose tree holds it, else a new one,
// which takes over the keepers of folders inside path. It does no I/O on
// the folder (a hung filesystem stalls only its keeper's goroutine).
func (t *dirTrees) join(path string, opts dirKeeperOptions) *dirHandle {
	h := &dirHandle{path: path, opts: opts}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.place(h, false)
	return h
}

func (t *dirTrees) place(h *dirHandle, alone bool) {
	mnt := mountOf(h.path)
	for _, k := range t.keepers {
		if k.alone == alone && k.mount == mnt && (k.root == h.path || (!alone && within(h.path, k.root))) {
			t.bind(k, h)
			return
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	k := &dirKeeper{trees: t, root: h.path, mount: mnt, alone: alone, opts: h.opts, pace: h.opts.pace,
		req: make(chan dirRequest, 16), cancel: cancel, figures: map[string]dirFigure{}, rootFD: -1}
	for _, o := range slices.Clone(t.keepers) {
		if !alone && !o.alone && o.mount == mnt && within(o.root, h.path) {
			for _, oh := range o.handles {
				t.bind(k, oh)
			}
			t.stop(o)
		}
	}
	t.keepers = append(t.keepers, k)
	t.bind(k, h)
	go k.run(ctx)
}

func (t *dirTrees) bind(k *dirKeeper, h *dirHandle) {
	k.handles = append(k.handles, h)
	h.k.Store(k)
}

func (t *dirTrees) stop(k *dirKeeper) {
	k.cancel()
	t.keepers = slices.DeleteFunc(t.keepers, func(o *dirKeeper) bool { return o == k })
}

// leave ends h's share. When the outermost folder leaves, the others are
// placed again (a new walk).
func (t *dirTrees) leave(h *dirHandle) {
	t.mu.Lock()
	defer t.mu.Unlock()
	k := h.keeper()
	k.handles = slices.DeleteFunc(k.handles, func(o *dirHandle) bool { return o == h })
	if slices.ContainsFunc(k.handles, func(o *dirHandle) bool { return o.path == k.root }) {
		return
	}
	rest := k.handles
	t.stop(k)
	slices.SortFunc(rest, func(a, b *dirHandle) int { return len(a.path) - len(b.path) })
	for _, o := range rest {
		t.place(o, k.alone)
	}
}

// split gives the checks of path a keeper of its own: path is not a
// folder of the tree around it (a symbolic link on its way).
func (t *dirTrees) split(path string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range t.keepers {
		if k.root == path || k.alone || !within(path, k.root) {
			continue
		}
		var moving []*dirHandle
		k.handles = slices.DeleteFunc(k.handles, func(h *dirHandle) bool {
			if h.path == path {
				moving = append(moving, h)
			}
			return h.path == path
		})
		for _, h := range moving {
			t.place(h, true)
		}
	}
}

// declared lists k's folders, the outermost first.
func (k *dirKeeper) declared() []string {
	k.trees.mu.Lock()
	defer k.trees.mu.Unlock()
	var out []string
	for _, h := range k.handles {
		out = append(out, h.path)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// within reports whether path is root or below it.
func within(path, root string) bool {
	return path == root || root == "/" || strings.HasPrefix(path, root+"/")
}

// relTo is path below root ("." for root itself).
func relTo(root, path string) string {
	if rel := strings.TrimPrefix(strings.TrimPrefix(path, root), "/"); rel != "" {
		return rel
	}
	return "."
}

// joinRoot is the path of rel below root.
func joinRoot(root, rel string) string {
	switch {
	case rel == ".":
		return root
	case root == "/":
		return "/" + rel
	}
	return root + "/" + rel
}
