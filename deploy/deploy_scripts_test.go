package deploy_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zextras/carbonio-health/registrar/consultest"
)

// scriptletSandbox runs a maintainer script in a private mount namespace
// where systemd looks like it runs (/run/systemd/system exists) and /etc,
// /usr/bin, /usr/lib/systemd and /var/lib are overlays whose writes stay in
// the test's temp dir. systemctl, deb-systemd-helper, deb-systemd-invoke,
// systemd-sysusers and (with $UPDATE_HELPER, as on systemd 249 and later)
// /usr/lib/systemd/systemd-update-helper are stubs that log their arguments
// to $CALLS, so the test sees what the script asked systemd to do, on this
// machine without systemd; `systemctl show` answers with a unit environment
// like a Carbonio node's. (The real-node tests, deploy/realnode, run the
// Debian scripts under systemd.)
const scriptletSandbox = `set -e
mount -t tmpfs tmpfs /run
mkdir -p /run/systemd/system
for d in /etc /usr/bin /usr/lib/systemd /var/lib; do
	n=$T/ov$(echo "$d" | tr / _)
	mkdir -p "$n/u" "$n/w"
	mount -t overlay overlay -o "lowerdir=$d,upperdir=$n/u,workdir=$n/w" "$d"
done
rm -rf /etc/carbonio-health /var/lib/carbonio-health
mkdir -p /etc/carbonio-health
if [ -n "$NODE_FILE" ]; then echo 'node {}' >/etc/carbonio-health/node.hcl; fi
echo CONSUL_HTTP_ADDR=127.0.0.1:18500 >/etc/carbonio-health/consul.env
printf '#!/bin/sh\necho "carbonio-health $* $CONSUL_HTTP_ADDR $CONSUL_HTTP_TOKEN_FILE" >>"$CALLS"\n' >/usr/bin/carbonio-health
chmod +x /usr/bin/carbonio-health
if [ -n "$UPDATE_HELPER" ]; then
	printf '#!/bin/sh\necho "systemd-update-helper $*" >>"$CALLS"\n' >/usr/lib/systemd/systemd-update-helper
	chmod +x /usr/lib/systemd/systemd-update-helper
fi
if [ -n "$KEPT" ]; then
	mkdir -p /var/lib/carbonio-health
	cp /usr/bin/carbonio-health /var/lib/carbonio-health/
	echo CONSUL_HTTP_TOKEN_FILE=/etc/carbonio/health/service-discover/token >/var/lib/carbonio-health/consul.env
fi
PATH=$STUBS:$PATH sh "$SCRIPT" "$@"
if [ -x /var/lib/carbonio-health/carbonio-health ]; then echo "kept binary" >>"$CALLS"; fi
if [ -s /var/lib/carbonio-health/consul.env ]; then echo "kept $(cat /var/lib/carbonio-health/consul.env)" >>"$CALLS"; fi
`

