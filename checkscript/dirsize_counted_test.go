package checkscript

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// mountFS mounts a filesystem of kind ("tmpfs", or "ext4" on a loop
// device over a sparse file) on a new folder, unmounted when the test ends.
func mountFS(t testing.TB, kind string) string {
	t.Helper()
	dir := t.TempDir()
	at := filepath.Join(dir, "mnt")
	must(t, os.Mkdir(at, 0o755))
	switch kind {
	case "tmpfs":
		must(t, unix.Mount("tmpfs", at, "tmpfs", 0, "size=1g"))
	case "ext4":
		img := filepath.Join(dir, "fs.img")
		must(t, os.WriteFile(img, nil, 0o600))
		must(t, os.Truncate(img, 2<<30))
		for _, cmd := range [][]string{{"mkfs.ext4", "-q", "-i", "4096", img}, {"mount", "-o", "loop", img, at}} {
			if out, err := exec.Command(cmd[0], cmd[1:]...).CombinedOutput(); err != nil {
				t.Fatalf("%s (make test runs as root, with loop devices): %v\n%s", cmd, err, out)
			}
		}
	}
	t.Cleanup(func() { unix.Unmount(at, unix.MNT_DETACH) })
	return at
}

// A folder that is the root of an ext4 or tmpfs filesystem is measured in
// O(1) from the filesystem's own count: du's figure after every change,
// but for a file deleted while still open (counted until it is closed, as
// df counts it); with another folder declared inside it, the tree again.
func TestDirsizeCountedByTheFilesystem(t *testing.T) {
	for _, kind := range []string{"tmpfs", "ext4"} {
		t.Run(kind, func(t *testing.T) {
			root := mountFS(t, kind)
			makeTree(t, root)
			c := startDirsize(t, "-p", root, "--rate", "0", "-t", "10")
			r := runMeasured(t, c)
			if got, want := bytesOf(t, r), duBytes(t, root); got != want || !strings.Contains(r.Summary, "counted by "+kind+" itself") {
				t.Fatalf("got %s, want du's %d B counted by %s", r, want, kind)
			}
			writeFile(t, filepath.Join(root, "d0/more"), 300000)
			must(t, os.RemoveAll(filepath.Join(root, "d1")))
			must(t, os.Link(filepath.Join(root, "d2/s0/f0"), filepath.Join(root, "d3/link")))
			if got, want := bytesOf(t, runDirsize(t, c)), duBytes(t, root); got != want {
				t.Errorf("after changes: %d, du %d", got, want)
			}
			open, err := os.Create(filepath.Join(root, "held"))
			must(t, err)
			_, err = open.Write(make([]byte, 1<<20))
			must(t, err)
			must(t, os.Remove(open.Name()))
			if got, want := bytesOf(t, runDirsize(t, c)), duBytes(t, root)+1<<20; got != want {
				t.Errorf("a 1 MiB file deleted while open: %d, want du's %d + 1 MiB", got, want-1<<20)
			}
			must(t, open.Close())
			if got, want := bytesOf(t, runDirsize(t, c)), duBytes(t, root); got != want {
				t.Errorf("closed: %d, du %d", got, want)
			}
			inner := startDirsize(t, "-p", filepath.Join(root, "d4"), "--rate", "0", "-t", "10")
			for _, cc := range []Check{inner, c} {
				r := runMeasured(t, cc)
				p := r.Perfdata[0].Label
				if got, want := bytesOf(t, r), duBytes(t, p); got != want || strings.Contains(r.Summary, "counted by") {
					t.Errorf("with a folder declared inside: %s, want du's %d from the tree", r, want)
				}
			}
		})
	}
}

// BenchmarkDirsizeCounted compares, on a loop-mounted ext4 filesystem of
// $DIRSIZE_COUNTED_FILES files (200,000) and on tmpfs with the same tree,
// a run of the check on the filesystem's root (counted in O(1) by statfs)
// with du -sxB1 of it, in the same run, and says whether they agree.
func BenchmarkDirsizeCounted(b *testing.B) {
	files := benchEnvInt("DIRSIZE_COUNTED_FILES", 200000)
	for _, kind := range []string{"ext4", "tmpfs"} {
		b.Run(kind, func(b *testing.B) {
			root := mountFS(b, kind)
			newMailstore(root, files).make(b)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			c := newDirsize(b, "-p", root, "--rate", "0")
			c.Start(ctx)
			f := measured(b, c)
			if f.Counted == "" {
				b.Fatalf("%s: not counted by the filesystem", root)
			}
			runs := 1000
			start := time.Now()
			var r Result
			for i := 0; i < runs; i++ {
				r = c.Run(ctx)
			}
			run := time.Since(start) / time.Duration(runs)
			du, wall, _ := runDu(b, "-sxB1", root)
			b.ReportMetric(float64(run.Nanoseconds())/1000, "run-µs")
			b.ReportMetric(ms(wall), "du-ms")
			b.ReportMetric(float64(wall)/float64(run), "du-over-run")
			b.ReportMetric(float64(b2i(uint64(r.Perfdata[0].Value) == du)), "same-bytes")
			b.ReportMetric(float64(f.Files), "inodes")
		})
	}
}
