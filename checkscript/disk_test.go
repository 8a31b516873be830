package checkscript

import (
	"context"
	"flag"
	"regexp"
	"slices"
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
			r, err := ParsePluginRange(*atRange(free))
			if err != nil {
				t.Fatal(err)
			}
			if got, want := r.Alert(float64(100-usedPct)), usedPct >= u; got != want {
				t.Fatalf("used %d%% vs --used-* %d%%: alert %v, want %v", usedPct, u, got, want)
			}
		}
	}
}

func TestCPercent(t *testing.T) {
	tests := []struct {
		part, whole uint64
		want        float64
	}{
		{0, 100, 0}, {1, 100, 1}, {20, 100, 20}, {201, 1000, 21}, {100, 100, 100},
		{4127318, 23875316, 18}, {558058, 16777216, 4}, // the measured / of PLUGINS.md's host
		{1, 0, -1}, {5, 3, 100}, {1 << 62, 1<<63 + 1, 50}, {^uint64(0), ^uint64(0), 100},
	}
	for _, tt := range tests {
		if got := cPercent(tt.part, tt.whole); got != tt.want {
			t.Errorf("cPercent(%d, %d) = %v, want %v", tt.part, tt.whole, got, tt.want)
		}
	}
}

// measuredRoot is statfs("/") of the machine where check_disk printed
// "/ 77140MiB (82% inode=96%)": 4 KiB blocks, a large reserve.
var measuredRoot = fsStats{
	Total: 66053021 * 4096, Free: 61925703 * 4096, Avail: 19747998 * 4096,
	Files: 16777216, FilesFree: 16219158,
}

