package registrar

import (
	"testing"

	"github.com/zextras/carbonio-health/checkscript"
)

// TestScriptBinary: with carbonio-health-check known (Options.Light), a
// light probe's script check execs it and the others (tcp with TLS among
// them) exec carbonio-health; without it, carbonio-health runs every probe.
func TestScriptBinary(t *testing.T) {
	plan := loadTestPlan(t, `
role "t" {
  service "load" {
    check "load" {
      type  = "script"
      probe = "load"
      args  = { w = "1,1,1", c = "2,2,2" }
    }
  }
  service "imaps" {
    check "tls" {
      type  = "script"
      probe = "tcp"
      args  = { H = "127.0.0.1", p = "993", S = true }
    }
  }
  service "dns" {
    check "dns" {
      type  = "script"
      probe = "dns"
      args  = { H = "example.test" }
    }
  }
}
node { roles = ["t"] }
`)
	tests := []struct {
		opts           Options
		load, tls, dns string
	}{
		{Options{Self: "/usr/bin/carbonio-health", Light: "/usr/bin/carbonio-health-check"}, "/usr/bin/carbonio-health-check", "/usr/bin/carbonio-health", "/usr/bin/carbonio-health"},
		{Options{Self: "/usr/bin/carbonio-health"}, "/usr/bin/carbonio-health", "/usr/bin/carbonio-health", "/usr/bin/carbonio-health"},
	}
	for _, tt := range tests {
		got := map[string]string{}
		for _, s := range Desired(plan, tt.opts).Services {
			args := s.Registration.Checks[0].Args // binary check -steady probe …
			if len(args) < 4 || args[1] != "check" || args[2] != checkscript.SteadyFlag {
				t.Fatalf("%s: args %q", s.ID(), args)
			}
			got[args[3]] = args[0]
		}
		if got["load"] != tt.load || got["tcp"] != tt.tls || got["dns"] != tt.dns {
			t.Errorf("%+v: load runs %q, tcp -S %q, dns %q; want %q, %q, %q", tt.opts, got["load"], got["tcp"], got["dns"], tt.load, tt.tls, tt.dns)
		}
	}
}
