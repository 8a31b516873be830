package checkscript

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

// mailstore is the shape of BenchmarkDirsize's tree: an /opt-like folder
// holding zextras/store, backup, incoming and cache (the catalog declares
// all five), laid out as Carbonio's store is (volume / mailbox group /
// mailbox / msg / bucket of 256 item ids / <item>-<revision>.msg), 96 % of
// the files in the store, 1 % of its messages hard links of a message of
// another mailbox (as deduplication leaves them), 90 % of the files empty
// and the others of 1 to 8,191 bytes (so it fits on a shared disk), a few
// files of 20 MiB (allocated, not written) in the backup.
type mailstore struct {
	root      string // the /opt-like folder
	files     int
	mailboxes int
}

func newMailstore(root string, files int) mailstore {
	return mailstore{root: root, files: files, mailboxes: max(1, files*96/100/350)}
}

// items is how many messages mailbox m holds: 100 to 600, 350 on average.
func (s mailstore) items(m int) int { return 100 + m*7919%501 }

// message is the path of item i (0-based) of mailbox m.
func (s mailstore) message(m, i int) string {
	id := 257 + i
	return filepath.Join(s.root, "zextras/store/0", strconv.Itoa(m>>8), strconv.Itoa(m), "msg", strconv.Itoa(id>>8),
		strconv.Itoa(id)+"-1.msg")
}

// folders are the five declared folders, the outermost first.
func (s mailstore) folders() []string {
	z := filepath.Join(s.root, "zextras")
	return []string{s.root, filepath.Join(z, "store"), filepath.Join(z, "backup"), filepath.Join(z, "incoming"), filepath.Join(z, "cache")}
}

// make writes the tree; it returns the files and folders written.
func (s mailstore) make(tb testing.TB) (files, dirs int) {
	rng := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 8192)
	made := map[string]bool{}
	mkdir := func(dir string) { // made: every folder of the tree, the root too
		if !made[dir] {
			must(tb, os.MkdirAll(dir, 0o755))
			for d := dir; !made[d] && within(d, s.root); d = filepath.Dir(d) {
				made[d] = true
			}
		}
	}
	write := func(path string) {
		mkdir(filepath.Dir(path))
		n := 0
		if rng.IntN(10) == 0 {
			n = 1 + rng.IntN(len(buf)-1)
		}
		fd, err := unix.Open(path, unix.O_CREAT|unix.O_WRONLY|unix.O_EXCL|unix.O_CLOEXEC, 0o644)
		must(tb, err)
		if n > 0 {
			_, err = unix.Write(fd, buf[:n])
			must(tb, err)
		}
		must(tb, unix.Close(fd))
		files++
	}
	for m := 0; m < s.mailboxes; m++ {
		for i := 0; i < s.items(m); i++ {
			path := s.message(m, i)
			if m > 0 && rng.IntN(100) == 0 { // deduplicated: a link to a message of an earlier mailbox
				o := rng.IntN(m)
				mkdir(filepath.Dir(path))
				if os.Link(s.message(o, rng.IntN(s.items(o))), path) == nil {
					files++
					continue
				}
			}
			write(path)
		}
	}
	z := filepath.Join(s.root, "zextras")
	rest := s.files - files
	for i := 0; i < rest; i++ {
		switch k := i % 100; {
		case k < 75: // backups: per day, per mailbox, 100 files each
			write(filepath.Join(z, "backup", fmt.Sprintf("2026-11-%02d", 1+i/10000%28), strconv.Itoa(i/100), strconv.Itoa(i)+".bak"))
		case k < 95: // the cache: 20 folders
			write(filepath.Join(z, "cache", strconv.Itoa(i%20), strconv.Itoa(i)))
		default: // incoming mail not yet filed
			write(filepath.Join(z, "incoming", strconv.Itoa(i%5), strconv.Itoa(i)+".msg"))
		}
	}
	for i := 0; i < 8; i++ {
		path := filepath.Join(z, "backup/full", fmt.Sprintf("volume-%d.tar", i))
		mkdir(filepath.Dir(path))
		fd, err := unix.Open(path, unix.O_CREAT|unix.O_WRONLY|unix.O_CLOEXEC, 0o644)
		must(tb, err)
		must(tb, unix.Fallocate(fd, 0, 0, 20<<20))
		unix.Close(fd)
	}
	mkdir(filepath.Join(s.root, "other"))
	return files, len(made)
}

// change makes n changes to the store's messages, seed picking which: in
// equal parts appends of 4 KiB, new messages, deletions, renames into
// another bucket, and new hard links of existing messages into another
// mailbox.
func (s mailstore) change(n int, seed uint64) {
	rng := rand.New(rand.NewPCG(3, seed))
	buf := make([]byte, 8192)
	pick := func() string {
		m := rng.IntN(s.mailboxes)
		return s.message(m, rng.IntN(s.items(m)))
	}
	var log *os.File // $DIRSIZE_CHANGE_LOG: every change, a line each (BenchmarkDirsizeAgainstFresh)
	if p := os.Getenv("DIRSIZE_CHANGE_LOG"); p != "" {
		log, _ = os.Create(p)
		defer log.Close()
	}
	for i := 0; i < n; i++ {
		f := pick()
		other := filepath.Dir(pick())
		if log != nil {
			fmt.Fprintf(log, "%d %s %s %s\n", i, [...]string{"append", "new", "remove", "rename", "link"}[i%5], f, other)
		}
		switch i % 5 {
		case 0:
			if fh, err := os.OpenFile(f, os.O_APPEND|os.O_WRONLY, 0); err == nil {
				fh.Write(buf[:4096])
				fh.Close()
			}
		case 1:
			os.WriteFile(filepath.Join(other, fmt.Sprintf("new-%d-%d.msg", seed, i)), buf[:rng.IntN(len(buf))], 0o644)
		case 2:
			os.Remove(f)
		case 3:
			os.Rename(f, filepath.Join(other, fmt.Sprintf("moved-%d-%d.msg", seed, i)))
		case 4:
			os.Link(f, filepath.Join(other, fmt.Sprintf("link-%d-%d.msg", seed, i)))
		}
	}
}

// BenchmarkDirsizeMakeTree writes the mailstore-shaped tree of
// $DIRSIZE_FILES files (5,000,000) under $DIRSIZE_MAKE, for
// deploy/bench/mailstore-tree.sh.
func BenchmarkDirsizeMakeTree(b *testing.B) {
	root := os.Getenv("DIRSIZE_MAKE")
	if root == "" {
		b.Skip("run by deploy/bench/mailstore-tree.sh")
	}
	files, dirs := newMailstore(root, benchEnvInt("DIRSIZE_FILES", 5000000)).make(b)
	b.ReportMetric(float64(files), "files")
	b.ReportMetric(float64(dirs), "folders")
}

// BenchmarkDirsizeChangeChild is BenchmarkDirsize's child that changes the
// tree: $DIRSIZE_CHANGE = root:files:changes:seed.
func BenchmarkDirsizeChangeChild(b *testing.B) {
	var root string
	var files, changes int
	var seed uint64
	if _, err := fmt.Sscanf(os.Getenv("DIRSIZE_CHANGE"), "%d:%d:%d:%s", &files, &changes, &seed, &root); err != nil {
		b.Skip("run by BenchmarkDirsize only")
	}
	newMailstore(root, files).change(changes, seed)
}
