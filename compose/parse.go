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

// Default limits of ParseOptions.
const (
	DefaultMaxSize        = 40 << 20
	DefaultMaxAttachments = 50
	DefaultMaxRecipients  = 50
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
// Parse returns an error wrapping ErrTooLarge when the message exceeds a limit
// of opts, an error from r other than end of file, or an error from
// opts.Blobs. The message is nil whenever the error is not.
func Parse(r io.Reader, opts *ParseOptions) (*Message, error) {
	o := opts.withDefaults()
	cr := &countingReader{r: r, max: o.MaxSize, hdr: int64(o.MaxHeaderBytes)}
	br := bufio.NewReaderSize(cr, 8<<10)
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

// countingReader counts bytes and enforces the size and header limits. Its
// errors are also remembered, because go-message flattens wrapped errors.
type countingReader struct {
	r        io.Reader
	n, max   int64
	hdr      int64 // bytes left for the top-level header; < 0 once it is read
	over     bool
	hdrOver  bool
	readErr  error
	headerOK bool
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

type parser struct {
	opts  *ParseOptions
	cr    *countingReader
	nAtt  int
	fatal error
}

// msgState is what a walk collects for one message (top-level or nested).
type msgState struct {
	m      *Message
	report string // report-type of a top-level multipart/report
	text   []string
}

func (s *msgState) warn(format string, args ...any) {
	s.m.Warnings = append(s.m.Warnings, fmt.Sprintf(format, args...))
}

// parseMessage reads a header and a body from br.
func (p *parser) parseMessage(br *bufio.Reader, depth int, top bool) (*Message, error) {
	st := &msgState{m: &Message{}}
	skipMboxLine(br)
	h := p.readHeader(br, st)
	if top {
		p.cr.hdr = -1
		if p.cr.hdrOver {
			return nil, p.cr.limitErr()
		}
	}
	if err := p.fillHeader(st, h); err != nil {
		return nil, err
	}
	if err := p.walk(st, h, br, depth); err != nil {
		return nil, err
	}
	if p.fatal != nil {
		return nil, p.fatal
	}
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
	m.Auto = classify(&h, from, st.report)
	return m, nil
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
			br.Discard(1)
		}
	}
	h, err := gmtextproto.ReadHeader(br)
	for tries := 0; err != nil && tries < 1000; tries++ {
		if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
			return h // a message without body
		}
		if p.cr.hdrOver || p.cr.over {
			return h
		}
		st.warn("header: %v", trimForWarning(err.Error()))
		if !nextLineIsField(br) {
			return h
		}
		var more gmtextproto.Header
		more, err = gmtextproto.ReadHeader(br)
		fs := more.Fields()
		var kv []struct{ k, v string }
		for fs.Next() {
			kv = append(kv, struct{ k, v string }{fs.Key(), fs.Value()})
		}
		for i := len(kv) - 1; i >= 0; i-- {
			h.Add(kv[i].k, kv[i].v)
		}
	}
	return h
}

