package allprobes

import (
	"flag"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/zextras/carbonio-health/checkscript"
	"github.com/zextras/carbonio-health/checkscript/plugintest"
	"github.com/zextras/carbonio-health/registrar/consultest"
)

// TestSpelling: how the man page, the usage and the completion write a
// probe's flag names (checkscript.Spelling).
func TestSpelling(t *testing.T) {
	tests := []struct{ probe, name, want string }{
		{"tcp", "w", "-w"},
		{"tcp", "warning", "--warning"},
		{"tcp", "wt", "-wt"},
		{"tcp", "ct", "-ct"},
		{"tcp", "to", "-to"},
		{"tcp", "sni", "--sni"},
		{"disk", "to", "-to"},
		{"ping", "nohtml", "--nohtml"},
	}
	for _, tt := range tests {
		f := Registry[tt.probe].FlagSet().Lookup(tt.name)
		if f == nil {
			t.Errorf("%s has no flag %s", tt.probe, tt.name)
			continue
		}
		if got := checkscript.Spelling(f); got != tt.want {
			t.Errorf("%s %s: %q, want %q", tt.probe, tt.name, got, tt.want)
		}
	}
	if u := Registry["tcp"].Usage(); !strings.Contains(u, "-w, --warning, -wt VALUE") {
		t.Errorf("tcp's usage does not write -wt as check_tcp reads it:\n%s", u)
	}
}

// TestOneDashFlagsAsCheckTCPReadsThem: the tcp probe's names of several
// letters that Spelling writes after one dash are check_tcp's, written as
// Debian's check_tcp reads them (and refuses them after two dashes), and
// the probe reads them as written.
func TestOneDashFlagsAsCheckTCPReadsThem(t *testing.T) {
	ln := consultest.Listen(t, "tcp", "")
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	var oneDash []string
	Registry["tcp"].FlagSet().VisitAll(func(f *flag.Flag) {
		if s := checkscript.Spelling(f); len(f.Name) > 1 && !strings.HasPrefix(s, "--") {
			oneDash = append(oneDash, s)
		}
	})
	slices.Sort(oneDash)
	if want := []string{"-ct", "-to", "-wt"}; !slices.Equal(oneDash, want) {
		t.Errorf("tcp's one-dash names: %q, want %q", oneDash, want)
	}
	for _, name := range oneDash {
		args := []string{"-H", "127.0.0.1", "-p", port, name, "10"}
		if r := plugintest.Real(t, "check_tcp", args...); r.Code != 0 {
			t.Errorf("check_tcp %s: exit %d, %s", strings.Join(args, " "), r.Code, r.Output)
		}
		if r := plugintest.Ours(Registry, "tcp", args...); r.Code != 0 {
			t.Errorf("tcp %s: exit %d, %s", strings.Join(args, " "), r.Code, r.Output)
		}
		args[4] = "-" + name
		if r := plugintest.Real(t, "check_tcp", args...); r.Code != 3 {
			t.Errorf("check_tcp reads %s (exit %d, %s): then Spelling should write it so", args[4], r.Code, r.Output)
		}
	}
}
