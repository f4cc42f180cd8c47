package compose

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/mail"
	"net/textproto"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/charset"
	gmtextproto "github.com/emersion/go-message/textproto"
	"golang.org/x/text/encoding/charmap"
)

// BlobStore receives attachment bodies so that large files stream instead of
// sitting in memory. Put reads r to its end and returns the key under which
// the body is stored and its size.
type BlobStore interface {
	Put(ctx context.Context, filename, contentType string, r io.Reader) (key string, size int64, err error)
}

// Default limits of ParseOptions, after Genesys Cloud's email limits.
const (
	// DefaultMaxSize is the default largest message: 40 MB.
	DefaultMaxSize = 40 << 20
	// DefaultMaxAttachments is the default largest number of attachments.
	DefaultMaxAttachments = 50
	// DefaultMaxRecipients is the default largest number of To and Cc
	// addresses.
	DefaultMaxRecipients = 50
	// DefaultMaxHeaderBytes is the default largest top-level header: 1 MB.
	DefaultMaxHeaderBytes = 1 << 20
)

// maxDepth bounds the nesting of multiparts and message/rfc822 attachments.
const maxDepth = 32

// ParseOptions configures Parse. A nil *ParseOptions or a zero field means
// the default.
type ParseOptions struct {
	// MaxSize is the largest message in bytes (default 40 MB).
	MaxSize int64
	// MaxAttachments is the most attachments, nested ones included
	// (default 50).
	MaxAttachments int
	// MaxRecipients is the most To and Cc addresses (default 50).
	MaxRecipients int
	// MaxHeaderBytes is the largest top-level header (default 1 MB).
	MaxHeaderBytes int
	// Blobs, when set, receives attachment bodies: Attachment.BlobKey is set
	// and Attachment.Data stays nil.
	Blobs BlobStore
	// Context is passed to Blobs.Put; nil means context.Background().
	Context context.Context
	// NullSender says the message came with a null reverse path (SMTP
	// MAIL FROM:<>), as bounces and most automatic answers do, when the
	// header has no Return-Path saying so: it is then automated mail, and
	// a bounce when it returns another message.
	NullSender bool
}

func (o *ParseOptions) withDefaults() ParseOptions {
	var out ParseOptions
	if o != nil {
		out = *o
	}
	if out.MaxSize <= 0 {
		out.MaxSize = DefaultMaxSize
	}
	if out.MaxAttachments <= 0 {
		out.MaxAttachments = DefaultMaxAttachments
	}
	if out.MaxRecipients <= 0 {
		out.MaxRecipients = DefaultMaxRecipients
	}
	if out.MaxHeaderBytes <= 0 {
		out.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if out.Context == nil {
		out.Context = context.Background()
	}
	return out
}

// Parse reads one RFC 5322 message from r. A nil opts means the defaults.
//
// Malformed mail is not an error: Parse returns what it could read and says
// what it could not in Message.Warnings (unknown charsets or transfer
// encodings, a missing final boundary, malformed header lines, broken
// base64). An mbox "From " line before the header is skipped.
//
// Without a BlobStore, Parse reads the message into memory (at most MaxSize
// bytes) and splits it in place, which is several times faster than
// streaming; attachment Data may share that memory. With opts.Blobs, Parse
// streams the message through go-message and attachment bodies go to the
// BlobStore as they are read.
//
// Parse returns an error wrapping ErrTooLarge when the message exceeds a limit
// of opts, an error from r other than end of file, or an error from
// opts.Blobs. The message is nil whenever the error is not.
func Parse(r io.Reader, opts *ParseOptions) (*Message, error) {
	o := opts.withDefaults()
	if o.Blobs == nil {
		return parseBytes(r, &o)
	}
	cr := &countingReader{r: r, max: o.MaxSize, hdr: int64(o.MaxHeaderBytes)}
	br := readers.Get().(*bufio.Reader)
	br.Reset(cr)
	defer func() {
		br.Reset(nil)
		readers.Put(br)
	}()
	p := &parser{opts: &o, cr: cr}
	m, err := p.parseMessage(br, 0, true)
	if err == nil {
		// Count (and bound) whatever follows the last part.
		_, err = io.Copy(io.Discard, br)
	}
	if err2 := cr.limitErr(); err2 != nil {
		return nil, err2
	}
	if err != nil {
		return nil, err
	}
	m.Size = cr.n
	return m, nil
}

// readers recycles the buffered readers of the streaming path: nothing keeps
// one once Parse returns (BlobStore.Put reads its body before returning).
var readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 8<<10) }}