// limits parses thresholds as the disk probe's flags do (-w 20% is "@20%").
func limits(t *testing.T, args diskArgs) diskLimits {
	t.Helper()
	l, err := args.limits()
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestEvaluateDisk(t *testing.T) {
	at := atRange
	mib, gib := diskOptions{unit: diskUnit{"MiB", 1 << 20}}, diskOptions{unit: diskUnit{"GiB", 1 << 30}}
	tests := []struct {
		name   string
		st     fsStats
		args   diskArgs
		o      diskOptions
		want   Status
		text   string
		warn   string // perfdata warn (used bytes)
		steady string
	}{
		{"plugins.md", measuredRoot, diskArgs{warnFreePct: at("20%"), critFreePct: at("10%")}, mib, OK, " / 77140MiB (82% inode=96%);", "216442024755", ""},
		{"free% inclusive", measuredRoot, diskArgs{warnFreePct: at("82%"), critFreePct: at("1%")}, mib, Warning, "", "48699455569",
			"/ free space at or below the warning threshold 82%"},
		{"free% just below", measuredRoot, diskArgs{warnFreePct: at("81%"), critFreePct: at("1%")}, mib, OK, "", "", ""},
		{"critical first", measuredRoot, diskArgs{warnFreePct: at("99%"), critFreePct: at("98%")}, mib, Critical, "", "",
			"/ free space at or below the critical threshold 98%"},
		{"MiB inclusive", measuredRoot, diskArgs{warnFreeUnits: at("77140"), critFreeUnits: at("1")}, mib, Warning, "", "189665378304",
			"/ free space at or below the warning threshold 77140 MiB"},
		{"MiB below", measuredRoot, diskArgs{warnFreeUnits: at("77139")}, mib, OK, "", "", ""},
		{"GiB unit", measuredRoot, diskArgs{warnFreeUnits: at("75")}, gib, Warning, " / 75GiB (82% inode=96%);", "188978561024", ""},
		{"inodes", measuredRoot, diskArgs{warnFreeInodes: at("96")}, mib, Warning, "", "", "/ free inodes at or below the warning threshold 96%"},
		{"inodes crit", measuredRoot, diskArgs{warnFreeInodes: at("97"), critFreeInodes: at("96")}, mib, Critical, "", "", ""},
		{"used% (old form)", measuredRoot, diskArgs{warnUsedPct: ptr("10"), critUsedPct: ptr("50")}, mib, Warning, "", "",
			"/ used space over the warning threshold 10%"},
		{"no thresholds", measuredRoot, diskArgs{}, mib, OK, " / 77140MiB (82% inode=96%);", "", ""},
		{"full", fsStats{Total: 100 << 20, Free: 0, Avail: 0, Files: 10, FilesFree: 0}, diskArgs{critFreePct: at("0%")}, mib, Critical, " / 0MiB (0% inode=0%);", "", ""},
		{"reserve excluded", fsStats{Total: 100 << 20, Free: 30 << 20, Avail: 20 << 20}, diskArgs{warnFreePct: at("25%")}, mib, Warning, " / 20MiB (22% inode=-)];", "", ""},
		{"no inodes (btrfs)", fsStats{Total: 1 << 30, Free: 1 << 29, Avail: 1 << 29}, diskArgs{warnFreeInodes: at("50")}, mib, OK, " / 512MiB (50% inode=-);", "", ""},
		{"free > total", fsStats{Total: 10, Free: 20, Avail: 20, Files: 1, FilesFree: 5}, diskArgs{warnFreePct: at("10%")}, mib, OK, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := evaluateDisk("/", usage([]fsStats{tt.st}, tt.o), limits(t, tt.args), tt.o)
			if ev.Status != tt.want {
				t.Errorf("status %v, want %v (%+v)", ev.Status, tt.want, ev)
			}
			if tt.text != "" && ev.Text != tt.text {
				t.Errorf("text %q, want %q", ev.Text, tt.text)
			}
			if tt.warn != "" && ev.Perfdata[0].Warn != tt.warn {
				t.Errorf("perfdata warn %q, want %q", ev.Perfdata[0].Warn, tt.warn)
			}
			if tt.steady != "" && ev.Steady != tt.steady {
				t.Errorf("steady %q, want %q", ev.Steady, tt.steady)
			}
		})
	}
	ev := evaluateDisk("/", usage([]fsStats{measuredRoot}, mib), limits(t, diskArgs{warnFreePct: at("20%"), critFreePct: at("10%")}), mib)
	if got, want := ev.Perfdata[0].String(), "/=16905142272B;216442024755;243497277849;0;270552530944"; got != want {
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

// testMounts is the mount table of TestDiskRun.
var testMounts = []mountEntry{
	{Dev: "/dev/vda", Dir: "/", Type: "ext4"},
	{Dev: "proc", Dir: "/proc", Type: "proc"},
	{Dev: "/dev/vdb", Dir: "/opt", Type: "xfs"},
	{Dev: "srv:/export", Dir: "/nfs", Type: "nfs4"},
	{Dev: "/dev/sr0", Dir: "/media/cd", Type: "iso9660"},
}

// testRegexp is allprobes' matcher, for the package's own tests.
func testRegexp(expr string, fold bool) (func(string) bool, error) {
	if fold {
		expr = "(?i)" + expr
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, err
	}
	return re.MatchString, nil
}

func TestDiskRun(t *testing.T) {
	nearlyFull := fsStats{Total: 100 << 20, Free: 5 << 20, Avail: 5 << 20, Files: 100, FilesFree: 50}
	fs := map[string]*fsStats{"/": &measuredRoot, "/etc": &measuredRoot, "/opt": &nearlyFull, "/opt/sub": &nearlyFull,
		"/nfs": nil, "/proc": {}, "/media/cd": &nearlyFull, "/dev/vdb": {}}
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	const root = "/ 77140MiB (82% inode=96%);"
	const opt = "/opt 5MiB (5% inode=50%);"
	tests := []struct {
		name   string
		args   []string
		want   string
		steady string
	}{
		{"two paths, worst wins", []string{"-w", "20%", "-c", "10%", "-p", "/", "-p", "/opt"},
			"DISK CRITICAL - free space: " + root + " " + opt + "| /=16905142272B;216442024755;243497277849;0;270552530944 /opt=99614720B;83886080;94371840;0;104857600",
			"DISK CRITICAL - /opt free space at or below the critical threshold 10%"},
		{"thresholds per path", []string{"-w", "1%", "-c", "1%", "-p", "/", "-w", "5%", "-c", "1%", "-p", "/opt"},
			"DISK WARNING - free space: " + root + " " + opt + "| /=16905142272B;267847005634;267847005634;0;270552530944 /opt=99614720B;99614720;103809024;0;104857600",
			"DISK WARNING - /opt free space at or below the warning threshold 5%"},
		{"used mode", []string{"--used-warning", "80%", "--used-critical", "96%", "-p", "/opt"},
			"DISK WARNING - free space: " + opt + "| /opt=99614720B;83886080;100663296;0;104857600", ""},
		{"a path names its mount", []string{"-w", "1%", "-p", "/opt/sub"},
			"DISK OK - free space: " + opt + "| /opt=99614720B;103809024;;0;104857600",
			"DISK OK - free space within the thresholds on /opt"},
		{"a filesystem once", []string{"-w", "1%", "-p", "/", "-p", "/etc", "-p", "/"},
			"DISK OK - free space: " + root + "| /=16905142272B;267847005634;;0;270552530944", ""},
		{"errors only", []string{"-e", "-w", "10%", "-p", "/", "-p", "/opt"},
			"DISK WARNING - free space: " + opt + "| /=16905142272B;243497277849;;0;270552530944 /opt=99614720B;94371840;;0;104857600", ""},
		{"errors only, all OK", []string{"-e", "-w", "1%", "-p", "/"}, "DISK OK| /=16905142272B;267847005634;;0;270552530944", ""},
		{"old form", []string{"0", "50", "/opt/sub"}, "DISK CRITICAL - free space: " + opt + "| /opt=99614720B;;;0;104857600",
			"DISK CRITICAL - /opt used space over the critical threshold 50%"},
		{"every mount, pseudo and iso9660 skipped", []string{"-w", "1%", "-x", "/nfs"},
			"DISK OK - free space: " + root + " " + opt + "| /=16905142272B;267847005634;;0;270552530944 /opt=99614720B;103809024;;0;104857600", ""},
		{"group", []string{"-w", "90%", "-g", "all", "-p", "/", "-p", "/opt"},
			"DISK WARNING - free space: all 77145MiB (82% inode=96%);| all=17004756992B;27065738854;;0;270657388544",
			"DISK WARNING - all free space at or below the warning threshold 90%"},
		{"regexp and ignore", []string{"-w", "1%", "-r", "^/(opt|nfs)", "-i", "nfs"},
			"DISK OK - free space: " + opt + "| /opt=99614720B;103809024;;0;104857600", ""},
		{"ignore everything", []string{"-w", "1%", "-p", "/", "-i", ".*"}, "DISK UNKNOWN - free space:|", ""},
		{"regexp matching nothing", []string{"-w", "1%", "-r", "^/nothing"}, "DISK UNKNOWN: Regular expression did not match any path or disk - ^/nothing", ""},
		{"exact", []string{"-w", "1%", "-E", "-p", "/etc"}, "DISK CRITICAL: /etc not found", ""},
		{"device", []string{"-w", "1%", "-M", "-p", "/dev/vdb"}, "DISK OK - free space: /dev/vdb 5MiB (5% inode=50%);| /dev/vdb=99614720B;103809024;;0;104857600", ""},
		{"missing path", []string{"-w", "20%", "-p", "/", "-p", "/x"}, "DISK CRITICAL - /x is not accessible: No such file or directory", ""},
	}
	// A hung statfs: the full line says since when, the steady one not.
	hung := "DISK CRITICAL - /nfs is not accessible: statfs hung (no answer within 0.2 seconds"
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newWith(t, "disk", tt.args, func(flags *flag.FlagSet) func() (Check, error) {
				return diskFlags(flags, &diskCheck{statfs: fakeStatfs(fs, release), regexp: testRegexp,
					mounts: func() ([]mountEntry, error) { return testMounts, nil }})
			})
			start := time.Now()
			res := c.Run(context.Background())
			if got := res.String(); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
			if got := res.SteadyString(); tt.steady != "" && got != tt.steady {
				t.Errorf("steady %q\nwant   %q", got, tt.steady)
			}
			if time.Since(start) > 2*time.Second {
				t.Error("deadline not honoured")
			}
		})
	}
	c := newWith(t, "disk", []string{"-w", "20%", "-p", "/nfs", "-t", "0.2"}, func(flags *flag.FlagSet) func() (Check, error) {
		return diskFlags(flags, &diskCheck{statfs: fakeStatfs(fs, release), mounts: func() ([]mountEntry, error) { return testMounts, nil }})
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
	// A mount table that does not answer: CRITICAL, named, as a hung statfs.
	c = newWith(t, "disk", []string{"-w", "20%", "-p", "/", "-t", "0.2"}, func(flags *flag.FlagSet) func() (Check, error) {
		return diskFlags(flags, &diskCheck{statfs: fakeStatfs(fs, release), mounts: func() ([]mountEntry, error) {
			<-release
			return testMounts, nil
		}})
	})
	hung = "DISK CRITICAL - reading the mount table hung (no answer within 0.2 seconds"
	for run := range 2 {
		if r := c.Run(context.Background()); !strings.HasPrefix(r.String(), hung+", since ") || r.SteadyString() != hung+")" {
			t.Errorf("mount table, run %d: got %q, steady %q", run, r, r.SteadyString())
		}
	}
}

func TestDiskRealFilesystem(t *testing.T) {
	dir := t.TempDir()
	r := runProbe(t, context.Background(), "disk", "-w", "0%", "-c", "0%", "-p", dir)
	if r.Status != OK || !strings.HasPrefix(r.Summary, "free space: /") || len(r.Perfdata) != 1 {
		t.Errorf("got %q", r)
	}
	r = runProbe(t, context.Background(), "disk", "-w", "10%", "-p", dir+"/missing")
	if want := "DISK CRITICAL - " + dir + "/missing is not accessible: No such file or directory"; r.String() != want {
		t.Errorf("got %q, want %q", r, want)
	}
}

func TestParseMountinfo(t *testing.T) {
	text := "22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n" +
		"36 22 0:32 / /mnt/with\\040space rw - tmpfs tmp\\040fs rw,size=1k\n" +
		"37 22 0:33 / /srv rw master:2 shared:3 - nfs4 srv:/export rw\n" +
		"garbage\n"
	want := []mountEntry{{"/dev/vda", "/", "ext4"}, {"tmp fs", "/mnt/with space", "tmpfs"}, {"srv:/export", "/srv", "nfs4"}}
	if got := parseMountinfo(text); !slices.Equal(got, want) {
		t.Errorf("parseMountinfo = %q, want %q", got, want)
	}
	if !want[2].remote() || want[0].remote() {
		t.Error("remote() wrong")
	}
	mounts := []mountEntry{{"/dev/vda", "/", "ext4"}, {"/dev/vdb", "/opt", "xfs"}, {"/dev/vdc", "/opt/zextras", "xfs"}, {"tmpfs", "/optical", "tmpfs"}}
	for _, tt := range []struct {
		name  string
		exact bool
		want  string
	}{
		{"/opt/zextras/store", false, "/opt/zextras"}, {"/opt/z", false, "/opt"}, {"/optical/x", false, "/optical"},
		{"/etc", false, "/"}, {"/dev/vdb", false, "/opt"}, {"/etc", true, ""}, {"/opt", true, "/opt"}, {"tmpfs", true, "/optical"},
	} {
		got := ""
		if m := bestMount(tt.name, mounts, tt.exact); m != nil {
			got = m.Dir
		}
		if got != tt.want {
			t.Errorf("bestMount(%q, exact %v) = %q, want %q", tt.name, tt.exact, got, tt.want)
		}
	}
}

func TestDiskArguments(t *testing.T) {
	tests := []struct {
		args []string
		bad  string
	}{
		{[]string{"-w", "20%", "-c", "10%", "-W", "10", "-K", "5%", "-u", "GB", "-p", "/"}, ""},
		{[]string{"--warning", "500", "--critical", "100", "--units", "kB", "--path", "/", "--partition", "/var"}, ""},
		{[]string{"-w", "20%"}, ""},
		{[]string{"100", "100", "/"}, ""},
		{[]string{"-w", "20%", "--used-critical", "90%", "-p", "/"}, ""},
		{[]string{"-p", "/", "-w", "20%", "-c", "10%"}, "Must set a threshold value before using -p"},
		{[]string{"-w", "1%", "-p", "/", "-u", "XB"}, "unit type XB not known"},
		{[]string{"-w", "1%", "-u", "mb", "-p", "/"}, "unit type mb not known"},
		{[]string{"--used-warning", "80", "-p", "/"}, "--used-warning"},
		{[]string{"--used-critical", "120%", "-p", "/"}, "--used-critical"},
		{[]string{"-w", "20:10%", "-p", "/"}, "Range format incorrect"},
		{[]string{"-w", "1%", "-p", "/", "-E"}, "Must set -E before selecting paths"},
		{[]string{"-w", "1%", "-p", "/", "-g", "x", "-p", "/var"}, "Must set group value before selecting paths"},
		{[]string{"-w", "1%", "-i", "x", "-p", "/"}, "Paths need to be selected before using -i/-I"},
		{[]string{"-r", "x"}, "Must set a threshold value before using -r/-R"},
		{[]string{"-w", "1%", "-r", "^/"}, "need regular expressions"},
		{[]string{"-w", "1%", "-A"}, "need regular expressions"},
		{[]string{}, "Could not parse arguments"},
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
