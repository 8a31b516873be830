package checkscript

import (
	"flag"
	"strings"
	"testing"
	"time"
)

func TestCertExpiry(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	tests := []struct {
		name       string
		left       time.Duration
		warn, crit int
		want       Status
		text       string
	}{
		{"far", 90 * day, 30, 7, OK, "Certificate 'cn' will expire on"},
		{"no -D warn window", 3 * day, 0, 0, OK, "will expire on"},
		{"warn", 20 * day, 30, 7, Warning, "Certificate 'cn' expires in 20 day(s) ("},
		{"warn boundary inclusive", 30 * day, 30, 7, Warning, "expires in 30 day(s)"},
		{"just outside warn", 31 * day, 30, 7, OK, "will expire on"},
		{"crit", 7 * day, 30, 7, Critical, "expires in 7 day(s)"},
		{"days truncated", 7*day + 23*time.Hour, 30, 7, Critical, "expires in 7 day(s)"},
		{"crit above", 8 * day, 30, 7, Warning, "expires in 8 day(s)"},
		{"hours", 5 * time.Hour, 30, 7, Critical, "expires in 5 hours ("},
		{"minutes", 42 * time.Minute, 30, 7, Critical, "expires in 42 minutes ("},
		{"last day even without -D", 5 * time.Hour, 0, 0, Critical, "expires in 5 hours"},
		{"expired", -2 * day, 30, 7, Critical, "Certificate 'cn' expired on Sun Nov 22 12:00:00 2026 +0000."},
		{"just expired", 0, 30, 7, Critical, "just expired"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, msg := certExpiry("cn", now.Add(tt.left), now, tt.warn, tt.crit)
			if st != tt.want || !strings.Contains(msg, tt.text) {
				t.Errorf("certExpiry = %v %q, want %v containing %q", st, msg, tt.want, tt.text)
			}
		})
	}
}