// countingReader counts bytes and enforces the size and header limits. Its
// errors are also remembered, because go-message flattens wrapped errors.
type countingReader struct {
	r       io.Reader
	n, max  int64
	hdr     int64 // bytes left for the top-level header; < 0 once it is read
	over    bool
	hdrOver bool
	readErr error
}

var errLimit = errors.New("compose: limit reached")

func (c *countingReader) Read(p []byte) (int, error) {
	if c.over || c.hdrOver {
		return 0, errLimit
	}
	if c.hdr >= 0 {
		if c.hdr == 0 {
			c.hdrOver = true
			return 0, errLimit
		}
		if int64(len(p)) > c.hdr {
			p = p[:c.hdr]
		}
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.hdr >= 0 {
		c.hdr -= int64(n)
	}
	if c.n > c.max {
		c.over = true
		return n, errLimit
	}
	if err != nil && err != io.EOF {
		c.readErr = err
	}
	return n, err
}

func (c *countingReader) limitErr() error {
	switch {
	case c.over:
		return fmt.Errorf("%w: message exceeds %d bytes", ErrTooLarge, c.max)
	case c.hdrOver:
		return fmt.Errorf("%w: header exceeds the header size limit", ErrTooLarge)
	case c.readErr != nil:
		return fmt.Errorf("compose: reading message: %w", c.readErr)
	}
	return nil
}

// field is one header field; keys are canonical (textproto.CanonicalMIMEHeaderKey).
type field struct{ key, value string }

// header is a header in the order received.
type header []field

// Get returns the first value of a canonical key, or "".
func (h header) Get(key string) string {
	for i := range h {
		if h[i].key == key {
			return h[i].value
		}
	}
	return ""
}

// Has reports whether a canonical key is present, even with an empty
// value.
func (h header) Has(key string) bool {
	for i := range h {
		if h[i].key == key {
			return true
		}
	}
	return false
}

// fromGM converts a go-message header, in the order received.
func fromGM(gh *gmtextproto.Header) header {
	h := make(header, gh.Len())
	i := len(h)
	fs := gh.Fields()
	for fs.Next() {
		i--
		h[i] = field{fs.Key(), fs.Value()}
	}
	return h
}

type parser struct {
	opts  *ParseOptions
	cr    *countingReader // nil when parsing from memory
	nAtt  int
	fatal error
}

// stopped reports whether reading hit a limit or an I/O error: what follows
// is cut short for that reason, not because the mail is malformed.
func (p *parser) stopped() bool {
	return p.cr != nil && (p.cr.over || p.cr.hdrOver || p.cr.readErr != nil)
}

// msgState is what a walk collects for one message (top-level or nested).
type msgState struct {
	m          *Message
	reportType string // report-type of a top-level multipart/report
	text       []string
	parts      *reportParts // the parts of a delivery report, when it has some
}

func (s *msgState) warn(format string, args ...any) {
	s.m.Warnings = append(s.m.Warnings, fmt.Sprintf(format, args...))
}

// finish joins the text parts and classifies the message.
func (p *parser) finish(st *msgState, h header, top bool) *Message {
	m := st.m
	switch len(st.text) {
	case 0:
	case 1:
		m.Text = st.text[0]
	default:
		m.Text = strings.Join(st.text, "\n\n")
	}
	from := ""
	if len(m.From) > 0 {
		from = m.From[0].Address
	}
	sig := signals{report: st.reportType, status: st.parts != nil && st.parts.status != nil, returned: st.hasReturned(), nullSender: top && p.opts.NullSender}
	m.Auto = classify(h, from, sig)
	m.Report = st.report(h)
	st.clean()
	return m
}

// parseMessage reads a header and a body from br (streaming).
func (p *parser) parseMessage(br *bufio.Reader, depth int, top bool) (*Message, error) {
	st := &msgState{m: &Message{}}
	skipMboxLine(br)
	gh := p.readHeader(br, st)
	if top {
		p.cr.hdr = -1
		if p.cr.hdrOver {
			return nil, p.cr.limitErr()
		}
	}
	h := fromGM(&gh)
	if err := p.fillHeader(st, h); err != nil {
		return nil, err
	}
	if err := p.walk(st, h, gh, br, depth); err != nil {
		return nil, err
	}
	if p.fatal != nil {
		return nil, p.fatal
	}
	return p.finish(st, h, top), nil
}

// skipMboxLine drops an mbox "From " separator line.
func skipMboxLine(br *bufio.Reader) {
	if b, _ := br.Peek(5); string(b) != "From " {
		return
	}
	for {
		_, err := br.ReadSlice('\n')
		if err != bufio.ErrBufferFull {
			return
		}
	}
}

// readHeader reads a header leniently: a first line indented by mistake is
// read as a field, and after a malformed line reading goes on while the next
// line looks like a field.
func (p *parser) readHeader(br *bufio.Reader, st *msgState) gmtextproto.Header {
	if b, _ := br.Peek(1); len(b) == 1 && (b[0] == ' ' || b[0] == '\t') {
		st.warn("header: first line starts with whitespace")
		for {
			b, _ := br.Peek(1)
			if len(b) == 0 || (b[0] != ' ' && b[0] != '\t') {
				break
			}
			_, _ = br.Discard(1)
		}
	}
	h, err := gmtextproto.ReadHeader(br)
	for tries := 0; err != nil && tries < 1000; tries++ {
		if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
			return h // a message without body
		}
		if p.stopped() {
			return h
		}
		st.warn("header: %v", trimForWarning(err.Error()))
		if b, _ := br.Peek(80); !lineIsField(b) {
			return h
		}
		var more gmtextproto.Header
		more, err = gmtextproto.ReadHeader(br)
		for _, f := range fromGM(&more) {
			h.Add(f.key, f.value)
		}
	}
	return h
}

