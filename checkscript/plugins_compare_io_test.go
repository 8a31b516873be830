package checkscript

// Side-by-side comparisons for the probes that touch the filesystem and the
// network: check_disk and check_tcp (see plugins_compare_test.go).

import (
	"crypto/tls"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

const mib = 1 << 20

func TestCompareDisk(t *testing.T) {
	bin := plugin(t, "check_disk")
	root, err := statfsPath("/")
	if err != nil {
		t.Fatal(err)
	}
	ev := evaluateDisk("/", root, diskLimits{})
	freePct := ev.FreePct
	t.Logf("/ is %d%% free, %d MiB", freePct, ev.FreeUnits)
	if freePct < 3 || freePct > 97 {
		t.Skipf("/ is %d%% free: too close to the ends for these thresholds", freePct)
	}
	pct := func(v int) string { return strconv.Itoa(v) + "%" }
	dir := t.TempDir()
	tests := []struct {
		name      string
		real      []string // check_disk arguments
		ours      []string // ours, when they differ
		sameLabel bool
	}{
		{"ok", []string{"-w", "1%", "-c", "0%", "-p", "/"}, nil, true},
		{"warning", []string{"-w", "99%", "-c", "0%", "-p", "/"}, nil, true},
		{"critical", []string{"-w", "99%", "-c", "98%", "-p", "/"}, nil, true},
		// free% is 100 − ⌈used%⌉ and thresholds are inclusive in both.
		{"boundary inclusive", []string{"-w", pct(freePct), "-c", "0%", "-p", "/"}, nil, true},
		{"boundary below", []string{"-w", pct(freePct - 1), "-c", "0%", "-p", "/"}, nil, true},
		{"MiB", []string{"-w", "1", "-c", "0", "-p", "/"}, nil, true},
		{"MiB huge", []string{"-w", "100000000", "-c", "0", "-p", "/"}, nil, true},
		{"inodes", []string{"-w", "1%", "-c", "0%", "-W", "100%", "-K", "0%", "-p", "/"}, nil, true},
		{"used mode", []string{"-w", pct(100 - 80), "-c", pct(100 - 90), "-p", "/"},
			[]string{"--used-warning", "80%", "--used-critical", "90%", "-p", "/"}, true},
		{"used mode warning", []string{"-w", pct(freePct), "-c", "0%", "-p", "/"},
			[]string{"--used-warning", pct(100 - freePct), "--used-critical", "100%", "-p", "/"}, true},
		// check_disk names the mount point ("/"); we name the path asked
		// for, as the catalog lists paths such as /opt/zextras.
		{"temp dir", []string{"-w", "1%", "-c", "0%", "-p", dir}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ours := tt.ours
			if ours == nil {
				ours = tt.real
			}
			real := runReal(t, bin, tt.real...)
			got := runOurs(t, append([]string{"disk"}, ours...)...)
			sameCode(t, real, got)
			rename := map[string]string{}
			if !tt.sameLabel {
				rename["/"] = dir
			}
			// check_disk truncates used and total to whole MiB (the -u unit)
			// before printing bytes; ours are exact. Writes by other processes
			// move "used" between the two runs: allow 1 MiB + 0.5%.
			bytesNoise := func(a, b float64) bool { return near(a, b, mib, 0.005) }
			// A free-MiB threshold larger than the disk makes check_disk's
			// unsigned "used at threshold" wrap around; ours clamps at 0.
			fieldNoise := func(_ int, a, b float64) bool {
				return near(a, b, mib, 0) || (a > float64(root.Total) && b == 0)
			}
			comparePerf(t, real, got, rename, bytesNoise, fieldNoise)
			if real.code == 0 || real.code == 1 || real.code == 2 {
				// Same summary apart from the label and ±1 MiB of free space.
				if !strings.Contains(got.line, "% inode=") || !strings.Contains(real.line, pct(freePct)) {
					t.Errorf("summaries:\nreal: %s\nours: %s", real.line, got.line)
				}
			}
		})
	}
	t.Run("missing path", func(t *testing.T) {
		real := runReal(t, bin, "-w", "20%", "-c", "10%", "-p", "/nonexistent/x")
		got := runOurs(t, "disk", "-w", "20%", "-c", "10%", "-p", "/nonexistent/x")
		sameCode(t, real, got)
		if real.line != got.line {
			t.Errorf("lines differ:\nreal: %s\nours: %s", real.line, got.line)
		}
	})
}

