package compose

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"net/textproto"
	"strings"
	"sync"

	"github.com/emersion/go-message/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/ianaindex"
)

// This file parses a message held in memory: headers are read and multiparts
// split in place, and only decoded bodies are allocated.

// parseBytes reads r to its end (at most o.MaxSize bytes) and parses it.
func parseBytes(r io.Reader, o *ParseOptions) (*Message, error) {
	data, err := readAllLimited(r, o.MaxSize)
	if err != nil {
		return nil, err
	}
	p := &parser{opts: o}
	m, err := p.parseMessageBytes(data, 0, true)
	if err != nil {
		return nil, err
	}
	m.Size = int64(len(data))
	return m, nil
}

// readAllLimited reads r to its end, failing with ErrTooLarge beyond max.
func readAllLimited(r io.Reader, max int64) ([]byte, error) {
	size := 16 << 10
	if l, ok := r.(interface{ Len() int }); ok {
		if int64(l.Len()) > max {
			return nil, fmt.Errorf("%w: message exceeds %d bytes", ErrTooLarge, max)
		}
		size = l.Len() + 1
	}
	buf := make([]byte, 0, size)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > max {
			return nil, fmt.Errorf("%w: message exceeds %d bytes", ErrTooLarge, max)
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, fmt.Errorf("compose: reading message: %w", err)
		}
	}
}

// parseMessageBytes parses a header and a body held in data.
func (p *parser) parseMessageBytes(data []byte, depth int, top bool) (*Message, error) {
	st := &msgState{m: &Message{}}
	if bytes.HasPrefix(data, []byte("From ")) {
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			data = data[i+1:]
		} else {
			data = nil
		}
	}
	h, body, n := readHeaderBytes(st, data)
	if top && n > p.opts.MaxHeaderBytes {
		return nil, fmt.Errorf("%w: header exceeds %d bytes", ErrTooLarge, p.opts.MaxHeaderBytes)
	}
	if err := p.fillHeader(st, h); err != nil {
		return nil, err
	}
	if err := p.walkBytes(st, h, body, data, depth); err != nil {
		return nil, err
	}
	if p.fatal != nil {
		return nil, p.fatal
	}
	return p.finish(st, h, top), nil
}

// nextLine returns the line at data[i:] without its line break, and the
// index after the break.
func nextLine(data []byte, i int) ([]byte, int) {
	j := bytes.IndexByte(data[i:], '\n')
	if j < 0 {
		return data[i:], len(data)
	}
	line := data[i : i+j]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	return line, i + j + 1
}

func isWSP(c byte) bool { return c == ' ' || c == '\t' }

// headerEnd returns the index of the blank line that ends the header at the
// start of data, or len(data).
func headerEnd(data []byte) int {
	for i := 0; i < len(data); {
		line, next := nextLine(data, i)
		if len(line) == 0 {
			return i
		}
		i = next
	}
	return len(data)
}

// nextLineS is nextLine for a string.
func nextLineS(s string, i int) (string, int) {
	j := strings.IndexByte(s[i:], '\n')
	if j < 0 {
		line := s[i:]
		return strings.TrimSuffix(line, "\r"), len(s)
	}
	return strings.TrimSuffix(s[i:i+j], "\r"), i + j + 1
}

func trimWSPs(s string) string {
	return strings.Trim(s, " \t\r")
}

