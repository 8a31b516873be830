package checkscript

import (
	"fmt"
	"strconv"
	"strings"
)

// Perfdata is one performance-data item, printed as
// `'label'=value[UOM];warn;crit;min;max` per the plugin development guidelines.
type Perfdata struct {
	// Label names the metric; it is quoted when it holds spaces or quotes.
	Label string
	// Value is the measured value; ignored when NoValue is set.
	Value float64
	// NoValue prints the value as "U" (could not be measured).
	NoValue bool
	// UOM is the unit: "", "s", "ms", "us", "%", "B", "KB", "MB", "TB" or "c".
	UOM string
	// Warn and Crit are the thresholds in range syntax, empty when unset.
	Warn, Crit string
	// Min and Max bound the value, empty when unknown.
	Min, Max string
	// Format prints Value with fmt ("%.3f" as check_load, "%f" as the
	// plugins' fperfdata); empty prints the shortest exact form.
	Format string
	// Fields is how many ';' fields follow the value at least, empty ones
	// included ("load1=0.040;1.000;2.000;0;" has 4); 0 drops trailing
	// empty fields.
	Fields int
}

// String formats the item. Trailing empty fields are dropped as the
// guidelines allow.
func (p Perfdata) String() string {
	var b strings.Builder
	b.WriteString(quoteLabel(p.Label))
	b.WriteByte('=')
	if p.NoValue {
		b.WriteByte('U')
	} else if p.Format != "" {
		fmt.Fprintf(&b, p.Format, p.Value)
		b.WriteString(p.UOM)
	} else {
		b.WriteString(FormatFloat(p.Value))
		b.WriteString(p.UOM)
	}
	fields := []string{p.Warn, p.Crit, p.Min, p.Max}
	last := min(p.Fields, len(fields)) - 1
	for i, f := range fields {
		if f != "" {
			last = max(last, i)
		}
	}
	for i := 0; i <= last; i++ {
		b.WriteByte(';')
		b.WriteString(fields[i])
	}
	return b.String()
}

// FormatFloat prints v in the shortest form that round-trips, without an
// exponent (perfdata parsers do not all accept one).
func FormatFloat(v float64) string {
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// quoteLabel quotes a label containing spaces, '=' or quotes, doubling
// single quotes inside as the guidelines require.
func quoteLabel(l string) string {
	if !strings.ContainsAny(l, " '=\"") {
		return l
	}
	return "'" + strings.ReplaceAll(l, "'", "''") + "'"
}