// lineIsField reports whether b starts with "Name:".
func lineIsField(b []byte) bool {
	for i, c := range b {
		switch {
		case c == ':':
			return i > 0
		case c <= ' ' || c >= 127:
			return false
		}
	}
	return false
}

func trimForWarning(s string) string {
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// wordDecoder decodes RFC 2047 encoded words in every charset that
// go-message/charset knows.
var wordDecoder = &mime.WordDecoder{CharsetReader: charset.Reader}

var addrParser = &mail.AddressParser{WordDecoder: wordDecoder}

// decodeText decodes encoded words and makes the result valid UTF-8.
func decodeText(st *msgState, field, v string) string {
	if strings.Contains(v, "=?") {
		d, err := wordDecoder.DecodeHeader(v)
		if err != nil {
			st.warn("%s: %v", field, trimForWarning(err.Error()))
		} else {
			v = d
		}
	}
	if !utf8.ValidString(v) {
		v = latin1ish(v)
	}
	return v
}

// latin1ish re-reads invalid UTF-8 as windows-1252, the usual culprit.
func latin1ish(s string) string {
	out, err := charmap.Windows1252.NewDecoder().String(s)
	if err != nil {
		return strings.ToValidUTF8(s, "\uFFFD")
	}
	return out
}

// oneLine replaces control characters (CR, LF, TAB, ...) by spaces.
func oneLine(s string) string {
	if strings.IndexFunc(s, isCtl) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if isCtl(r) {
			return ' '
		}
		return r
	}, s)
}

func isCtl(r rune) bool { return r < ' ' || r == 0x7f }

// isBlank reports the white space of RFC 5322 (WSP): space and tab.
func isBlank(r rune) bool { return r == ' ' || r == '\t' }

// fillHeader sets the Message fields read from the top-level header.
func (p *parser) fillHeader(st *msgState, h header) error {
	m := st.m
	m.Header = make(textproto.MIMEHeader, len(h))
	backing := make([]string, len(h))
	for i, f := range h {
		v := f.value
		if strings.Contains(v, "=?") {
			if d, err := wordDecoder.DecodeHeader(v); err == nil {
				v = d
			}
		}
		if old, ok := m.Header[f.key]; ok {
			m.Header[f.key] = append(old, v)
			continue
		}
		backing[i] = v
		m.Header[f.key] = backing[i : i+1 : i+1]
	}

	m.Subject = oneLine(decodeText(st, "Subject", h.Get("Subject")))
	m.From = parseAddrs(st, "From", h.Get("From"))
	m.To = parseAddrs(st, "To", h.Get("To"))
	m.Cc = parseAddrs(st, "Cc", h.Get("Cc"))
	m.ReplyTo = parseAddrs(st, "Reply-To", h.Get("Reply-To"))
	m.Sender = parseAddrs(st, "Sender", h.Get("Sender"))
	if len(m.To)+len(m.Cc) > p.opts.MaxRecipients {
		return fmt.Errorf("%w: %d recipients, at most %d", ErrTooLarge, len(m.To)+len(m.Cc), p.opts.MaxRecipients)
	}
	if d := h.Get("Date"); d != "" {
		t, err := parseDate(d)
		if err != nil {
			st.warn("Date: cannot read %q", trimForWarning(d))
		}
		m.Date = t
	}
	if ids := msgIDs(h.Get("Message-Id")); len(ids) > 0 {
		m.MessageID = ids[0]
	}
	m.InReplyTo = msgIDs(h.Get("In-Reply-To"))
	m.References = msgIDs(h.Get("References"))
	return nil
}

