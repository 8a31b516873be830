package main

import (
	"encoding/json"
	"fmt"
	"os"
)

func main() {
	out, err := render()
	if err != nil {
		fmt.Fprintf(os.Stderr, "grafana: %v\n", err)
		os.Exit(1)
	}
	os.Stdout.Write(out)
}

// render is the dashboard as the JSON Grafana imports, two-space indented,
// ending in a newline.
func render() ([]byte, error) {
	d, err := build()
	if err != nil {
		return nil, fmt.Errorf("build the dashboard: %w", err)
	}
	out, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode the dashboard: %w", err)
	}
	return append(out, '\n'), nil
}
