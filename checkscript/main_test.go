package checkscript

import (
	"os"
	"testing"

	"github.com/zextras/carbonio-health/checkscript/faultfs"
)

// TestMain lets faultfs serve its FUSE filesystems from this test binary,
// re-executed (faultfs.Main returns at once otherwise).
func TestMain(m *testing.M) {
	faultfs.Main()
	os.Exit(m.Run())
}