// parseAddrs reads an address list, falling back to one address at a time
// when the list as a whole is malformed.
func parseAddrs(st *msgState, field, v string) []mail.Address {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil
	}
	if a, ok := simpleAddr(v); ok {
		return []mail.Address{{Address: a}}
	}
	if l, ok := quickAddrList(v); ok {
		return l
	}
	list, err := addrParser.ParseList(v)
	if err == nil {
		out := make([]mail.Address, len(list))
		for i, a := range list {
			out[i] = mail.Address{Name: oneLine(a.Name), Address: a.Address}
		}
		return out
	}
	var out []mail.Address
	for _, piece := range splitAddrList(v) {
		piece = strings.TrimSpace(piece)
		if piece == "" {
			continue
		}
		if a, err := addrParser.Parse(piece); err == nil {
			out = append(out, mail.Address{Name: oneLine(a.Name), Address: a.Address})
			continue
		}
		if a, ok := salvageAddr(piece); ok {
			out = append(out, a)
			continue
		}
		st.warn("%s: cannot read address %q", field, trimForWarning(piece))
	}
	if len(out) == 0 {
		st.warn("%s: %v", field, err)
	}
	return out
}

// simpleAddr recognizes the common bare "local@domain" form without the full
// RFC 5322 parser.
func simpleAddr(v string) (string, bool) {
	at := -1
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '@':
			if at >= 0 {
				return "", false
			}
			at = i
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9',
			c == '.' && i > 0 && i < len(v)-1 && v[i-1] != '.' && v[i-1] != '@' && v[i+1] != '@',
			c == '-', c == '_', c == '+':
		default:
			return "", false
		}
	}
	if at <= 0 || at == len(v)-1 {
		return "", false
	}
	return v, true
}

// quickAddrList reads the common forms of address lists ("Name <a@b>",
// "\"Name\" <a@b>", "<a@b>", "a@b", separated by commas) without the full
// RFC 5322 parser; ok is false for anything else.
func quickAddrList(v string) ([]mail.Address, bool) {
	n := strings.Count(v, "@")
	if n == 0 || n > 64 {
		return nil, false
	}
	out := make([]mail.Address, 0, n)
	for v != "" {
		var piece string
		if i := strings.IndexByte(v, ','); i >= 0 {
			piece, v = v[:i], v[i+1:]
		} else {
			piece, v = v, ""
		}
		piece = strings.Trim(piece, " \t")
		if piece == "" {
			continue
		}
		a, ok := quickMailbox(piece)
		if !ok {
			return nil, false
		}
		out = append(out, a)
	}
	return out, len(out) > 0
}

func quickMailbox(p string) (mail.Address, bool) {
	if a, ok := simpleAddr(p); ok {
		return mail.Address{Address: a}, true
	}
	if !strings.HasSuffix(p, ">") {
		return mail.Address{}, false
	}
	lt := strings.LastIndexByte(p, '<')
	if lt < 0 {
		return mail.Address{}, false
	}
	addr, ok := simpleAddr(p[lt+1 : len(p)-1])
	if !ok {
		return mail.Address{}, false
	}
	name := strings.Trim(p[:lt], " \t")
	if len(name) >= 2 && name[0] == '"' && name[len(name)-1] == '"' {
		name = name[1 : len(name)-1]
		if strings.ContainsAny(name, "\\\"") || strings.Contains(name, "=?") {
			return mail.Address{}, false
		}
	} else {
		if strings.ContainsAny(name, "()<>[]:;@\\,\"") {
			return mail.Address{}, false
		}
		if strings.Contains(name, "=?") {
			return mail.Address{}, false // encoded words: net/mail decodes them
		} else if strings.Contains(name, "  ") || strings.IndexByte(name, '\t') >= 0 {
			// Only the blanks net/mail folds: strings.Fields would also
			// drop a form feed or a no-break space that net/mail refuses
			// or keeps.
			name = strings.Join(strings.FieldsFunc(name, isBlank), " ")
		}
	}
	if !utf8.ValidString(name) || strings.IndexFunc(name, isCtl) >= 0 {
		return mail.Address{}, false
	}
	return mail.Address{Name: name, Address: addr}, true
}

