package metrics

import (
	"math"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/zextras/carbonio-health/checkscript"
)

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
// role, service and label (the perfdata item's label). Those with a
// limitName also export the item's limits (perfLimits) in the same unit,
// with one more label, limit.
var perfFamilies = []struct {
	name, help           string
	kind                 prometheus.ValueType
	limitName, limitHelp string
}{
	famPlain: {"carbonio_health_perfdata", "Perfdata value without a unit (e.g. load1, users) of the last result of a check.", prometheus.GaugeValue,
		"carbonio_health_perfdata_limit", "Limit of a perfdata value without a unit: the upper bound of its warning or critical threshold, or its maximum (label limit)."},
	famSeconds: {"carbonio_health_perfdata_seconds", "Perfdata time (UOM s, ms, us) of the last result of a check, in seconds.", prometheus.GaugeValue,
		"carbonio_health_perfdata_limit_seconds", "Limit of a perfdata time, in seconds: the upper bound of its warning or critical threshold, or its maximum (label limit)."},
	famBytes: {"carbonio_health_perfdata_bytes", "Perfdata size (UOM B, KB, MB, GB, TB; 1 KB = 1024 B as check_disk counts) of the last result of a check, in bytes.", prometheus.GaugeValue,
		"carbonio_health_perfdata_limit_bytes", "Limit of a perfdata size, in bytes: the upper bound of its warning or critical threshold, or its maximum, e.g. a file system's size (label limit)."},
	famRatio: {"carbonio_health_perfdata_ratio", "Perfdata percentage (UOM %) of the last result of a check, as a ratio (0–1).", prometheus.GaugeValue,
		"carbonio_health_perfdata_limit_ratio", "Limit of a perfdata percentage, as a ratio (0–1): the upper bound of its warning or critical threshold, or its maximum (label limit)."},
	famCounter: {"carbonio_health_perfdata_total", "Perfdata continuous counter (UOM c) of the last result of a check.", prometheus.CounterValue, "", ""},
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

// The limits of a perfdata item, by index into limitNames (the values of
// the label limit).
const (
	limWarning = iota
	limCritical
	limMax
	numLimits
)

var limitNames = [numLimits]string{limWarning: "warning", limCritical: "critical", limMax: "max"}

// limit is one limit of a perfdata item; set is false when the item has
// none of that kind.
type limit struct {
	value float64
	set   bool
}

// perfLimits reads the limits of p, scaled by factor: the warning and
// critical thresholds when they alert above a value (N, 0:N, ~:N: the
// usual "used space over N", "folder over N bytes"), and the maximum.
// Thresholds that alert below a value (N:) or inside a range (@…) have
// no single upper bound and are left out, as are unparsable fields.
func perfLimits(p checkscript.Perfdata, factor float64) [numLimits]limit {
	var out [numLimits]limit
	for i, th := range [2]string{limWarning: p.Warn, limCritical: p.Crit} {
		if th == "" {
			continue
		}
		r, err := checkscript.ParseRange(th)
		if err != nil || r.Inside || r.Start > 0 || math.IsInf(r.End, 1) {
			continue
		}
		out[i] = limit{r.End * factor, true}
	}
	if v, err := strconv.ParseFloat(p.Max, 64); err == nil && !math.IsInf(v, 0) && !math.IsNaN(v) {
		out[limMax] = limit{v * factor, true}
	}
	return out
}
