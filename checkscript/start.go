package checkscript

import "context"

// Starter is implemented by checks that keep state between runs (dirsize's
// index): a long-lived runner calls Start once, before the first Run, with
// a context that lives as long as the check; the check's goroutines and
// kernel resources end with it. A one-shot command never calls Start, and
// such a check then measures from scratch at each Run.
type Starter interface {
	Start(ctx context.Context)
}

// Start forwards to the probe when it keeps state.
func (t *timed) Start(ctx context.Context) {
	if s, ok := t.check.(Starter); ok {
		s.Start(ctx)
	}
}