// splitAddrList splits at commas outside quotes, comments and angle brackets.
func splitAddrList(v string) []string {
	var out []string
	depth, quoted, start := 0, false, 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '\\' && quoted:
			i++
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '<' || c == '(':
			depth++
		case (c == '>' || c == ')') && depth > 0:
			depth--
		case (c == ',' || c == ';') && depth == 0:
			out = append(out, v[start:i])
			start = i + 1
		}
	}
	return append(out, v[start:])
}

// salvageAddr finds an addr-spec in a malformed mailbox: the text between
// angle brackets or a bare word containing '@'.
func salvageAddr(s string) (mail.Address, bool) {
	if i := strings.LastIndexByte(s, '<'); i >= 0 {
		rest := s[i+1:]
		if j := strings.IndexByte(rest, '>'); j >= 0 {
			rest = rest[:j]
		}
		addr := strings.TrimSpace(rest)
		if _, ok := simpleAddr(addr); ok || (strings.Count(addr, "@") == 1 && !strings.ContainsAny(addr, " \t<>\"")) {
			name := strings.Trim(strings.TrimSpace(s[:i]), `"`)
			if strings.Contains(name, "=?") {
				if d, err := wordDecoder.DecodeHeader(name); err == nil {
					name = d
				}
			}
			if !utf8.ValidString(name) {
				name = latin1ish(name)
			}
			return mail.Address{Name: oneLine(name), Address: addr}, true
		}
	}
	for _, f := range strings.Fields(s) {
		f = strings.Trim(f, `<>"'()[]`)
		if strings.Count(f, "@") == 1 && !strings.HasPrefix(f, "@") && !strings.HasSuffix(f, "@") && utf8.ValidString(f) {
			return mail.Address{Address: f}, true
		}
	}
	return mail.Address{}, false
}

// dateLayouts are read when net/mail gives up.
var dateLayouts = []string{
	"2 Jan 2006 15:04:05 -0700",
	"Mon, 2 Jan 2006 15:04:05 -0700 (MST)",
	"Mon, 2 Jan 2006 15:04:05 MST",
	"Mon, 2 Jan 2006 15:04 -0700",
	"Mon, 02 Jan 2006 15:04:05",
	"Mon, 2 Jan 2006 15:04:05",
	"Mon Jan 2 15:04:05 2006",
	"Mon Jan 2 15:04:05 MST 2006",
	"2006-01-02 15:04:05 -0700",
	time.RFC3339,
}

func parseDate(v string) (time.Time, error) {
	if t, ok := fastDate(v); ok {
		return t, nil
	}
	t, err := mail.ParseDate(v)
	if err == nil {
		return t, nil
	}
	v = strings.Join(strings.Fields(v), " ")
	for _, l := range dateLayouts {
		if t, err2 := time.Parse(l, v); err2 == nil {
			return t, nil
		}
	}
	return time.Time{}, err
}

// msgIDs returns the message ids of a Message-ID, In-Reply-To or References
// value, without angle brackets. Values without brackets are split on
// whitespace.
func msgIDs(v string) []string {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil
	}
	var out []string
	rest := v
	for {
		i := strings.IndexByte(rest, '<')
		if i < 0 {
			break
		}
		j := strings.IndexByte(rest[i:], '>')
		if j < 0 {
			break
		}
		if id := strings.TrimSpace(rest[i+1 : i+j]); id != "" && !strings.ContainsAny(id, " \t\r\n") {
			out = append(out, id)
		}
		rest = rest[i+j+1:]
	}
	if out == nil && !strings.ContainsAny(v, "<>") {
		for _, f := range strings.Fields(v) {
			if strings.Contains(f, "@") {
				out = append(out, f)
			}
		}
	}
	return out
}

// mediaType parses a Content-Type or Content-Disposition value leniently:
// when mime.ParseMediaType refuses it (duplicate or unquoted parameters, a
// missing semicolon), the value is split by hand and the first occurrence of
// a parameter wins.
func mediaType(v string) (string, map[string]string, bool) {
	if v == "" {
		return "", nil, true
	}
	if t, ok := simpleMediaType(v); ok {
		return t, nil, true
	}
	if t, params, ok := quickMediaType(v); ok {
		return t, params, true
	}
	t, params, err := mime.ParseMediaType(v)
	if err == nil {
		return t, params, true
	}
	parts := strings.Split(v, ";")
	t = strings.ToLower(strings.TrimSpace(parts[0]))
	if i := strings.IndexFunc(t, func(r rune) bool { return r <= ' ' || r == 0x7f }); i > 0 {
		// "application/pdf name=x.pdf": a parameter without its semicolon.
		// A token ends at any blank or control character (a bare CR too).
		parts = append(parts, t[i+1:])
		t = t[:i]
	}
	params = make(map[string]string, len(parts)-1)
	for _, kv := range parts[1:] {
		k, val, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		val = strings.TrimSpace(val)
		if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
			val = val[1 : len(val)-1]
		}
		if _, dup := params[k]; !dup && k != "" {
			params[k] = val
		}
	}
	return t, params, false
}

