package registrar

import (
	"os"
	"testing"

	"github.com/zextras/carbonio-health/checkscript/faultfs"
)

// TestMain lets this test binary, re-executed, serve faultfs's FUSE
// filesystems or run a daemon in a process of its own (daemonChild); both
// return at once otherwise.
func TestMain(m *testing.M) {
	faultfs.Main()
	if daemonChild() {
		os.Exit(0)
	}
	os.Exit(m.Run())
}
