package compose

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"sync"
)

// traceFields are the fields relays and mailbox servers write at the top
// of a header as a message passes them (lower case). A message relayed
// twice differs only in these.
var traceFields = map[string]bool{
	"received": true, "return-path": true, "delivered-to": true, "x-original-to": true,
	"x-received": true, "received-spf": true, "authentication-results": true,
	"arc-seal": true, "arc-message-signature": true, "arc-authentication-results": true,
	"dkim-signature": true, "x-google-smtp-source": true,
}

// ContentHash returns the hex SHA-256 of a raw message as its author's
// software wrote it: without an mbox "From " line and the trace fields
// that lead its header (Received, Return-Path, Delivered-To,
// X-Original-To, DKIM and ARC signatures, authentication results, spam
// verdicts), with CRLF (and any run of CR before LF) read as LF and trailing line breaks ignored. The
// same message relayed twice, or taken in once over SMTP and once over
// IMAP, has one hash; a change anywhere else in its header or body gives
// another.
func ContentHash(raw []byte) string {
	rest := skipTrace(raw)
	rest = bytes.TrimRight(rest, "\r\n")
	if bytes.IndexByte(rest, '\r') < 0 {
		sum := sha256.Sum256(rest)
		return hex.EncodeToString(sum[:])
	}
	// Normalized through a pooled buffer of fixed size, hashed each time
	// it fills: much cheaper than writing the hash line by line, and the
	// memory does not grow with the message (a copy of a 40 MB message
	// would be a transient 40 MB or more).
	bp := hashBuffers.Get().(*[]byte)
	b := (*bp)[:0]
	h := sha256.New()
	for len(rest) > 0 {
		i := bytes.IndexByte(rest, '\n')
		line, nl := rest, false
		if i >= 0 {
			line, nl, rest = bytes.TrimRight(rest[:i], "\r"), true, rest[i+1:]
		} else {
			rest = nil
		}
		for len(line) > 0 {
			if len(b) == cap(b) {
				h.Write(b)
				b = b[:0]
			}
			n := copy(b[len(b):cap(b)], line)
			b, line = b[:len(b)+n], line[n:]
		}
		if nl {
			if len(b) == cap(b) {
				h.Write(b)
				b = b[:0]
			}
			b = append(b, '\n')
		}
	}
	h.Write(b)
	*bp = b[:0]
	hashBuffers.Put(bp)
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0]))
}

// hashBuffers recycles ContentHash's buffers, of hashChunk bytes.
var hashBuffers = sync.Pool{New: func() any { b := make([]byte, 0, hashChunk); return &b }}

// hashChunk is the size of ContentHash's buffer.
const hashChunk = 32 << 10

// skipTrace returns raw after its mbox "From " line and its leading trace
// fields (each with its continuation lines).
func skipTrace(raw []byte) []byte {
	if bytes.HasPrefix(raw, []byte("From ")) {
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			raw = raw[i+1:]
		} else {
			return nil
		}
	}
	for {
		colon := bytes.IndexByte(raw, ':')
		nl := bytes.IndexByte(raw, '\n')
		if colon <= 0 || (nl >= 0 && nl < colon) {
			return raw
		}
		name := strings.ToLower(string(bytes.TrimRight(raw[:colon], " \t")))
		if !traceFields[name] && !strings.HasPrefix(name, "x-spam-") {
			return raw
		}
		// The field ends at the first line break not followed by
		// whitespace.
		end := len(raw)
		for i := nl; i >= 0; {
			if i+1 < len(raw) && (raw[i+1] == ' ' || raw[i+1] == '\t') {
				j := bytes.IndexByte(raw[i+1:], '\n')
				if j < 0 {
					break
				}
				i += 1 + j
				continue
			}
			end = i + 1
			break
		}
		raw = raw[end:]
	}
}