// simpleMediaType recognizes a lower-case value without parameters, such as
// "text/plain" or "inline", without allocating.
func simpleMediaType(v string) (string, bool) {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '/' || c == '-' || c == '.' || c == '+') {
			return "", false
		}
	}
	return v, true
}

// quickMediaType parses the common `type/sub; key=value; key="value"` form
// with fewer allocations than mime.ParseMediaType; ok is false for anything
// else (RFC 2231 parameters, escapes, duplicates, non-ASCII), which then goes
// to mime.ParseMediaType.
func quickMediaType(v string) (string, map[string]string, bool) {
	semi := strings.IndexByte(v, ';')
	if semi < 0 {
		return "", nil, false
	}
	t := strings.ToLower(strings.TrimSpace(v[:semi]))
	if t == "" || !isToken(t, true) {
		return "", nil, false
	}
	params := make(map[string]string, 2)
	rest := v[semi+1:]
	for {
		rest = strings.TrimLeft(rest, " \t")
		if rest == "" {
			return t, params, true
		}
		eq := strings.IndexByte(rest, '=')
		if eq <= 0 {
			return "", nil, false
		}
		k := strings.ToLower(strings.TrimSpace(rest[:eq]))
		if !isToken(k, false) {
			return "", nil, false
		}
		rest = strings.TrimLeft(rest[eq+1:], " \t")
		var val string
		if strings.HasPrefix(rest, `"`) {
			end := strings.IndexByte(rest[1:], '"')
			if end < 0 {
				return "", nil, false
			}
			val = rest[1 : 1+end]
			if strings.IndexByte(val, '\\') >= 0 || !printableASCII(val) {
				return "", nil, false
			}
			rest = rest[end+2:]
		} else {
			end := strings.IndexByte(rest, ';')
			if end < 0 {
				end = len(rest)
			}
			val = strings.TrimRight(rest[:end], " \t")
			if val == "" || !isToken(val, false) {
				return "", nil, false
			}
			rest = rest[end:]
		}
		if _, dup := params[k]; dup {
			return "", nil, false
		}
		params[k] = val
		rest = strings.TrimLeft(rest, " \t")
		if rest == "" {
			return t, params, true
		}
		if rest[0] != ';' {
			return "", nil, false
		}
		rest = rest[1:]
	}
}

// isToken reports whether s is an RFC 2045 token (with one '/' allowed in a
// media type).
func isToken(s string, slash bool) bool {
	slashes := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '/' && slash {
			slashes++
			continue
		}
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?=*`, c) >= 0 {
			return false
		}
	}
	return !slash || slashes == 1
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// contentType returns the media type of a part, text/plain when missing.
func contentType(st *msgState, h header) (string, map[string]string, bool) {
	ctype := h.Get("Content-Type")
	mt, params, clean := mediaType(ctype)
	if !clean {
		st.warn("Content-Type: malformed %q, read leniently", trimForWarning(ctype))
	}
	if mt == "" || !strings.Contains(mt, "/") {
		if mt != "" {
			st.warn("Content-Type: %q is not a media type, read as text/plain", trimForWarning(mt))
		}
		mt, clean = "text/plain", false
	}
	if cs := params["charset"]; cs != "" {
		// Seen in the wild: charset="charset=us-ascii", charset='utf-8'.
		fixed := strings.Trim(strings.TrimPrefix(strings.ToLower(strings.TrimSpace(cs)), "charset="), `"' `)
		if fixed != cs {
			params["charset"] = fixed
			clean = false
		}
	}
	return mt, params, clean
}

// partInfo is what the header of a leaf part says about it.
type partInfo struct {
	mt       string
	params   map[string]string
	disp     string
	filename string
	cid      string
	body     bool // the text or HTML body rather than an attachment
}