// readHeaderBytes reads the header at the start of data leniently. It returns
// the fields, the body (nil for a message without one) and the header length.
// A first line indented by mistake is read as a field; a malformed line is
// skipped when the next line looks like a field, else the body starts there.
// Field values share one copy of the header block.
func readHeaderBytes(st *msgState, data []byte) (header, []byte, int) {
	end := headerEnd(data)
	hs := string(data[:end])
	h := make(header, 0, strings.Count(hs, "\n")+1)
	i := 0
	if len(hs) > 0 && isWSP(hs[0]) {
		st.warn("header: first line starts with whitespace")
		for i < len(hs) && isWSP(hs[i]) {
			i++
		}
	}
	for i < end {
		start := i
		line, next := nextLineS(hs, i)
		colon := strings.IndexByte(line, ':')
		key := ""
		if colon > 0 {
			key = trimWSPs(line[:colon])
		}
		if !validKey(key) {
			st.warn("header: malformed line %q", trimForWarning(line))
			if lineIsField(data[next:min(len(data), next+80)]) {
				i = next
				continue
			}
			return h, data[start:], start
		}
		value := trimWSPs(line[colon+1:])
		i = next
		// Continuation lines.
		if i < end && isWSP(hs[i]) {
			var b strings.Builder
			b.WriteString(value)
			for i < end && isWSP(hs[i]) {
				cont, n := nextLineS(hs, i)
				if c := trimWSPs(cont); c != "" {
					if b.Len() > 0 {
						b.WriteByte(' ')
					}
					b.WriteString(c)
				}
				i = n
			}
			value = b.String()
		}
		h = append(h, field{canonicalKey(key), value})
	}
	if end == len(data) {
		return h, nil, end
	}
	_, next := nextLine(data, end)
	return h, data[next:], next
}

func validKey(k string) bool {
	if len(k) == 0 {
		return false
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; c <= ' ' || c >= 127 || c == ':' {
			return false
		}
	}
	return true
}

// commonKeys avoids allocating the usual field names.
var commonKeys = func() map[string]string {
	m := map[string]string{}
	for _, k := range []string{"From", "To", "Cc", "Bcc", "Subject", "Date",
		"Message-Id", "In-Reply-To", "References", "Reply-To", "Sender",
		"Content-Type", "Content-Transfer-Encoding", "Content-Disposition",
		"Content-Id", "Mime-Version", "Received", "Return-Path", "User-Agent",
		"X-Mailer", "Delivered-To", "Dkim-Signature", "Thread-Topic",
		"Thread-Index", "Content-Language", "Accept-Language", "List-Id",
		"Auto-Submitted", "Precedence", "X-Originating-Ip", "Importance",
		"Content-Description", "Authentication-Results", "Arc-Seal",
		"Arc-Message-Signature", "Arc-Authentication-Results", "X-Received",
		"X-Google-Smtp-Source", "Received-Spf", "X-Ms-Has-Attach",
		"X-Ms-Tnef-Correlator", "List-Unsubscribe", "X-Priority"} {
		m[k] = k
	}
	return m
}()

func canonicalKey(k string) string {
	if s, ok := commonKeys[k]; ok {
		return s
	}
	return textproto.CanonicalMIMEHeaderKey(k)
}

// walkBytes reads the body of an entity whose header is h; raw is the
// whole entity, header included.
func (p *parser) walkBytes(st *msgState, h header, body, raw []byte, depth int) error {
	mt, params, _ := contentType(st, h)
	if !strings.HasPrefix(mt, "multipart/") {
		return p.leafBytes(st, h, body, mt, params, depth)
	}
	boundary := params["boundary"]
	if boundary == "" {
		st.warn("%s without boundary, read as text/plain", mt)
		return p.leafBytes(st, h, body, "text/plain", params, depth)
	}
	if depth >= maxDepth {
		return p.keepUnread(st, mt, bytes.NewReader(raw))
	}
	if depth == 0 && mt == "multipart/report" {
		st.reportType = params["report-type"]
	}
	parts, closed := splitMultipart(body, boundary)
	if parts == nil {
		st.warn("%s: no part could be read", mt)
		return nil
	}
	for _, part := range parts {
		ph, pbody, _ := readHeaderBytes(st, part)
		if err := p.walkBytes(st, ph, pbody, part, depth+1); err != nil {
			return err
		}
	}
	if !closed {
		st.warn("%s: missing final boundary", mt)
	}
	return nil
}

