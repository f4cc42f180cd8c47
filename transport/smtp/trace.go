package smtp

import (
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"net"
	"strings"
	"time"

	"github.com/emailflow/emailflow"
)

// trace returns the trace fields the server prepends to a message it
// takes in (RFC 5321 section 4.4): Return-Path with the envelope's
// sender, and Received saying who handed the message over (the EHLO name
// and address), to whom, how (ESMTP, with TLS: ESMTPS; UTF8SMTP for
// SMTPUTF8, RFC 6531), when, and the TLS version and cipher.
func (ss *session) trace(id string, env emailflow.Envelope, now time.Time) []byte {
	var b strings.Builder
	b.WriteString("Return-Path: <" + env.From + ">\r\n")
	b.WriteString("Received: from " + cleanName(ss.c.Hostname()))
	if ip := remoteIP(ss.c.Conn().RemoteAddr()); ip != "" {
		b.WriteString(" (" + ip + ")")
	}
	b.WriteString("\r\n\tby " + ss.s.opts.Domain + " (emailflow)")
	var st *tls.ConnectionState
	ehlo := true
	if ss.w != nil {
		st = ss.w.tlsState()
		ehlo = ss.w.greeting != "HELO"
	}
	proto := "SMTP"
	switch {
	case ss.utf8:
		proto = "UTF8SMTP"
	case ehlo:
		proto = "ESMTP"
	}
	if st != nil {
		proto += "S"
	}
	b.WriteString(" with " + proto + " id " + id)
	if st != nil {
		b.WriteString("\r\n\t(using " + tls.VersionName(st.Version) + " with cipher " + tls.CipherSuiteName(st.CipherSuite) + ")")
	}
	b.WriteString("\r\n\t")
	if len(env.To) > 0 {
		b.WriteString("for <" + env.To[0] + ">")
	}
	b.WriteString("; " + now.Format(time.RFC1123Z) + "\r\n")
	return []byte(b.String())
}

// traceID returns a new id for the Received field.
func traceID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return strings.ToUpper(hex.EncodeToString(b[:]))
}

// cleanName returns the client's EHLO name as it may stand in a header:
// bounded, with nothing but the characters of names and address literals.
func cleanName(s string) string {
	if len(s) > 255 {
		s = s[:255]
	}
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(".-_:[]", r) {
			return r
		}
		return '?'
	}, s)
}

// remoteIP returns the address literal of a TCP peer ("[192.0.2.1]",
// "[IPv6:2001:db8::1]").
func remoteIP(a net.Addr) string {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return ""
	}
	if ip4 := ta.IP.To4(); ip4 != nil {
		return "[" + ip4.String() + "]"
	}
	return "[IPv6:" + ta.IP.String() + "]"
}
