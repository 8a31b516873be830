//go:build memdiag

package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"
)

// A diagnosis only (go build -tags memdiag): every 0.5 s the runtime's
// memory and /proc's, and a heap profile at each new RSS high-water mark
// (at most every 2 s), into $MEMDIAG_DIR.
func init() {
	dir := os.Getenv("MEMDIAG_DIR")
	if dir == "" || len(os.Args) < 2 || os.Args[1] != "run" {
		return
	}
	go func() {
		f, _ := os.Create(filepath.Join(dir, "memstats.tsv"))
		fmt.Fprintln(f, "s rss anon file hwm heapInuse heapAlloc heapIdle heapReleased stack mspan other gcSys numGC")
		t0 := time.Now()
		var best int64
		var lastProf time.Time
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			st := map[string]int64{}
			if s, err := os.Open("/proc/self/status"); err == nil {
				sc := bufio.NewScanner(s)
				for sc.Scan() {
					fs := strings.Fields(sc.Text())
					if len(fs) >= 2 {
						var v int64
						fmt.Sscan(fs[1], &v)
						st[strings.TrimSuffix(fs[0], ":")] = v
					}
				}
				s.Close()
			}
			k := func(b uint64) int64 { return int64(b >> 10) }
			fmt.Fprintf(f, "%.1f %d %d %d %d %d %d %d %d %d %d %d %d %d\n", time.Since(t0).Seconds(), st["VmRSS"], st["RssAnon"], st["RssFile"], st["VmHWM"],
				k(m.HeapInuse), k(m.HeapAlloc), k(m.HeapIdle), k(m.HeapReleased), k(m.StackInuse), k(m.MSpanInuse), k(m.OtherSys), k(m.GCSys), m.NumGC)
			if st["VmRSS"] > best+256 && time.Since(lastProf) > 2*time.Second {
				best, lastProf = st["VmRSS"], time.Now()
				if p, err := os.Create(filepath.Join(dir, fmt.Sprintf("heap-%05.0f-%d.pprof", time.Since(t0).Seconds(), best))); err == nil {
					pprof.Lookup("heap").WriteTo(p, 0)
					p.Close()
				}
			}
			time.Sleep(500 * time.Millisecond)
		}
	}()
}