// splitMultipart returns the parts of a multipart body (nil when no
// delimiter line is found) and whether the close delimiter was seen.
func splitMultipart(body []byte, boundary string) ([][]byte, bool) {
	dash := make([]byte, 0, len(boundary)+2)
	dash = append(append(dash, "--"...), boundary...)
	var parts [][]byte
	start := -1
	pos := 0
	for pos < len(body) {
		k := bytes.Index(body[pos:], dash)
		if k < 0 {
			break
		}
		k += pos
		pos = k + len(dash)
		if k > 0 && body[k-1] != '\n' {
			continue
		}
		rest := body[pos:]
		closing := bytes.HasPrefix(rest, []byte("--"))
		if !closing {
			j := 0
			for j < len(rest) && isWSP(rest[j]) {
				j++
			}
			if j < len(rest) && rest[j] != '\n' && !(rest[j] == '\r' && (j+1 == len(rest) || rest[j+1] == '\n')) {
				continue // "--boundaryX": another boundary
			}
		}
		if start >= 0 {
			end := k
			if end > start && body[end-1] == '\n' {
				end--
				if end > start && body[end-1] == '\r' {
					end--
				}
			}
			parts = append(parts, body[start:end])
		}
		if closing {
			if parts == nil {
				parts = [][]byte{}
			}
			return parts, true
		}
		_, start = nextLine(body, k)
		pos = start
	}
	if start >= 0 {
		parts = append(parts, body[start:])
	}
	return parts, false
}

// leafBytes reads a non-multipart part: a body or an attachment.
func (p *parser) leafBytes(st *msgState, h header, body []byte, mt string, params map[string]string, depth int) error {
	data := decodeTransfer(st, h.Get("Content-Transfer-Encoding"), body, mt)
	if strings.HasPrefix(mt, "text/") {
		data = decodeCharset(st, mt, params["charset"], data)
	}
	info := leafInfo(st, h, mt, params)
	if info.body {
		addText(st, &info, data)
		return nil
	}
	a, err := p.newAttachment(&info)
	if err != nil {
		return err
	}
	if isReportPart(mt) {
		st.keepReportPart(mt, data)
	}
	if mt == "message/rfc822" || mt == "message/global" {
		if err := p.nested(st, a, data, depth); err != nil {
			return err
		}
	}
	if p.opts.Blobs != nil {
		if a.Message != nil {
			dropData(a.Message)
		}
		return p.store(st, a, bytes.NewReader(data))
	}
	a.Data, a.Size = data, int64(len(data))
	st.m.Attachments = append(st.m.Attachments, *a)
	return nil
}

// dropData removes attachment bodies from a nested message whose raw form
// went to the BlobStore.
func dropData(m *Message) {
	for i := range m.Attachments {
		m.Attachments[i].Data = nil
		if m.Attachments[i].Message != nil {
			dropData(m.Attachments[i].Message)
		}
	}
}

// decodeTransfer undoes a Content-Transfer-Encoding; unknown encodings keep
// the bytes as received.
func decodeTransfer(st *msgState, cte string, b []byte, mt string) []byte {
	switch cte {
	case "", "7bit", "8bit", "binary":
		return b
	}
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "", "7bit", "8bit", "binary":
		return b
	case "base64":
		out, ok := decodeBase64(b)
		if !ok && spacedWords(b) {
			st.warn("%s: declared base64 but holds plain text, kept as received", mt)
			return b
		}
		if !ok {
			st.warn("%s: malformed base64, kept what could be decoded", mt)
		}
		return out
	case "quoted-printable":
		return decodeQP(b)
	}
	st.warn("%s: unknown transfer encoding %q, kept as received", mt, trimForWarning(cte))
	return b
}

// decodeBase64 decodes b, skipping characters outside the alphabet; ok is
// false when some had to be skipped or the end was cut short.
func decodeBase64(b []byte) ([]byte, bool) {
	dst := make([]byte, base64.StdEncoding.DecodedLen(len(b)))
	n, err := base64.StdEncoding.Decode(dst, b)
	if err == nil {
		return dst[:n], true
	}
	ok := true
	clean := make([]byte, 0, len(b))
	for _, c := range b {
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '+', c == '/':
			clean = append(clean, c)
		case c == '=' || c == ' ' || c == '\t' || c == '\r' || c == '\n':
		default:
			ok = false
		}
	}
	if len(clean)%4 == 1 {
		clean = clean[:len(clean)-1]
		ok = false
	}
	if need := base64.RawStdEncoding.DecodedLen(len(clean)); need > len(dst) {
		dst = make([]byte, need)
	}
	n, err = base64.RawStdEncoding.Decode(dst, clean)
	if err != nil {
		ok = false
	}
	return dst[:n], ok
}

