package checkscript

import (
	"context"
	"flag"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestUsedToFree(t *testing.T) {
	tests := []struct {
		used, free string
		bad        bool
	}{
		{used: "80%", free: "20%"},
		{used: "90%", free: "10%"},
		{used: "0%", free: "100%"},
		{used: "100%", free: "0%"},
		{used: "92.5%", free: "7.5%"},
		{used: " 85% ", free: "15%"},
		{used: "80", bad: true}, // absolute used amounts need the size: refused
		{used: "101%", bad: true},
		{used: "-1%", bad: true},
		{used: "x%", bad: true},
		{used: "%", bad: true},
		{used: "", bad: true},
	}
	for _, tt := range tests {
		got, err := usedToFree(tt.used)
		if (err != nil) != tt.bad || got != tt.free {
			t.Errorf("usedToFree(%q) = %q, %v; want %q (error: %v)", tt.used, got, err, tt.free, tt.bad)
		}
	}
	// The translation is exact: used% >= U  ⇔  free% <= 100−U, for every
	// integer used% the probe can compute.
	for u := 0; u <= 100; u++ {
		for usedPct := 0; usedPct <= 100; usedPct++ {
			free, _ := usedToFree(FormatFloat(float64(u)) + "%")
			th, err := parseFreeThreshold(free, false)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := th.hit(float64(100-usedPct), 0), usedPct >= u; got != want {
				t.Fatalf("used %d%% vs --used-* %d%%: alert %v, want %v", usedPct, u, got, want)
			}
		}
	}
}

func TestParseFreeThreshold(t *testing.T) {
	tests := []struct {
		in      string
		pctOnly bool
		want    freeThreshold
		bad     bool
	}{
		{in: "", want: freeThreshold{}},
		{in: "20%", want: freeThreshold{set: true, value: 20, percent: true}},
		{in: "20.5%", want: freeThreshold{set: true, value: 20.5, percent: true}},
		{in: "100", want: freeThreshold{set: true, value: 100}},
		{in: "15", pctOnly: true, want: freeThreshold{set: true, value: 15, percent: true}},
		{in: "150%", bad: true},
		{in: "150", pctOnly: true, bad: true},
		{in: "-5", bad: true},
		{in: "abc", bad: true},
		{in: "@10:20%", bad: true},
	}
	for _, tt := range tests {
		got, err := parseFreeThreshold(tt.in, tt.pctOnly)
		if (err != nil) != tt.bad || got != tt.want {
			t.Errorf("parseFreeThreshold(%q, %v) = %+v, %v", tt.in, tt.pctOnly, got, err)
		}
	}
}

func TestCeilPercent(t *testing.T) {
	tests := []struct {
		part, whole uint64
		want        int
	}{
		{0, 100, 0}, {1, 100, 1}, {20, 100, 20}, {201, 1000, 21}, {100, 100, 100},
		{4127318, 23875316, 18}, {558058, 16777216, 4}, // the measured / of PLUGINS.md's host
		{1, 0, 0}, {5, 3, 100}, {1 << 62, 1<<63 + 1, 50}, {^uint64(0), ^uint64(0), 100},
	}
	for _, tt := range tests {
		if got := ceilPercent(tt.part, tt.whole); got != tt.want {
			t.Errorf("ceilPercent(%d, %d) = %d, want %d", tt.part, tt.whole, got, tt.want)
		}
	}
}

// measuredRoot is statfs("/") of the machine where check_disk printed
// "/ 77140MiB (82% inode=96%)": 4 KiB blocks, a large reserve.
var measuredRoot = fsStats{
	Total: 66053021 * 4096, Free: 61925703 * 4096, Avail: 19747998 * 4096,
	Files: 16777216, FilesFree: 16219158,
}

func TestEvaluateDisk(t *testing.T) {
	pct := func(v float64) freeThreshold { return freeThreshold{set: true, value: v, percent: true} }
	abs := func(v float64) freeThreshold { return freeThreshold{set: true, value: v} }
	mib, gib := diskUnits["mb"], diskUnits["gb"]
	tests := []struct {
		name string
		st   fsStats
		lim  diskLimits
		want Status
		text string
		warn string // perfdata warn (used bytes)
	}{
		{"plugins.md", measuredRoot, diskLimits{warn: pct(20), crit: pct(10), unit: mib}, OK, "/ 77140MiB (82% inode=96%);", "216442539212"},
		{"free% inclusive", measuredRoot, diskLimits{warn: pct(82), crit: pct(1), unit: mib}, Warning, "", "48699571322"},
		{"free% just below", measuredRoot, diskLimits{warn: pct(81), crit: pct(1), unit: mib}, OK, "", ""},
		{"critical first", measuredRoot, diskLimits{warn: pct(99), crit: pct(98), unit: mib}, Critical, "", ""},
		{"MiB inclusive", measuredRoot, diskLimits{warn: abs(77140), crit: abs(1), unit: mib}, Warning, "", "189666021376"},
		{"MiB below", measuredRoot, diskLimits{warn: abs(77139), unit: mib}, OK, "", ""},
		{"GiB unit", measuredRoot, diskLimits{warn: abs(75), unit: gib}, Warning, "/ 75GiB (82% inode=96%);", "190022537216"},
		{"inodes", measuredRoot, diskLimits{iwarn: pct(96), unit: mib}, Warning, "", ""},
		{"inodes crit", measuredRoot, diskLimits{iwarn: pct(97), icrit: pct(96), unit: mib}, Critical, "", ""},
		{"no thresholds", measuredRoot, diskLimits{}, OK, "/ 77140MiB (82% inode=96%);", ""},
		{"abs beyond size clamps", measuredRoot, diskLimits{warn: abs(1e9), unit: mib}, Warning, "", "0"},
		{"full", fsStats{Total: 100 << 20, Free: 0, Avail: 0, Files: 10, FilesFree: 0}, diskLimits{crit: pct(0), unit: mib}, Critical, "/ 0MiB (0% inode=0%);", ""},
		{"reserve excluded", fsStats{Total: 100 << 20, Free: 30 << 20, Avail: 20 << 20}, diskLimits{warn: pct(25), unit: mib}, Warning, "/ 20MiB (22% inode=100%);", ""},
		{"no inodes (btrfs)", fsStats{Total: 1 << 30, Free: 1 << 29, Avail: 1 << 29}, diskLimits{iwarn: pct(50), unit: mib}, OK, "/ 512MiB (50% inode=100%);", ""},
		{"pseudo fs", fsStats{}, diskLimits{warn: pct(10)}, Unknown, "/ has no blocks", ""},
		{"free > total", fsStats{Total: 10, Free: 20, Avail: 20, Files: 1, FilesFree: 5}, diskLimits{warn: pct(10)}, OK, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := evaluateDisk("/", tt.st, tt.lim)
			if ev.Status != tt.want {
				t.Errorf("status %v, want %v (%+v)", ev.Status, tt.want, ev)
			}
			if tt.text != "" && !strings.HasPrefix(ev.Text, tt.text) {
				t.Errorf("text %q, want %q", ev.Text, tt.text)
			}
			if tt.warn != "" && ev.Perfdata.Warn != tt.warn {
				t.Errorf("perfdata warn %q, want %q", ev.Perfdata.Warn, tt.warn)
			}
		})
	}
	ev := evaluateDisk("/", measuredRoot, diskLimits{warn: pct(20), crit: pct(10), unit: mib})
	if got, want := ev.Perfdata.String(), "/=16905494528B;216442539212;243497856614;0;270553174016"; got != want {
		t.Errorf("perfdata %q, want %q", got, want)
	}
}