// TestCertSteady: a certificate counting down its days, hours or minutes
// keeps one steady form while its state holds.
func TestCertSteady(t *testing.T) {
	notAfter := time.Date(2026, 12, 24, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	for _, tt := range []struct {
		lefts      []time.Duration
		warn, crit int
		want       string
	}{
		{[]time.Duration{20 * day, 19 * day, 12*day + 3*time.Hour}, 30, 7, "Certificate 'cn' expires on Thu Dec 24 12:00:00 2026 +0000, within the warning threshold of 30 day(s)."},
		{[]time.Duration{7 * day, 2 * day}, 30, 7, "Certificate 'cn' expires on Thu Dec 24 12:00:00 2026 +0000, within the critical threshold of 7 day(s)."},
		{[]time.Duration{5 * time.Hour, 42 * time.Minute}, 30, 7, "Certificate 'cn' expires on Thu Dec 24 12:00:00 2026 +0000, within its last day."},
		{[]time.Duration{-day, -2 * day}, 30, 7, "Certificate 'cn' expired on Thu Dec 24 12:00:00 2026 +0000."},
	} {
		for _, left := range tt.lefts {
			now := notAfter.Add(-left)
			st, _ := certExpiry("cn", notAfter, now, tt.warn, tt.crit)
			if got := certSteady("cn", notAfter, now, st, tt.warn, tt.crit); got != tt.want {
				t.Errorf("%s left: %q, want %q", left, got, tt.want)
			}
		}
	}
}

func TestParseCertDays(t *testing.T) {
	tests := []struct {
		in         string
		warn, crit int
		bad        bool
	}{
		{in: "30", warn: 30}, {in: "30,7", warn: 30, crit: 7}, {in: " 5 , 5 ", warn: 5, crit: 5},
		{in: "5,9", warn: 5, crit: 9}, // check_tcp does not compare them
		{in: "", warn: 0},             // is_intnonneg("") holds in C: strtol reads 0
		{in: "x", bad: true}, {in: "-1", bad: true}, {in: "5,x", bad: true}, {in: "1.5", bad: true},
	}
	for _, tt := range tests {
		w, c, err := parseCertDays(tt.in)
		if (err != nil) != tt.bad || (!tt.bad && (w != tt.warn || c != tt.crit)) {
			t.Errorf("parseCertDays(%q) = %d, %d, %v", tt.in, w, c, err)
		}
	}
}

func TestTCPArguments(t *testing.T) {
	tests := []struct {
		args []string
		bad  string // substring of the error, empty when valid
	}{
		{[]string{"-H", "h", "-p", "25"}, ""},
		{[]string{"--hostname", "h", "--port", "25", "--ssl", "--certificate", "30,7", "--refuse", "ok", "--mismatch", "crit"}, ""},
		{[]string{"-p", "25"}, ""}, // 127.0.0.1, as check_tcp
		{[]string{"h", "-p", "25", "-wt", "1", "-ct", "2", "-to", "3", "-j", "-m", "10", "-d", "1", "-4", "-v"}, ""},
		{[]string{"-p", "25", "h"}, ""},
		{[]string{"-H", "/run/x.sock"}, ""},
		{[]string{"-H", "h", "-p", "25", "-r", "okay", "-M", "critical", "--sni", "x.test"}, ""},
		{[]string{"-H", "h", "-p", "25", "-w", "-1", "-c", "NaN"}, ""}, // strtod reads them, as check_tcp
		{[]string{"-H", "h"}, ""}, // port 0, refused when it runs, as check_tcp
		{[]string{"-H", "h", "-p", "0"}, "Port must be a positive integer"},
		{[]string{"-H", "h", "-p", "x"}, "Port must be a positive integer"},
		{[]string{"-H", "h", "-p", "25", "-r", "maybe"}, "Refuse must be one of ok, warn, crit"},
		{[]string{"-H", "h", "-p", "25", "-M", ""}, "Mismatch must be one of ok, warn, crit"},
		{[]string{"-H", "h", "-p", "25", "-m", "0"}, "Maxbytes must be a positive integer"},
		{[]string{"-H", "h", "-p", "25", "-d", "x"}, "Delay must be a positive integer"},
		{[]string{"-H", "h", "-p", "25", "-D", "1.5"}, "Invalid certificate expiration period"},
		{[]string{}, "No arguments found"},
	}
	for _, tt := range tests {
		_, err := testProbes.New("tcp", tt.args)
		switch {
		case tt.bad == "" && err != nil:
			t.Errorf("Light.New(tcp, %q): %v", tt.args, err)
		case tt.bad != "" && (err == nil || !strings.Contains(err.Error(), tt.bad)):
			t.Errorf("Light.New(tcp, %q) error = %v, want %q", tt.args, err, tt.bad)
		}
	}
	tc := &tcpCheck{tls: testTLS}
	newWith(t, "tcp", []string{"-H", "h", "-p", "1", "-D", "3", "-q", "QUIT", "-s", `x\n`}, func(fs *flag.FlagSet) func() (Check, error) {
		return tcpFlags(fs, tc)
	})
	if !tc.useTLS || !tc.checkCert || tc.quit != "QUIT\r\n" || tc.send != `x\n` {
		t.Errorf("-D should imply TLS and -q get CRLF: %+v", tc)
	}
	// -E applies to the -s and -q after it, and -q then gets no CRLF.
	tc = &tcpCheck{}
	newWith(t, "tcp", []string{"-H", "h", "-p", "1", "-s", `a\n`, "-E", "-q", `QUIT\n`}, func(fs *flag.FlagSet) func() (Check, error) {
		return tcpFlags(fs, tc)
	})
	if tc.send != `a\n` || tc.quit != "QUIT\n" {
		t.Errorf("-E order: send %q quit %q", tc.send, tc.quit)
	}
	if got := unescapeTCP(`a\tb\\c\xd\`); got != "a\tb\\cxd\\" {
		t.Errorf("unescapeTCP = %q", got)
	}
}

func TestMatchExpectAndFirstLine(t *testing.T) {
	tests := []struct {
		data   string
		expect []string
		all    bool
		want   bool
	}{
		{"220 ok", nil, false, true},
		{"220 ok", []string{"220"}, false, true},
		{"220 ok", []string{"ok"}, false, true},
		{"220 ok", []string{"250", "220"}, false, true},
		{"220 ok", []string{"250", "220"}, true, false},
		{"220 ok 250", []string{"250", "220"}, true, true},
		{"", []string{"x"}, false, false},
	}
	for _, tt := range tests {
		if got := matchExpect(tt.data, tt.expect, tt.all); got != tt.want {
			t.Errorf("matchExpect(%q, %q, %v) = %v", tt.data, tt.expect, tt.all, got)
		}
	}
	for in, want := range map[string]string{
		"220 a\r\n250 b\r\n": "220 a",
		"\r\n* OK x":         "* OK x",
		"a|b\x00\x1bc":       "a/bc",
		"":                   "",
		"\xff\xfe":           "\uFFFD\uFFFD", // invalid UTF-8 is replaced
	} {
		if got := FirstLine(in); got != want {
			t.Errorf("FirstLine(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestUnescapeTCP(t *testing.T) {
	if got := unescapeTCP(`a\r\nb\tc\\n`); got != "a\r\nb\tc\\n" {
		t.Errorf("unescapeTCP = %q", got)
	}
}
