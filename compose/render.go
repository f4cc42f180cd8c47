package compose

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strconv"
	"strings"
	"time"
)

// Draft is a message to render: a reply, a forward or a new message.
type Draft struct {
	From                 mail.Address
	To, Cc, Bcc, ReplyTo []mail.Address
	Subject              string
	Text, HTML           string
	// Attachments need Data. Inline attachments with a ContentID go in a
	// multipart/related part with the HTML body; the others are attached.
	Attachments []Attachment
	// MessageID is without angle brackets; Render generates one if empty.
	MessageID string
	// InReplyTo is the parent's Message-ID, without angle brackets.
	InReplyTo string
	// References are message ids without angle brackets, oldest first.
	References []string
	// Date is the Date header; zero means RenderOptions.Now().
	Date time.Time
	// AutoSubmitted adds "Auto-Submitted: auto-replied" (RFC 3834).
	AutoSubmitted bool
	// Headers are extra header fields, e.g. X-Case-Id. Names must be valid
	// field names and may not replace the fields Render writes itself.
	Headers map[string]string
}

// RenderOptions configures Render. A nil *RenderOptions or a zero field means
// the default.
type RenderOptions struct {
	// Hostname is the right-hand side of generated Message-IDs; default
	// "localhost".
	Hostname string
	// Now gives the Date of drafts without one; default time.Now.
	Now func() time.Time
}

// reservedHeaders are written by Render and may not come from Draft.Headers.
var reservedHeaders = map[string]bool{
	"From": true, "To": true, "Cc": true, "Bcc": true, "Reply-To": true,
	"Subject": true, "Date": true, "Message-Id": true, "In-Reply-To": true,
	"References": true, "Mime-Version": true, "Content-Type": true,
	"Content-Transfer-Encoding": true, "Content-Disposition": true,
	"Content-Id": true, "Auto-Submitted": true, "Sender": true,
}

// Render writes d as an RFC 5322 message: text and HTML as
// multipart/alternative (an HTML-only draft gets a text alternative made
// from its HTML), inline images the HTML shows in multipart/related with
// it, attachments in multipart/mixed; bodies quoted-printable, non-ASCII
// header text as RFC 2047 encoded words, long or non-ASCII parameters in
// RFC 2231 continuations. Bcc is not written.
//
// The bytes are ready for SMTP as they are: CRLF line ends only, the last
// line included; no line over 998 octets, no header line over 78
// characters but for a single unbreakable token; 7-bit but for a
// forwarded message in 8bit. A forwarded message (message/rfc822) goes in
// 7bit or 8bit with CRLF line ends, or as an .eml file in base64 when
// its lines cannot travel so; never as a base64 message/rfc822 part.
//
// Render returns an error wrapping ErrInvalidInput when a header value
// contains CR or LF, an address, Message-ID or Content-ID is invalid or
// over 900 octets, From is empty, an extra header is malformed or
// reserved, or an attachment has no Data.
func Render(d *Draft, opts *RenderOptions) ([]byte, error) {
	if d == nil {
		return nil, fmt.Errorf("%w: nil draft", ErrInvalidInput)
	}
	hostname, now := "localhost", time.Now
	if opts != nil {
		if opts.Hostname != "" {
			hostname = opts.Hostname
		}
		if opts.Now != nil {
			now = opts.Now
		}
	}
	if err := validateDraft(d, hostname); err != nil {
		return nil, err
	}
	id := d.MessageID
	if id == "" {
		id = newMessageID(now(), hostname)
	}
	date := d.Date
	if date.IsZero() {
		date = now()
	}

	size := len(d.Text)*11/10 + len(d.HTML)*11/10 + 1024
	for _, a := range d.Attachments {
		size += len(a.Data)*4/3 + len(a.Data)/38 + 512
	}
	w := &writer{buf: bytes.NewBuffer(make([]byte, 0, size)), seed: id}

	w.addresses("From", []mail.Address{d.From})
	w.addresses("Reply-To", d.ReplyTo)
	w.addresses("To", d.To)
	w.addresses("Cc", d.Cc)
	w.text("Subject", d.Subject)
	w.field("Date", date.Format(time.RFC1123Z))
	w.field("Message-ID", "<"+id+">")
	if d.InReplyTo != "" {
		w.field("In-Reply-To", "<"+d.InReplyTo+">")
	}
	if len(d.References) > 0 {
		w.field("References", "<"+strings.Join(d.References, "> <")+">")
	}
	if d.AutoSubmitted {
		w.field("Auto-Submitted", "auto-replied")
	}
	if len(d.Headers) > 0 {
		keys := make([]string, 0, len(d.Headers))
		for k := range d.Headers {
			keys = append(keys, k)
		}
		sortStrings(keys)
		for _, k := range keys {
			w.text(k, d.Headers[k])
		}
	}
	w.field("MIME-Version", "1.0")
	w.body(d)
	if !bytes.HasSuffix(w.buf.Bytes(), []byte("\r\n")) {
		// The message ends with a line break, as SMTP sends it: after a
		// text body (quoted-printable, the only part that can end so) a
		// soft one, which adds nothing to the text.
		w.buf.WriteString("=\r\n")
	}
	return w.buf.Bytes(), nil
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// newMessageID returns "<time>.<random>@host" without brackets.
func newMessageID(t time.Time, host string) string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return strconv.FormatInt(t.UnixNano(), 36) + "." + strings.ToLower(base32NoPad(b[:])) + "@" + host
}