func leafInfo(st *msgState, h header, mt string, params map[string]string) partInfo {
	disp, dparams, _ := mediaType(h.Get("Content-Disposition"))
	filename := dparams["filename"]
	if filename == "" {
		filename = params["name"]
	}
	if filename != "" {
		// Kept as decoded: SetFilename makes it safe and keeps this
		// original apart.
		filename = decodeText(st, "filename", filename)
	}
	cid := ""
	if v := h.Get("Content-Id"); v != "" {
		if ids := msgIDs(v); len(ids) > 0 {
			cid = ids[0]
		} else {
			cid = oneLine(strings.Trim(strings.TrimSpace(v), "<>"))
		}
	}
	return partInfo{
		mt: mt, params: params, disp: disp, filename: filename, cid: cid,
		body: disp != "attachment" && filename == "" &&
			(mt == "text/plain" || (mt == "text/html" && st.m.HTML == "")),
	}
}

// addText keeps a text or HTML body.
func addText(st *msgState, info *partInfo, data []byte) {
	if bytes.IndexByte(data, 0) >= 0 {
		if s, ok := utf16Text(data); ok {
			st.warn("%s: NUL bytes, read as UTF-16", info.mt)
			addTextString(st, info, strings.ReplaceAll(s, "\r\n", "\n"))
			return
		}
	}
	s := lfString(data)
	if !utf8.ValidString(s) {
		st.warn("%s: invalid %s bytes, read as windows-1252", info.mt, charsetName(info.params))
		s = latin1ish(s)
	}
	addTextString(st, info, s)
}

func addTextString(st *msgState, info *partInfo, s string) {
	if info.mt == "text/html" {
		st.m.HTML = s
	} else if s != "" || len(st.text) == 0 {
		st.text = append(st.text, s)
	}
}

// lfString converts data to a string with CRLF line endings turned into LF,
// in one copy.
func lfString(data []byte) string {
	i := bytes.IndexByte(data, '\r')
	if i < 0 {
		return string(data)
	}
	var b strings.Builder
	b.Grow(len(data))
	for {
		if i+1 < len(data) && data[i+1] == '\n' {
			b.Write(data[:i])
		} else {
			b.Write(data[:i+1])
		}
		data = data[i+1:]
		i = bytes.IndexByte(data, '\r')
		if i < 0 {
			b.Write(data)
			return b.String()
		}
	}
}

// newAttachment counts an attachment against the limit.
func (p *parser) newAttachment(info *partInfo) (*Attachment, error) {
	p.nAtt++
	if p.nAtt > p.opts.MaxAttachments {
		p.fatal = fmt.Errorf("%w: more than %d attachments", ErrTooLarge, p.opts.MaxAttachments)
		return nil, p.fatal
	}
	a := &Attachment{
		ContentType: info.mt,
		ContentID:   info.cid,
		Inline:      info.disp == "inline" || (info.disp == "" && info.cid != ""),
	}
	a.SetFilename(info.filename)
	return a, nil
}

// nested parses the body of a message/rfc822 attachment; nested too
// deeply, it stays an attachment, unread.
func (p *parser) nested(st *msgState, a *Attachment, data []byte, depth int) error {
	if depth >= maxDepth {
		st.warn("%s nested too deeply, kept unread as an attachment", a.ContentType)
		return nil
	}
	m, err := p.parseMessageBytes(data, depth+1, false)
	if err != nil {
		return err
	}
	a.Message = m
	st.keepReturned(m)
	if a.Filename == "" && m.Subject != "" {
		a.Filename = subjectFilename(m.Subject, "message")
	}
	return nil
}

// keepUnread keeps a multipart nested deeper than maxDepth, header and
// body as received, as a message/rfc822 attachment: its content is not
// parsed, but stays whole for the agent to download.
func (p *parser) keepUnread(st *msgState, mt string, raw io.Reader) error {
	st.warn("%s nested too deeply, kept unread as an attachment", mt)
	a, err := p.newAttachment(&partInfo{mt: "message/rfc822", disp: "attachment", filename: "nested-part.eml"})
	if err != nil {
		return err
	}
	if p.opts.Blobs != nil {
		return p.store(st, a, raw)
	}
	data, err := io.ReadAll(raw)
	if err != nil {
		return err // from memory: never
	}
	a.Data, a.Size = data, int64(len(data))
	st.m.Attachments = append(st.m.Attachments, *a)
	return nil
}