func TestCompareTCP(t *testing.T) {
	bin := plugin(t, "check_tcp")
	smtp := strconv.Itoa(serveTCP(t, nil, bannerServer("220 mail.example.test ESMTP ready\r\n", nil)))
	imap := strconv.Itoa(serveTCP(t, nil, bannerServer("* OK IMAP4rev1 ready\r\n", nil)))
	slow := strconv.Itoa(serveTCP(t, nil, func(c net.Conn) {
		time.Sleep(300 * time.Millisecond)
		_, _ = c.Write([]byte("220 slow\r\n"))
	}))
	cfg := selfSigned(t, "mail.example.test", time.Now().Add(60*time.Hour))
	tlsPort := strconv.Itoa(serveTCP(t, func(l net.Listener) net.Listener { return tls.NewListener(l, cfg) },
		bannerServer("* OK TLS ready\r\n", nil)))
	refused := strconv.Itoa(closedPort(t))
	tests := []struct {
		name string
		args []string
		// line: how the lines must relate; "" compares perfdata only.
		line string
	}{
		{"open", []string{"-p", smtp}, ""},
		{"expect banner", []string{"-p", smtp, "-e", "220", "-q", "QUIT"}, ""},
		{"imap", []string{"-p", imap, "-e", "* OK", "-q", "a1 LOGOUT"}, ""},
		{"mismatch", []string{"-p", smtp, "-e", "250"}, "summary"},
		{"mismatch crit", []string{"-p", smtp, "-e", "250", "-M", "crit"}, "summary"},
		{"slow warning", []string{"-p", slow, "-e", "220", "-w", "0.1", "-c", "5"}, ""},
		{"slow critical", []string{"-p", slow, "-e", "220", "-w", "0.05", "-c", "0.1"}, ""},
		// check_tcp prints these without "TCP STATE - "; ours keep the
		// guidelines' "SERVICE STATUS - text" form.
		{"refused", []string{"-p", refused}, "prefixed"},
		{"refused warn", []string{"-p", refused, "-r", "warn"}, "prefixed"},
		{"tls", []string{"-p", tlsPort, "-S", "-e", "* OK"}, ""},
		{"cert warning", []string{"-p", tlsPort, "-S", "-D", "5"}, "prefixed"},
		{"cert critical", []string{"-p", tlsPort, "-S", "-D", "5,3"}, "prefixed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"-H", "127.0.0.1"}, tt.args...)
			real := runReal(t, bin, args...)
			got := runOurs(t, append([]string{"tcp"}, args...)...)
			sameCode(t, real, got)
			switch tt.line {
			case "prefixed":
				want := real.line
				if st := Status(real.code).String() + " - "; !strings.HasPrefix(want, st) {
					want = st + want
				}
				want = "TCP " + want
				if got.line != want {
					t.Errorf("lines differ:\nreal: %s\nours: %s\nwant: %s", real.line, got.line, want)
				}
				return
			case "summary":
				rs, _, _ := strings.Cut(real.line, "|")
				ours, _, _ := strings.Cut(got.line, "|")
				if rs != ours {
					t.Errorf("summaries differ:\nreal: %s\nours: %s", rs, ours)
				}
			}
			// Response times are measured twice: allow 0.25 s of scheduling
			// noise (more than any loopback exchange); thresholds exact.
			comparePerf(t, real, got, nil, func(a, b float64) bool { return near(a, b, 0.25, 0) }, nil)
		})
	}
}
