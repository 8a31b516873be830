package checkscript_test

import (
	"github.com/zextras/carbonio-health/checkscript"
	"github.com/zextras/carbonio-health/checkscript/tcptls"
)

// The tests of -S, --sni and -D run the tcp probe as allprobes.Registry
// holds it, with tcptls.Client: this external test package may import
// tcptls (which imports checkscript), the package's own tests may not.
var _ = checkscript.UseTLSClient(tcptls.Client)