// walk reads the body of an entity whose header is h (streaming).
func (p *parser) walk(st *msgState, h header, gh gmtextproto.Header, body io.Reader, depth int) error {
	mt, params, clean := contentType(st, h)
	if strings.HasPrefix(mt, "multipart/") {
		boundary := params["boundary"]
		if boundary == "" {
			st.warn("%s without boundary, read as text/plain", mt)
			return p.leaf(st, h, gh, body, "text/plain", params, false, depth)
		}
		if depth >= maxDepth {
			var raw bytes.Buffer
			if err := gmtextproto.WriteHeader(&raw, gh); err != nil {
				return err
			}
			return p.keepUnread(st, mt, io.MultiReader(&raw, body))
		}
		if depth == 0 && mt == "multipart/report" {
			st.reportType = params["report-type"]
		}
		mr := gmtextproto.NewMultipartReader(body, boundary)
		n := 0
		for {
			part, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				if p.stopped() {
					return nil
				}
				if n == 0 {
					st.warn("%s: no part could be read: %v", mt, trimForWarning(err.Error()))
				} else if strings.Contains(err.Error(), "EOF") {
					st.warn("%s: missing final boundary", mt)
				} else {
					st.warn("%s: %v", mt, trimForWarning(err.Error()))
				}
				break
			}
			n++
			if err := p.walk(st, fromGM(&part.Header), part.Header, part, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	return p.leaf(st, h, gh, body, mt, params, clean, depth)
}

// leaf reads a non-multipart part: a body or an attachment (streaming).
func (p *parser) leaf(st *msgState, h header, gh gmtextproto.Header, body io.Reader, mt string, params map[string]string, clean bool, depth int) error {
	mh := message.Header{Header: gh}
	if !clean {
		// Give go-message a Content-Type it can parse.
		mh = message.Header{}
		mh.Set("Content-Type", mt)
		if cs := params["charset"]; cs != "" {
			mh.SetContentType(mt, map[string]string{"charset": cs})
		}
		mh.Set("Content-Transfer-Encoding", h.Get("Content-Transfer-Encoding"))
	}
	e, err := message.New(mh, body)
	if err != nil {
		switch {
		case message.IsUnknownCharset(err):
			st.warn("%s: unknown charset %q, kept as received", mt, params["charset"])
		case message.IsUnknownEncoding(err):
			st.warn("%s: unknown transfer encoding %q, kept as received", mt, h.Get("Content-Transfer-Encoding"))
		default:
			st.warn("%s: %v", mt, trimForWarning(err.Error()))
		}
		if e == nil {
			return nil
		}
	}
	info := leafInfo(st, h, mt, params)
	if info.body {
		data, err := io.ReadAll(e.Body)
		if err != nil && !p.stopped() {
			st.warn("%s: body cut short: %v", mt, trimForWarning(err.Error()))
		}
		addText(st, &info, data)
		return nil
	}
	a, err := p.newAttachment(&info)
	if err != nil {
		return err
	}
	if mt == "message/rfc822" || mt == "message/global" || isReportPart(mt) {
		// Read whole: a nested message is parsed, and a report's parts
		// are read for Message.Report, before the body goes to the
		// BlobStore.
		data, err := io.ReadAll(e.Body)
		if err != nil && !p.stopped() {
			st.warn("%s: body cut short: %v", mt, trimForWarning(err.Error()))
		}
		if isReportPart(mt) {
			st.keepReportPart(mt, data)
		} else if err := p.nested(st, a, data, depth); err != nil {
			return err
		}
		return p.store(st, a, bytes.NewReader(data))
	}
	return p.store(st, a, e.Body)
}

// store streams an attachment body to the BlobStore.
func (p *parser) store(st *msgState, a *Attachment, r io.Reader) error {
	tr := &tolerantReader{r: r}
	key, size, err := p.opts.Blobs.Put(p.opts.Context, a.Filename, a.ContentType, tr)
	if p.stopped() {
		return p.cr.limitErr()
	}
	if err != nil {
		p.fatal = fmt.Errorf("compose: storing attachment %q: %w", a.Filename, err)
		return p.fatal
	}
	if tr.err != nil {
		st.warn("%s %q: body cut short: %v", a.ContentType, a.Filename, trimForWarning(tr.err.Error()))
	}
	a.BlobKey, a.Size = key, size
	st.m.Attachments = append(st.m.Attachments, *a)
	return nil
}

// tolerantReader turns a decoding error into the end of the body, so that a
// BlobStore keeps what could be read; the error is kept for a warning.
type tolerantReader struct {
	r   io.Reader
	err error
}

func (t *tolerantReader) Read(b []byte) (int, error) {
	if t.err != nil {
		return 0, io.EOF
	}
	n, err := t.r.Read(b)
	if err != nil && err != io.EOF {
		t.err = err
		return n, io.EOF
	}
	return n, err
}

func charsetName(params map[string]string) string {
	if cs := params["charset"]; cs != "" {
		return cs
	}
	return "us-ascii"
}