// TestMaintainerScripts runs each maintainer script with the arguments dpkg
// and rpm pass and checks what it asks of systemd: on Debian what debhelper
// writes (enable through deb-systemd-helper and start, which the unit's
// node-file condition turns into "enabled, not started"; try-restart on
// upgrade; stop on remove; deregister only on purge, then forget the
// unit); on RPM what the systemd macros expand to, with and without
// systemd-update-helper.
func TestMaintainerScripts(t *testing.T) {
	tool(t, "unshare")
	if os.Geteuid() != 0 {
		consultest.Missing(t, "the maintainer scripts' sandbox needs root (make test runs as root)")
	}
	const unit = "carbonio-health.service"
	const path = "carbonio-health-fragment.path"
	enable := []string{"systemd-sysusers carbonio-health.conf",
		"deb-systemd-helper unmask " + unit, "deb-systemd-helper --quiet was-enabled " + unit,
		"deb-systemd-helper enable " + unit, "systemctl --system daemon-reload"}
	kept := []string{"kept binary", "kept CONSUL_HTTP_TOKEN_FILE=/etc/carbonio/health/service-discover/token"}
	tests := []struct {
		script, args           string
		nodeFile, kept, helper bool
		want                   []string
		wantOut                string
	}{
		{"deb-postinst", "configure", false, false, false, append(enable, "deb-systemd-invoke start "+unit), "enabled, not started"},
		{"deb-postinst", "configure", true, false, false, append(enable, "deb-systemd-invoke start "+unit), ""},
		{"deb-postinst", "configure 1.0-1", true, false, false, append(enable, "deb-systemd-invoke try-restart "+unit), ""},
		{"deb-postinst", "abort-upgrade 1.0-1", true, false, false, append(enable[1:], "deb-systemd-invoke try-restart "+unit), ""},
		{"deb-prerm", "remove", true, false, false, append([]string{"systemctl show --property Environment --value " + unit,
			"deb-systemd-invoke stop " + unit + " " + path}, kept...), ""},
		{"deb-prerm", "upgrade 1.1-1", true, false, false, nil, ""},
		{"deb-postrm", "remove", true, true, false, append([]string{"systemctl --system daemon-reload", "deb-systemd-helper mask " + unit}, kept...), ""},
		{"deb-postrm", "purge", true, true, false, []string{
			"carbonio-health deregister 127.0.0.1:18500 /etc/carbonio/health/service-discover/token",
			"deb-systemd-helper purge " + unit, "deb-systemd-helper unmask " + unit}, ""},
		{"deb-postrm", "upgrade 1.1-1", true, true, false, kept, ""},
		{"rpm-post", "1", true, false, true, []string{"systemd-sysusers carbonio-health.conf", "systemd-update-helper install-system-units " + unit}, ""},
		{"rpm-post", "1", true, false, false, []string{"systemd-sysusers carbonio-health.conf", "systemctl --no-reload preset " + unit}, ""},
		{"rpm-post", "2", true, false, true, []string{"systemd-sysusers carbonio-health.conf"}, ""},
		{"rpm-preun", "0", true, false, true, []string{"systemd-update-helper remove-system-units " + unit + " " + path}, ""},
		{"rpm-preun", "0", true, false, false, []string{"systemctl --no-reload disable --now " + unit + " " + path}, ""},
		{"rpm-preun", "1", true, false, true, nil, ""},
		{"rpm-postun", "0", true, false, true, nil, ""},
		{"rpm-postun", "1", true, false, true, []string{"systemd-update-helper mark-restart-system-units " + unit}, ""},
		{"rpm-postun", "0", true, false, false, []string{"systemctl daemon-reload"}, ""},
		{"rpm-postun", "1", true, false, false, []string{"systemctl daemon-reload", "systemctl try-restart " + unit}, ""},
	}
	dir := t.TempDir()
	stubs := filepath.Join(dir, "stubs")
	if err := os.Mkdir(stubs, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"systemctl", "deb-systemd-helper", "deb-systemd-invoke", "systemd-sysusers"} {
		stub := "#!/bin/sh\necho \"" + s + " $*\" >>\"$CALLS\"\n"
		if s == "systemctl" {
			stub += `[ "$1" != show ] || echo "LANG=C CONSUL_HTTP_TOKEN_FILE=/etc/carbonio/health/service-discover/token"` + "\n"
		}
		if err := os.WriteFile(filepath.Join(stubs, s), []byte(stub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range tests {
		name := tt.script + " " + tt.args
		if tt.helper {
			name += " (systemd-update-helper)"
		}
		t.Run(name, func(t *testing.T) {
			work := t.TempDir()
			calls := filepath.Join(work, "calls")
			script, err := filepath.Abs(filepath.Join("package", "scripts", tt.script+".sh"))
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command("unshare", append([]string{"--mount", "sh", "-c", scriptletSandbox, "sandbox"}, strings.Fields(tt.args)...)...)
			cmd.Env = append(os.Environ(), "T="+work, "STUBS="+stubs, "CALLS="+calls, "SCRIPT="+script)
			if tt.nodeFile {
				cmd.Env = append(cmd.Env, "NODE_FILE=1")
			}
			if tt.kept {
				cmd.Env = append(cmd.Env, "KEPT=1")
			}
			if tt.helper {
				cmd.Env = append(cmd.Env, "UPDATE_HELPER=1")
			}
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s %s: %v\n%s", tt.script, tt.args, err, out)
			}
			b, _ := os.ReadFile(calls)
			got := strings.Split(strings.TrimSpace(string(b)), "\n")
			if len(b) == 0 {
				got = nil
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("%s %s called:\n  %s\nwant:\n  %s", tt.script, tt.args, strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
			if !strings.Contains(string(out), tt.wantOut) {
				t.Errorf("output %q lacks %q", out, tt.wantOut)
			}
		})
	}
}