// spacedWords reports whether b has a space between two letters, which
// base64 never has.
func spacedWords(b []byte) bool {
	for i := 1; i+1 < len(b); i++ {
		if b[i] == ' ' && b[i-1] > ' ' && b[i+1] > ' ' {
			return true
		}
	}
	return false
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// decodeQP decodes quoted-printable leniently: invalid escapes are kept as
// they are, soft line breaks and trailing whitespace are removed.
func decodeQP(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); {
		// Copy the run of ordinary bytes at once.
		j := i
		for j < len(b) && b[j] != '=' && b[j] != ' ' && b[j] != '\t' {
			j++
		}
		out = append(out, b[i:j]...)
		i = j
		if i >= len(b) {
			break
		}
		if b[i] == '=' {
			k := i + 1
			for k < len(b) && isWSP(b[k]) {
				k++
			}
			switch {
			case k == len(b):
				i = k
				continue
			case b[k] == '\n':
				i = k + 1
				continue
			case b[k] == '\r' && k+1 < len(b) && b[k+1] == '\n':
				i = k + 2
				continue
			}
			if i+2 < len(b) {
				hi, ok1 := unhex(b[i+1])
				lo, ok2 := unhex(b[i+2])
				if ok1 && ok2 {
					out = append(out, hi<<4|lo)
					i += 3
					continue
				}
			}
			out = append(out, '=')
			i++
			continue
		}
		// Whitespace: dropped before a line break.
		k := i
		for k < len(b) && isWSP(b[k]) {
			k++
		}
		if k == len(b) || b[k] == '\n' || (b[k] == '\r' && k+1 < len(b) && b[k+1] == '\n') {
			i = k
			continue
		}
		out = append(out, b[i:k]...)
		i = k
	}
	return out
}

// encodings caches charset lookups (name → encoding.Encoding, nil if unknown).
var encodings sync.Map

func lookupEncoding(name string) encoding.Encoding {
	if e, ok := encodings.Load(name); ok {
		enc, _ := e.(encoding.Encoding)
		return enc
	}
	enc, _ := ianaindex.MIME.Encoding(name)
	if enc == nil {
		enc, _ = ianaindex.MIME.Encoding("cs" + name)
	}
	if enc == nil {
		enc, _ = htmlindex.Get(name)
	}
	var v any
	if enc != nil {
		v = enc
	}
	encodings.Store(name, v)
	return enc
}

// decodeCharset converts a text body to UTF-8; unknown charsets keep the
// bytes as received.
func decodeCharset(st *msgState, mt, cs string, b []byte) []byte {
	switch cs {
	case "", "utf-8", "us-ascii", "UTF-8", "US-ASCII":
		return b
	}
	name := strings.ToLower(strings.TrimSpace(cs))
	switch name {
	case "", "utf-8", "us-ascii", "utf8", "ascii":
		return b
	}
	if enc := lookupEncoding(name); enc != nil {
		out, err := enc.NewDecoder().Bytes(b)
		if err == nil {
			return out
		}
	}
	// go-message/charset knows a few more names.
	if r, err := charset.Reader(name, bytes.NewReader(b)); err == nil {
		if out, err := io.ReadAll(r); err == nil {
			return out
		}
	}
	st.warn("%s: unknown charset %q, kept as received", mt, trimForWarning(cs))
	return b
}

// ParseBytes is Parse of a message already in memory: without a BlobStore
// it parses b in place, without copying it (attachment Data and the
// message's strings may share b, so b must not change afterwards).
func ParseBytes(b []byte, opts *ParseOptions) (*Message, error) {
	o := opts.withDefaults()
	if o.Blobs != nil {
		return Parse(bytes.NewReader(b), opts)
	}
	if int64(len(b)) > o.MaxSize {
		return nil, fmt.Errorf("%w: message exceeds %d bytes", ErrTooLarge, o.MaxSize)
	}
	p := &parser{opts: &o}
	m, err := p.parseMessageBytes(b, 0, true)
	if err != nil {
		return nil, err
	}
	m.Size = int64(len(b))
	return m, nil
}