// fakeStatfs answers from a table; a path mapped to nil blocks until
// release is closed, like statfs on a dead NFS mount.
func fakeStatfs(m map[string]*fsStats, release <-chan struct{}) func(string) (fsStats, error) {
	return func(p string) (fsStats, error) {
		st, ok := m[p]
		if !ok {
			return fsStats{}, &pathError{p, syscall.ENOENT}
		}
		if st == nil {
			<-release
			return fsStats{}, syscall.EIO
		}
		return *st, nil
	}
}

type pathError struct {
	path string
	err  error
}

func (e *pathError) Error() string { return "statfs " + e.path + ": " + e.err.Error() }
func (e *pathError) Unwrap() error { return e.err }

func TestDiskRun(t *testing.T) {
	nearlyFull := fsStats{Total: 100 << 20, Free: 5 << 20, Avail: 5 << 20, Files: 100, FilesFree: 50}
	fs := map[string]*fsStats{"/": &measuredRoot, "/opt": &nearlyFull, "/nfs": nil}
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"two paths, worst wins", []string{"-w", "20%", "-c", "10%", "-p", "/", "-p", "/opt"},
			"DISK CRITICAL - free space: / 77140MiB (82% inode=96%); /opt 5MiB (5% inode=50%);|/=16905494528B;216442539212;243497856614;0;270553174016 /opt=99614720B;83886080;94371840;0;104857600"},
		{"used mode", []string{"--used-warning", "80%", "--used-critical", "96%", "-p", "/opt"},
			"DISK WARNING - free space: /opt 5MiB (5% inode=50%);|/opt=99614720B;83886080;100663296;0;104857600"},
		{"duplicates once", []string{"-p", "/", "-p", "/"}, "DISK OK - free space: / 77140MiB (82% inode=96%);|/=16905494528B;;;0;270553174016"},
		{"missing path", []string{"-w", "20%", "-p", "/", "-p", "/x"}, "DISK CRITICAL - /x is not accessible: No such file or directory"},
	}
	// A hung statfs: the full line says since when, the steady one not.
	hung := "DISK CRITICAL - /nfs is not accessible: statfs hung (no answer within 0.2 seconds"
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newWith(t, "disk", tt.args, func(flags *flag.FlagSet) func() (Check, error) {
				return diskFlags(flags, &diskCheck{statfs: fakeStatfs(fs, release)})
			})
			start := time.Now()
			if got := c.Run(context.Background()).String(); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
			if time.Since(start) > 2*time.Second {
				t.Error("deadline not honoured")
			}
		})
	}
	c := newWith(t, "disk", []string{"-w", "20%", "-p", "/nfs", "-t", "0.2"}, func(flags *flag.FlagSet) func() (Check, error) {
		return diskFlags(flags, &diskCheck{statfs: fakeStatfs(fs, release)})
	})
	for run := range 2 { // the second run finds the first one's call still hung
		start := time.Now()
		r := c.Run(context.Background())
		if !strings.HasPrefix(r.String(), hung+", since ") || r.SteadyString() != hung+")" {
			t.Errorf("run %d: got %q, steady %q", run, r, r.SteadyString())
		}
		if time.Since(start) > 2*time.Second {
			t.Error("deadline not honoured")
		}
	}
}

