package main

import (
	"context"
	"log/slog"

	"github.com/hashicorp/go-hclog"
)

// hclogHandler is a slog.Handler writing to an hclog.Logger, for the
// libraries that log through log/slog (exporter-toolkit's web server): their
// lines come out like the daemon's own.
type hclogHandler struct {
	log   hclog.Logger
	attrs []any
}

// newSlog returns a slog.Logger that writes to log.
func newSlog(log hclog.Logger) *slog.Logger { return slog.New(hclogHandler{log: log}) }

// Enabled implements slog.Handler.
func (h hclogHandler) Enabled(_ context.Context, l slog.Level) bool {
	return h.log.GetLevel() <= hclogLevel(l)
}

// Handle implements slog.Handler.
func (h hclogHandler) Handle(_ context.Context, r slog.Record) error {
	args := append([]any(nil), h.attrs...)
	r.Attrs(func(a slog.Attr) bool {
		args = append(args, a.Key, a.Value.Resolve().Any())
		return true
	})
	h.log.Log(hclogLevel(r.Level), r.Message, args...)
	return nil
}

// WithAttrs implements slog.Handler.
func (h hclogHandler) WithAttrs(as []slog.Attr) slog.Handler {
	attrs := append([]any(nil), h.attrs...)
	for _, a := range as {
		attrs = append(attrs, a.Key, a.Value.Resolve().Any())
	}
	return hclogHandler{log: h.log, attrs: attrs}
}

// WithGroup implements slog.Handler: a group names a sub-logger.
func (h hclogHandler) WithGroup(name string) slog.Handler {
	return hclogHandler{log: h.log.Named(name), attrs: h.attrs}
}

func hclogLevel(l slog.Level) hclog.Level {
	switch {
	case l >= slog.LevelError:
		return hclog.Error
	case l >= slog.LevelWarn:
		return hclog.Warn
	case l >= slog.LevelInfo:
		return hclog.Info
	default:
		return hclog.Debug
	}
}