func base32NoPad(b []byte) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz234567"
	var sb strings.Builder
	var acc, bits uint
	for _, c := range b {
		acc = acc<<8 | uint(c)
		bits += 8
		for bits >= 5 {
			bits -= 5
			sb.WriteByte(alphabet[(acc>>bits)&31])
		}
	}
	if bits > 0 {
		sb.WriteByte(alphabet[(acc<<(5-bits))&31])
	}
	return sb.String()
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidInput}, args...)...)
}

func hasCRLF(s string) bool { return strings.ContainsAny(s, "\r\n") }

// validateDraft refuses header injection and invalid addresses.
func validateDraft(d *Draft, hostname string) error {
	if hasCRLF(hostname) || strings.ContainsAny(hostname, " \t<>@") {
		return invalid("hostname %q", hostname)
	}
	if d.From.Address == "" {
		return invalid("draft has no From address")
	}
	if err := checkAddrs("From", []mail.Address{d.From}); err != nil {
		return err
	}
	lists := []struct {
		name  string
		addrs []mail.Address
	}{{"To", d.To}, {"Cc", d.Cc}, {"Bcc", d.Bcc}, {"Reply-To", d.ReplyTo}}
	for _, l := range lists {
		if err := checkAddrs(l.name, l.addrs); err != nil {
			return err
		}
	}
	if hasCRLF(d.Subject) {
		return invalid("CR or LF in Subject")
	}
	// No mail may carry a NUL (RFC 5322), and a reader could take text
	// with NULs for UTF-16.
	for _, b := range []struct{ name, v string }{{"text", d.Text}, {"HTML", d.HTML}} {
		if strings.IndexByte(b.v, 0) >= 0 {
			return invalid("NUL in the %s body", b.name)
		}
	}
	if d.MessageID != "" && !validMsgID(d.MessageID) {
		return invalid("Message-ID %q", d.MessageID)
	}
	if d.InReplyTo != "" && !validMsgID(d.InReplyTo) {
		return invalid("In-Reply-To %q", d.InReplyTo)
	}
	for _, r := range d.References {
		if !validMsgID(r) {
			return invalid("References id %q", r)
		}
	}
	for k, v := range d.Headers {
		if !validFieldName(k) {
			return invalid("header name %q", k)
		}
		if reservedHeaders[textproto.CanonicalMIMEHeaderKey(k)] {
			return invalid("header %q is written by Render", k)
		}
		if hasCRLF(v) {
			return invalid("CR or LF in header %q", k)
		}
	}
	for i, a := range d.Attachments {
		if hasCRLF(a.Filename) || hasCRLF(a.ContentType) || hasCRLF(a.ContentID) {
			return invalid("CR or LF in attachment %d", i)
		}
		if strings.IndexFunc(a.Filename, isCtl) >= 0 {
			return invalid("control character in attachment file name %q", a.Filename)
		}
		if a.ContentID != "" && !validContentID(a.ContentID) {
			return invalid("attachment %q: Content-ID %q", a.Filename, a.ContentID)
		}
		if a.ContentType != "" {
			if t, _, err := mime.ParseMediaType(a.ContentType); err != nil || !strings.Contains(t, "/") {
				return invalid("attachment %q: content type %q", a.Filename, a.ContentType)
			}
		}
		if a.Data == nil && a.BlobKey != "" {
			return invalid("attachment %q is in the blob store: load its Data first", a.Filename)
		}
	}
	return nil
}

func checkAddrs(field string, l []mail.Address) error {
	for _, a := range l {
		if hasCRLF(a.Name) || hasCRLF(a.Address) {
			return invalid("CR or LF in %s", field)
		}
		if !validAddr(a.Address) {
			return invalid("%s address %q", field, a.Address)
		}
	}
	return nil
}

// validAddr checks an addr-spec with net/mail.
func validAddr(s string) bool {
	if s == "" || len(s) > maxToken || strings.ContainsAny(s, " \t<>,;\"") {
		return false
	}
	a, err := mail.ParseAddress("<" + s + ">")
	return err == nil && a.Address == s
}