func TestDiskRealFilesystem(t *testing.T) {
	dir := t.TempDir()
	r := runProbe(t, context.Background(), "disk", "-w", "0%", "-c", "0%", "-p", dir)
	if r.Status != OK || !strings.HasPrefix(r.Summary, "free space: "+dir+" ") || len(r.Perfdata) != 1 || r.Perfdata[0].Label != dir {
		t.Errorf("got %q", r)
	}
	r = runProbe(t, context.Background(), "disk", "-w", "10%", "-p", dir+"/missing")
	if want := "DISK CRITICAL - " + dir + "/missing is not accessible: No such file or directory"; r.String() != want {
		t.Errorf("got %q, want %q", r, want)
	}
}

func TestDiskArguments(t *testing.T) {
	tests := []struct {
		args []string
		bad  string
	}{
		{[]string{"-p", "/", "-w", "20%", "-c", "10%", "-W", "10", "-K", "5%", "-u", "GB"}, ""},
		{[]string{"--path", "/", "--warning", "500", "--critical", "100", "--units", "kB"}, ""},
		{[]string{"-w", "20%"}, "-p PATH is required"},
		{[]string{"-p", "/", "-u", "XB"}, "unit type XB not known"},
		{[]string{"-p", "/", "-w", "20%", "--used-critical", "90%"}, "not both"},
		{[]string{"-p", "/", "--used-warning", "80"}, "--used-warning"},
		{[]string{"-p", "/", "--used-critical", "120%"}, "--used-critical"},
		{[]string{"-p", "/", "-W", "120%"}, "-W"},
		{[]string{"-p", "/", "-c", "lots"}, "-c"},
	}
	for _, tt := range tests {
		_, err := Light.New("disk", tt.args)
		switch {
		case tt.bad == "" && err != nil:
			t.Errorf("Light.New(disk, %q): %v", tt.args, err)
		case tt.bad != "" && (err == nil || !strings.Contains(err.Error(), tt.bad)):
			t.Errorf("Light.New(disk, %q) error = %v, want %q", tt.args, err, tt.bad)
		}
	}
}