// nextLineIsField reports whether the next buffered line looks like
// "Name: value".
func nextLineIsField(br *bufio.Reader) bool {
	b, _ := br.Peek(80)
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

// fillHeader sets the Message fields read from the top-level header.
func (p *parser) fillHeader(st *msgState, h gmtextproto.Header) error {
	m := st.m
	n := h.Len()
	m.Header = make(textproto.MIMEHeader, n)
	// Fields iterates from the last field to the first: collect, then add
	// in the received order.
	keys := make([]string, n)
	vals := make([]string, n)
	i := n
	fs := h.Fields()
	for fs.Next() {
		i--
		keys[i], vals[i] = fs.Key(), fs.Value()
	}
	for i := range n {
		v := vals[i]
		if strings.Contains(v, "=?") {
			if d, err := wordDecoder.DecodeHeader(v); err == nil {
				v = d
			}
		}
		m.Header[keys[i]] = append(m.Header[keys[i]], v)
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
		if j := strings.IndexByte(s[i:], '>'); j > 0 {
			addr := strings.TrimSpace(s[i+1 : i+j])
			if strings.Count(addr, "@") == 1 {
				name := strings.Trim(strings.TrimSpace(s[:i]), `"`)
				if strings.Contains(name, "=?") {
					if d, err := wordDecoder.DecodeHeader(name); err == nil {
						name = d
					}
				}
				return mail.Address{Name: oneLine(name), Address: addr}, true
			}
		}
	}
	for _, f := range strings.Fields(s) {
		f = strings.Trim(f, `<>"'()[]`)
		if strings.Count(f, "@") == 1 && !strings.HasPrefix(f, "@") && !strings.HasSuffix(f, "@") {
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
// when mime.ParseMediaType refuses it (duplicate or unquoted parameters), the
// value is split by hand and the first occurrence of a parameter wins.
func mediaType(v string) (string, map[string]string, bool) {
	if v == "" {
		return "", nil, true
	}
	t, params, err := mime.ParseMediaType(v)
	if err == nil {
		return t, params, true
	}
	parts := strings.Split(v, ";")
	t = strings.ToLower(strings.TrimSpace(parts[0]))
	if i := strings.IndexAny(t, " \t"); i > 0 {
		// "application/pdf name=x.pdf": a parameter without its semicolon.
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

// walk reads the body of an entity whose header is h.
func (p *parser) walk(st *msgState, h gmtextproto.Header, body io.Reader, depth int) error {
	ctype := h.Get("Content-Type")
	mt, params, clean := mediaType(ctype)
	if !clean {
		st.warn("Content-Type: malformed %q, read leniently", trimForWarning(ctype))
	}
	if mt == "" || !strings.Contains(mt, "/") {
		if mt != "" {
			st.warn("Content-Type: %q is not a media type, read as text/plain", trimForWarning(mt))
		}
		mt = "text/plain"
	}

	if strings.HasPrefix(mt, "multipart/") {
		boundary := params["boundary"]
		if boundary == "" {
			st.warn("%s without boundary, read as text/plain", mt)
			return p.leaf(st, h, body, "text/plain", params, false, depth)
		}
		if depth >= maxDepth {
			st.warn("%s nested too deeply, skipped", mt)
			return nil
		}
		if depth == 0 && mt == "multipart/report" {
			st.report = params["report-type"]
		}
		mr := gmtextproto.NewMultipartReader(body, boundary)
		n := 0
		for {
			part, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				if p.cr.over || p.cr.hdrOver || p.cr.readErr != nil {
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
			if err := p.walk(st, part.Header, part, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	return p.leaf(st, h, body, mt, params, clean, depth)
}

// leaf reads a non-multipart part: a body or an attachment.
func (p *parser) leaf(st *msgState, h gmtextproto.Header, body io.Reader, mt string, params map[string]string, clean bool, depth int) error {
	mh := message.Header{Header: h}
	if cs := params["charset"]; cs != "" {
		// Seen in the wild: charset="charset=us-ascii", charset='utf-8'.
		fixed := strings.Trim(strings.TrimPrefix(strings.ToLower(strings.TrimSpace(cs)), "charset="), `"' `)
		if fixed != cs {
			params["charset"] = fixed
			clean = false
		}
	}
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

	disp, dparams, _ := mediaType(h.Get("Content-Disposition"))
	filename := dparams["filename"]
	if filename == "" {
		filename = params["name"]
	}
	if filename != "" {
		filename = oneLine(decodeText(st, "filename", filename))
	}
	cid := ""
	if ids := msgIDs(h.Get("Content-Id")); len(ids) > 0 {
		cid = ids[0]
	} else if v := strings.TrimSpace(h.Get("Content-Id")); v != "" {
		cid = strings.Trim(v, "<>")
	}

	isBody := disp != "attachment" && filename == "" &&
		(mt == "text/plain" || (mt == "text/html" && st.m.HTML == ""))
	if isBody {
		data, err := io.ReadAll(e.Body)
		if err != nil {
			if p.cr.over || p.cr.hdrOver || p.cr.readErr != nil {
				return nil
			}
			st.warn("%s: body cut short: %v", mt, trimForWarning(err.Error()))
		}
		s := string(data)
		if !utf8.ValidString(s) {
			st.warn("%s: invalid %s bytes, read as windows-1252", mt, charsetName(params))
			s = latin1ish(s)
		}
		if mt == "text/html" {
			st.m.HTML = s
		} else if s != "" || len(st.text) == 0 {
			st.text = append(st.text, s)
		}
		return nil
	}

	p.nAtt++
	if p.nAtt > p.opts.MaxAttachments {
		p.fatal = fmt.Errorf("%w: more than %d attachments", ErrTooLarge, p.opts.MaxAttachments)
		return p.fatal
	}
	a := Attachment{
		Filename:    filename,
		ContentType: mt,
		ContentID:   cid,
		Inline:      disp == "inline" || (disp == "" && cid != ""),
	}
	if mt == "message/rfc822" || mt == "message/global" {
		data, err := io.ReadAll(e.Body)
		if err != nil && !(p.cr.over || p.cr.hdrOver || p.cr.readErr != nil) {
			st.warn("%s: body cut short: %v", mt, trimForWarning(err.Error()))
		}
		if depth < maxDepth {
			nested, err := p.parseMessage(bufio.NewReader(bytes.NewReader(data)), depth+1, false)
			if err != nil {
				return err
			}
			a.Message = nested
			if a.Filename == "" && nested.Subject != "" {
				a.Filename = nested.Subject + ".eml"
			}
		}
		return p.store(st, &a, bytes.NewReader(data), data)
	}
	if p.opts.Blobs != nil {
		return p.store(st, &a, e.Body, nil)
	}
	data, err := io.ReadAll(e.Body)
	if err != nil && !(p.cr.over || p.cr.hdrOver || p.cr.readErr != nil) {
		st.warn("%s %q: body cut short: %v", mt, filename, trimForWarning(err.Error()))
	}
	return p.store(st, &a, nil, data)
}

// store keeps an attachment body in memory or streams it to the BlobStore.
func (p *parser) store(st *msgState, a *Attachment, r io.Reader, data []byte) error {
	if p.opts.Blobs == nil {
		a.Data = data
		a.Size = int64(len(data))
		st.m.Attachments = append(st.m.Attachments, *a)
		return nil
	}
	if r == nil {
		r = bytes.NewReader(data)
	}
	tr := &tolerantReader{r: r}
	key, size, err := p.opts.Blobs.Put(p.opts.Context, a.Filename, a.ContentType, tr)
	if p.cr.over || p.cr.hdrOver || p.cr.readErr != nil {
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