// validMsgID accepts id-left "@" id-right without brackets, spaces or
// control characters.
func validMsgID(s string) bool {
	if len(s) > maxToken {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == '<' || c == '>' || c == '"' || c == '\\' || c == ',' {
			return false
		}
	}
	return true
}

// validContentID accepts what clients put in Content-ID (not always an
// addr-spec: "part1.abc", "image001.png@01D3"): visible ASCII without
// brackets, quotes or spaces.
func validContentID(s string) bool {
	if s == "" || len(s) > maxToken {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == '<' || c == '>' || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

func validFieldName(k string) bool {
	if k == "" || len(k) > softLine-2 {
		return false
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; c <= ' ' || c >= 0x7f || c == ':' {
			return false
		}
	}
	return true
}

// writer writes header fields and MIME parts into buf.
type writer struct {
	buf  *bytes.Buffer
	seed string
	nb   int
}

func (w *writer) addresses(name string, l []mail.Address) {
	if len(l) == 0 {
		return
	}
	parts := make([]string, len(l))
	room := softLine - len(name) - 2
	for i := range l {
		parts[i] = address(l[i], room)
		room = softLine - 1 // the next one may start a folded line
	}
	w.field(name, strings.Join(parts, ", "))
}

// boundary returns a boundary derived from the Message-ID, so that output is
// reproducible. "=_" never occurs in quoted-printable or base64 text.
func (w *writer) boundary() string {
	w.nb++
	sum := sha256.Sum256([]byte(w.seed + "/" + strconv.Itoa(w.nb)))
	return "=_ef" + hex.EncodeToString(sum[:12])
}

type part struct {
	header [][2]string
	write  func(w *writer)
	// verbatim are the bodies written as they are (message parts in 7bit
	// or 8bit): no boundary may occur in them.
	verbatim [][]byte
}

// body writes the MIME structure of d after the top-level header fields.
func (w *writer) body(d *Draft) {
	var inline, attached []Attachment
	for _, a := range d.Attachments {
		switch {
		case a.Inline && a.ContentID != "" && shows(d.HTML, a.ContentID):
			inline = append(inline, a)
		case a.Inline && a.ContentID != "":
			// An inline image that the HTML does not show (the HTML, or
			// the quote that showed it, was removed) is not sent: it
			// would only hand the customer's own images back.
		default:
			attached = append(attached, a)
		}
	}
	var htmlPart *part
	if d.HTML != "" {
		htmlPart = textPart("text/html", d.HTML)
		if len(inline) > 0 {
			kids := []*part{htmlPart}
			for _, a := range inline {
				kids = append(kids, attachmentPart(a, "inline"))
			}
			htmlPart = w.multipart("multipart/related; type=\"text/html\"", kids)
		}
	}
	text := d.Text
	if text == "" && d.HTML != "" {
		// An HTML-only message gets its plain-text alternative, for
		// readers (and filters) that want one.
		text = HTMLToText(d.HTML)
	}
	var main *part
	switch {
	case htmlPart != nil && text != "":
		main = w.multipart("multipart/alternative", []*part{textPart("text/plain", text), htmlPart})
	case htmlPart != nil:
		main = htmlPart
	default:
		main = textPart("text/plain", text)
	}
	if len(attached) > 0 {
		kids := []*part{main}
		for _, a := range attached {
			disp := "attachment"
			if a.Inline {
				disp = "inline"
			}
			kids = append(kids, attachmentPart(a, disp))
		}
		main = w.multipart("multipart/mixed", kids)
	}
	w.writePart(main)
}

// shows reports whether html refers to the Content-ID cid.
func shows(html, cid string) bool {
	return html != "" && strings.Contains(strings.ToLower(html), "cid:"+strings.ToLower(cid))
}

func (w *writer) writePart(p *part) {
	for _, kv := range p.header {
		w.field(kv[0], kv[1])
	}
	w.buf.WriteString("\r\n")
	p.write(w)
}

func (w *writer) multipart(ctype string, kids []*part) *part {
	var verbatim [][]byte
	for _, k := range kids {
		verbatim = append(verbatim, k.verbatim...)
	}
	b := w.boundary()
	for clash(verbatim, b) {
		b = w.boundary()
	}
	return &part{
		header:   [][2]string{{"Content-Type", ctype + "; boundary=\"" + b + "\""}},
		verbatim: verbatim,
		write: func(w *writer) {
			for _, k := range kids {
				w.buf.WriteString("--" + b + "\r\n")
				w.writePart(k)
				w.buf.WriteString("\r\n")
			}
			w.buf.WriteString("--" + b + "--\r\n")
		},
	}
}

// clash reports whether the boundary b occurs in one of the bodies.
func clash(bodies [][]byte, b string) bool {
	for _, body := range bodies {
		if bytes.Contains(body, []byte("--"+b)) {
			return true
		}
	}
	return false
}

func textPart(ctype, body string) *part {
	return &part{
		header: [][2]string{
			{"Content-Type", ctype + "; charset=utf-8"},
			{"Content-Transfer-Encoding", "quoted-printable"},
		},
		write: func(w *writer) {
			qp := quotedprintable.NewWriter(w.buf)
			_, _ = qp.Write([]byte(body))
			_ = qp.Close()
		},
	}
}

// attachmentPart writes a as a part. A message (message/rfc822 or
// message/global) goes as it is, its line ends made CRLF, in 7bit or 8bit:
// RFC 2046 section 5.2.1 allows no other encoding for it. One that cannot
// travel so (a line over 998 octets, a NUL) is attached as a file,
// application/octet-stream in base64, named ".eml": rewriting it would
// change what is forwarded. Anything else goes in base64.
func attachmentPart(a Attachment, disp string) *part {
	ctype := a.ContentType
	if ctype == "" {
		ctype = mime.TypeByExtension(extOf(a.Filename))
		if ctype == "" {
			ctype = "application/octet-stream"
		}
	}
	t, params, err := mime.ParseMediaType(ctype)
	if err != nil {
		t, params = "application/octet-stream", nil
	}
	filename := a.Filename
	var raw []byte
	if t == "message/rfc822" || t == "message/global" {
		raw = toCRLF(a.Data)
		if !lineSafe(raw) {
			t, params, raw = "application/octet-stream", nil, nil
			if filename == "" {
				filename = "message.eml"
			}
		}
	}
	p := &part{}
	var tparams, dparams [][2]string
	for _, k := range sortedKeys(params) {
		if k != "name" {
			tparams = append(tparams, [2]string{k, params[k]})
		}
	}
	if filename != "" {
		tparams = append(tparams, [2]string{"name", filename})
		dparams = append(dparams, [2]string{"filename", filename})
	}
	p.header = append(p.header,
		[2]string{"Content-Type", mediaValue(t, tparams)},
		[2]string{"Content-Disposition", mediaValue(disp, dparams)})
	if a.ContentID != "" {
		p.header = append(p.header, [2]string{"Content-ID", "<" + a.ContentID + ">"})
	}
	if raw != nil {
		cte := "7bit"
		if !isASCII(raw) {
			cte = "8bit"
		}
		p.header = append(p.header, [2]string{"Content-Transfer-Encoding", cte})
		p.verbatim = [][]byte{raw}
		p.write = func(w *writer) {
			w.buf.Write(raw)
			if !bytes.HasSuffix(raw, []byte("\r\n")) {
				w.buf.WriteString("\r\n")
			}
		}
		return p
	}
	p.header = append(p.header, [2]string{"Content-Transfer-Encoding", "base64"})
	p.write = func(w *writer) { writeBase64(w.buf, a.Data) }
	return p
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sortStrings(keys)
	return keys
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// toCRLF returns b with every line ending CRLF: a bare LF or a bare CR
// becomes CRLF, so that what is stored is what the SMTP client sends (it
// would change bare line ends on the wire). b itself is returned when it
// has none.
func toCRLF(b []byte) []byte {
	bare := false
	for i, c := range b {
		if c == '\n' && (i == 0 || b[i-1] != '\r') || c == '\r' && (i+1 == len(b) || b[i+1] != '\n') {
			bare = true
			break
		}
	}
	if !bare {
		return b
	}
	out := make([]byte, 0, len(b)+len(b)/32+2)
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case c == '\r' && i+1 < len(b) && b[i+1] == '\n':
			out = append(out, '\r', '\n')
			i++
		case c == '\r' || c == '\n':
			out = append(out, '\r', '\n')
		default:
			out = append(out, c)
		}
	}
	return out
}

// lineSafe reports whether raw (CRLF lines) can travel as 7bit or 8bit: no
// NUL, no line over 998 octets without its CRLF.
func lineSafe(b []byte) bool {
	if bytes.IndexByte(b, 0) >= 0 {
		return false
	}
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return len(b) <= hardLine
		}
		if i-1 > hardLine {
			return false
		}
		b = b[i+1:]
	}
	return true
}

func writeBase64(buf *bytes.Buffer, data []byte) {
	const line = 57 // 76 encoded bytes
	var tmp [76]byte
	for len(data) > 0 {
		n := min(line, len(data))
		base64.StdEncoding.Encode(tmp[:], data[:n])
		buf.Write(tmp[:base64.StdEncoding.EncodedLen(n)])
		buf.WriteString("\r\n")
		data = data[n:]
	}
}

func extOf(name string) string {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		return name[i:]
	}
	return ""
}
