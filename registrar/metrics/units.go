package metrics

import "github.com/prometheus/client_golang/prometheus"

// A perfdata unit (UOM) of the plugin guidelines maps to one metric family,
// named after its base unit, and a factor to that unit. Prometheus wants
// base units: seconds, bytes, ratios.
type unit struct {
	family int
	factor float64
}

// The perfdata families, by index into perfFamilies.
const (
	famPlain = iota
	famSeconds
	famBytes
	famRatio
	famCounter
)

// perfFamilies are the perfdata metric families; each has the labels check,
// service and label (the perfdata item's label).
var perfFamilies = []struct {
	name, help string
	kind       prometheus.ValueType
}{
	famPlain:   {"carbonio_health_perfdata", "Perfdata value without a unit (e.g. load1, users) of the last result of a check.", prometheus.GaugeValue},
	famSeconds: {"carbonio_health_perfdata_seconds", "Perfdata time (UOM s, ms, us) of the last result of a check, in seconds.", prometheus.GaugeValue},
	famBytes:   {"carbonio_health_perfdata_bytes", "Perfdata size (UOM B, KB, MB, GB, TB; 1 KB = 1024 B as check_disk counts) of the last result of a check, in bytes.", prometheus.GaugeValue},
	famRatio:   {"carbonio_health_perfdata_ratio", "Perfdata percentage (UOM %) of the last result of a check, as a ratio (0–1).", prometheus.GaugeValue},
	famCounter: {"carbonio_health_perfdata_total", "Perfdata continuous counter (UOM c) of the last result of a check.", prometheus.CounterValue},
}

// units maps every UOM the plugin guidelines define; items with another
// unit are left out of the metrics.
var units = map[string]unit{
	"":   {famPlain, 1},
	"s":  {famSeconds, 1},
	"ms": {famSeconds, 1e-3},
	"us": {famSeconds, 1e-6},
	"B":  {famBytes, 1},
	"KB": {famBytes, 1 << 10},
	"MB": {famBytes, 1 << 20},
	"GB": {famBytes, 1 << 30},
	"TB": {famBytes, 1 << 40},
	"%":  {famRatio, 0.01},
	"c":  {famCounter, 1},
}
