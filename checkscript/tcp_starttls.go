package checkscript

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

// STARTTLS for the tcp probe (--starttls smtp), as check_smtp -S does it:
// the server's 220 greeting, EHLO, STARTTLS advertised in its answer,
// STARTTLS answered 220; then the TLS handshake (and -D) on the same
// connection, and -s/-e/-q inside TLS. send/expect alone cannot check this:
// the handshake has to follow the plain exchange on the same connection.
// The answers follow check_smtp: no 220 greeting is the -M state; STARTTLS
// not advertised is a WARNING ("TLS not supported by server"); STARTTLS
// refused is UNKNOWN; a failed handshake is CRITICAL.

// ehloName is what the probe says in EHLO.
const ehloName = "carbonio-health"

// upgrade runs the protocol's plain exchange up to the TLS handshake. ok is
// false when res is the final answer.
func (c *tcpCheck) upgrade(ctx context.Context, raw net.Conn, timeout time.Duration) (Result, bool) {
	// One byte at a time: nothing the server sends after its STARTTLS
	// answer (the handshake) may be read into a buffer here.
	r := bufio.NewReaderSize(oneByteReader{raw}, 16)
	code, lines, err := smtpReply(r)
	switch {
	case err != nil:
		return c.ioFailure(ctx, "receiving from", err, timeout), false
	case code != "220":
		return c.result(c.mismatchState, "Invalid SMTP response received from host: "+firstOf(lines), nil), false
	}
	if _, err := io.WriteString(raw, "EHLO "+ehloName+"\r\n"); err != nil {
		return c.ioFailure(ctx, "sending to", err, timeout), false
	}
	code, lines, err = smtpReply(r)
	switch {
	case err != nil:
		return c.ioFailure(ctx, "receiving from", err, timeout), false
	case code != "250":
		return c.result(Critical, "EHLO refused: "+firstOf(lines), nil), false
	case !advertises(lines, "STARTTLS"):
		_, _ = io.WriteString(raw, "QUIT\r\n")
		return c.result(Warning, "TLS not supported by server", nil), false
	}
	if _, err := io.WriteString(raw, "STARTTLS\r\n"); err != nil {
		return c.ioFailure(ctx, "sending to", err, timeout), false
	}
	code, lines, err = smtpReply(r)
	switch {
	case err != nil:
		return c.ioFailure(ctx, "receiving from", err, timeout), false
	case code != "220":
		return c.result(Unknown, "Server does not support STARTTLS: "+firstOf(lines), nil), false
	}
	return Result{}, true
}

// smtpReply reads one SMTP reply: lines "ddd-text" up to the last,
// "ddd text"; it returns the code and the lines' texts.
func smtpReply(r *bufio.Reader) (string, []string, error) {
	var lines []string
	for len(lines) < 100 {
		line, err := r.ReadString('\n')
		line = strings.TrimRight(line, "\r\n")
		if err != nil {
			if line != "" {
				return "", append(lines, line), fmt.Errorf("reply cut short: %w", err)
			}
			return "", lines, err
		}
		lines = append(lines, line)
		if len(line) < 4 || line[3] != '-' {
			code := line
			if len(code) > 3 {
				code = code[:3]
			}
			return code, lines, nil
		}
	}
	return "", lines, fmt.Errorf("reply of more than 100 lines")
}

// advertises reports whether an EHLO answer lists the extension.
func advertises(lines []string, ext string) bool {
	for _, l := range lines[1:] {
		if len(l) < 5 {
			continue
		}
		if f := strings.Fields(l[4:]); len(f) > 0 && strings.EqualFold(f[0], ext) {
			return true
		}
	}
	return false
}

func firstOf(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	return lines[0]
}

// oneByteReader reads at most one byte per call.
type oneByteReader struct{ r io.Reader }

func (o oneByteReader) Read(p []byte) (int, error) {
	if len(p) > 1 {
		p = p[:1]
	}
	return o.r.Read(p)
}
