package faultfs

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
)

// Fault is what the filesystem does with the calls on a path.
type Fault int

// The faults.
const (
	// None: the call goes through to the backing folder.
	None Fault = iota
	// Hang blocks the call until the fault is changed or cleared, as a
	// hard NFS mount whose server is gone. Like such a mount (killable
	// since Linux 2.6.25), a caller that gets a signal is answered EINTR,
	// so a process blocked here can still be killed; Go's os.Stat and
	// friends retry EINTR and block again.
	Hang
	// EIO answers "Input/output error", as a failing disk.
	EIO
	// ESTALE answers "Stale file handle", as an NFS export that changed.
	ESTALE
	// EACCES answers "Permission denied".
	EACCES
)

// String names the fault as the tests print it.
func (f Fault) String() string {
	switch f {
	case None:
		return "none"
	case Hang:
		return "hang"
	case EIO:
		return "EIO"
	case ESTALE:
		return "ESTALE"
	case EACCES:
		return "EACCES"
	}
	return "fault?"
}

// Errno is the error a call under the fault answers (0 for None and Hang).
func (f Fault) Errno() syscall.Errno {
	switch f {
	case EIO:
		return syscall.EIO
	case ESTALE:
		return syscall.ESTALE
	case EACCES:
		return syscall.EACCES
	}
	return 0
}

// fault is one path's fault; a Hang's calls wait on released.
type fault struct {
	kind     Fault
	released chan struct{} // closed when a Hang ends
	done     bool
}

func (ft *fault) release() {
	if ft.kind == Hang && !ft.done {
		close(ft.released)
		ft.done = true
	}
}

// clean makes rel the key of the fault table: slash-separated, no leading
// slash, "" for the root.
func clean(rel string) string {
	rel = strings.Trim(filepath.ToSlash(filepath.Clean("/"+rel)), "/")
	return rel
}

// table is the server's faults by path, and its count of hung calls.
type table struct {
	mu     sync.Mutex
	faults map[string]*fault // by clean relative path ("" is the root)
	hung   int               // calls blocked in a Hang right now
	total  int               // calls that ever entered a Hang
}

// set gives rel (and everything below it) the fault k; None clears it.
// Calls hung on rel's previous Hang are released and go on under k.
func (tb *table) set(rel string, k Fault) {
	rel = clean(rel)
	tb.mu.Lock()
	defer tb.mu.Unlock()
	if old := tb.faults[rel]; old != nil {
		old.release()
		delete(tb.faults, rel)
	}
	if k != None {
		tb.faults[rel] = &fault{kind: k, released: make(chan struct{})}
	}
}

// clear removes every fault and releases every hung call.
func (tb *table) clear() {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	for p, ft := range tb.faults {
		ft.release()
		delete(tb.faults, p)
	}
}

// counts returns the calls hung now and ever.
func (tb *table) counts() (now, total int) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return tb.hung, tb.total
}

// lookup returns the fault that applies to rel: its own or its nearest
// parent's.
func (tb *table) lookup(rel string) *fault {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	for {
		if ft := tb.faults[rel]; ft != nil {
			return ft
		}
		if rel == "" {
			return nil
		}
		i := strings.LastIndexByte(rel, '/')
		if i < 0 {
			rel = ""
		} else {
			rel = rel[:i]
		}
	}
}

// check applies rel's fault to one call: 0 to go on, or the errno to
// answer. A Hang blocks until it is released (then the path's fault of
// that moment applies) or the kernel interrupts the call (EINTR).
func (tb *table) check(ctx context.Context, rel string) syscall.Errno {
	for {
		ft := tb.lookup(clean(rel))
		if ft == nil {
			return 0
		}
		if ft.kind != Hang {
			return ft.kind.Errno()
		}
		tb.mu.Lock()
		tb.hung++
		tb.total++
		tb.mu.Unlock()
		var errno syscall.Errno
		select {
		case <-ft.released:
		case <-ctx.Done():
			errno = syscall.EINTR
		}
		tb.mu.Lock()
		tb.hung--
		tb.mu.Unlock()
		if errno != 0 {
			return errno
		}
	}
}

// parseFault reads a fault's String.
func parseFault(s string) (Fault, bool) {
	for k := None; k <= EACCES; k++ {
		if k.String() == s {
			return k, true
		}
	}
	return None, false
}
