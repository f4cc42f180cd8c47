package compose

import (
	"html"
	"mime"
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// ReplyOptions configures Reply and ReplyAll. A nil *ReplyOptions or a zero
// field means the default.
type ReplyOptions struct {
	// From is our mailbox address, the sender of the reply.
	From mail.Address
	// Own lists our own addresses, left out of reply-all recipients
	// (compared case-insensitively). From is always treated as own.
	Own []string
	// QuoteLanguage chooses the attribution line: "en" (default), "fr",
	// "de" or "es".
	QuoteLanguage string
	// MaxReferences bounds the References ids (default 20); the first id and
	// the latest ones are kept.
	MaxReferences int
}

// ForwardOptions configures Forward.
type ForwardOptions struct {
	// From is our mailbox address.
	From mail.Address
	// To are the recipients of the forward.
	To []mail.Address
	// Instructions is the text the forwarder writes above the forwarded
	// message.
	Instructions string
	// AsAttachment attaches the original as message/rfc822 (Forward then
	// needs raw); otherwise the original is quoted inline below a header
	// block, with its attachments.
	AsAttachment bool
	// QuoteLanguage chooses the language of the header block: "en"
	// (default), "fr", "de" or "es".
	QuoteLanguage string
}

// DefaultMaxReferences is the default bound of ReplyOptions.MaxReferences.
const DefaultMaxReferences = 20

// Reply builds a reply to orig: To is orig's Reply-To when present, else its
// From (else its Sender); the subject gets one "Re: " prefix; In-Reply-To and
// References thread it; orig's text is quoted with "> " and its HTML, when
// there is one, in a blockquote, under an "On <date>, <name> wrote:" line.
// Inline images that the quoted HTML shows are carried over.
func Reply(orig *Message, opts *ReplyOptions) *Draft {
	var o ReplyOptions
	if opts != nil {
		o = *opts
	}
	if orig == nil {
		orig = &Message{}
	}
	d := &Draft{
		From:    o.From,
		Subject: NormalizeSubject("Re", orig.Subject),
	}
	d.To = dedupe(replyTargets(orig), nil)
	if validMsgID(orig.MessageID) {
		d.InReplyTo = orig.MessageID
	}
	d.References = references(orig, o.MaxReferences)
	quote(d, orig, o.QuoteLanguage)
	return d
}

// ReplyAll builds a reply like Reply, addressed also to orig's other To and
// Cc recipients: our own addresses (opts.Own and opts.From) are left out,
// duplicates removed case-insensitively, and orig's Cc stay in Cc.
func ReplyAll(orig *Message, opts *ReplyOptions) *Draft {
	d := Reply(orig, opts)
	if orig == nil {
		return d
	}
	own := map[string]bool{}
	if opts != nil {
		for _, a := range opts.Own {
			own[strings.ToLower(strings.TrimSpace(a))] = true
		}
		if opts.From.Address != "" {
			own[strings.ToLower(opts.From.Address)] = true
		}
	}
	seen := map[string]bool{}
	d.To = dedupe(append(d.To[:len(d.To):len(d.To)], orig.To...), own, seen)
	if len(d.To) == 0 {
		// Nothing left (a message from us to ourselves): keep the reply target.
		d.To = dedupe(replyTargets(orig), nil, seen)
	}
	d.Cc = dedupe(orig.Cc, own, seen)
	return d
}

// replyTargets is Reply-To, else From, else Sender.
func replyTargets(m *Message) []mail.Address {
	switch {
	case len(m.ReplyTo) > 0:
		return m.ReplyTo
	case len(m.From) > 0:
		return m.From
	}
	return m.Sender
}

// dedupe copies l without the addresses in skip or already in seen
// (case-insensitively), recording what it keeps in seen.
func dedupe(l []mail.Address, skip map[string]bool, seen ...map[string]bool) []mail.Address {
	s := map[string]bool{}
	if len(seen) > 0 {
		s = seen[0]
	}
	var out []mail.Address
	for _, a := range l {
		k := strings.ToLower(strings.TrimSpace(a.Address))
		if k == "" || skip[k] || s[k] {
			continue
		}
		s[k] = true
		out = append(out, a)
	}
	return out
}

// references returns orig's References plus its Message-ID, bounded to max
// ids by keeping the first and the latest.
func references(orig *Message, max int) []string {
	if max <= 0 {
		max = DefaultMaxReferences
	}
	refs := make([]string, 0, len(orig.References)+2)
	seen := map[string]bool{}
	add := func(id string) {
		if id != "" && !seen[id] && validMsgID(id) {
			seen[id] = true
			refs = append(refs, id)
		}
	}
	for _, r := range orig.References {
		add(r)
	}
	if len(orig.References) == 0 {
		// RFC 5322 3.6.4: without References, use In-Reply-To.
		for _, r := range orig.InReplyTo {
			add(r)
		}
	}
	add(orig.MessageID)
	if len(refs) > max {
		if max == 1 {
			return refs[len(refs)-1:]
		}
		refs = append(refs[:1:1], refs[len(refs)-(max-1):]...)
	}
	if len(refs) == 0 {
		return nil
	}
	return refs
}

// language holds the words of quoting and forwarding in one language.
type language struct {
	wrote      func(date, name string) string
	dateLayout string
	forwarded  string
	from, date string
	subject    string
	to, cc     string
}

var languages = map[string]language{
	"en": {
		wrote: func(date, name string) string {
			if date == "" {
				return name + " wrote:"
			}
			return "On " + date + ", " + name + " wrote:"
		},
		dateLayout: "Mon, 2 Jan 2006 at 15:04",
		forwarded:  "---------- Forwarded message ----------",
		from:       "From", date: "Date", subject: "Subject", to: "To", cc: "Cc",
	},
	"fr": {
		wrote: func(date, name string) string {
			if date == "" {
				return name + " a écrit :"
			}
			return "Le " + date + ", " + name + " a écrit :"
		},
		dateLayout: "02/01/2006 à 15:04",
		forwarded:  "---------- Message transféré ----------",
		from:       "De", date: "Date", subject: "Objet", to: "À", cc: "Cc",
	},
	"de": {
		wrote: func(date, name string) string {
			if date == "" {
				return name + " schrieb:"
			}
			return "Am " + date + " schrieb " + name + ":"
		},
		dateLayout: "02.01.2006 um 15:04",
		forwarded:  "---------- Weitergeleitete Nachricht ----------",
		from:       "Von", date: "Datum", subject: "Betreff", to: "An", cc: "Cc",
	},
	"es": {
		wrote: func(date, name string) string {
			if date == "" {
				return name + " escribió:"
			}
			return "El " + date + ", " + name + " escribió:"
		},
		dateLayout: "02/01/2006 a las 15:04",
		forwarded:  "---------- Mensaje reenviado ----------",
		from:       "De", date: "Fecha", subject: "Asunto", to: "Para", cc: "CC",
	},
}

func lang(code string) language {
	code = strings.ToLower(code)
	if i := strings.IndexAny(code, "-_"); i > 0 {
		code = code[:i]
	}
	if l, ok := languages[code]; ok {
		return l
	}
	return languages["en"]
}

// displayAddr is "Name <addr>", or addr alone.
func displayAddr(a mail.Address) string {
	if a.Name == "" {
		return a.Address
	}
	return a.Name + " <" + a.Address + ">"
}

func displayList(l []mail.Address) string {
	parts := make([]string, len(l))
	for i, a := range l {
		parts[i] = displayAddr(a)
	}
	return strings.Join(parts, ", ")
}

func formatDate(t time.Time, l language) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(l.dateLayout)
}

// attribution is the "On <date>, <name> wrote:" line.
func attribution(orig *Message, code string) string {
	l := lang(code)
	name := "(unknown sender)"
	if len(orig.From) > 0 {
		name = displayAddr(orig.From[0])
	}
	return oneLine(l.wrote(formatDate(orig.Date, l), name))
}

// quote fills d's bodies with orig quoted under the attribution line.
func quote(d *Draft, orig *Message, code string) {
	attr := attribution(orig, code)
	d.Text = "\n\n" + attr + "\n" + quoteText(orig.PlainText())
	if orig.HTML != "" {
		safe := orig.SafeHTML()
		d.HTML = "<div><br></div>\n<div>" + html.EscapeString(attr) + "</div>\n" +
			`<blockquote type="cite" style="margin:0 0 0 .8ex;border-left:1px solid #ccc;padding-left:1ex">` +
			"\n" + safe + "\n</blockquote>\n"
		d.Attachments = referencedInline(orig, safe)
	}
}

// quoteText prefixes every line with "> " (">" before an empty or already
// quoted line).
func quoteText(s string) string {
	s = strings.TrimRight(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	var b strings.Builder
	b.Grow(len(s) + len(s)/20 + 8)
	for line := range strings.SplitSeq(s, "\n") {
		switch {
		case line == "":
			b.WriteString(">\n")
		case line[0] == '>':
			b.WriteString(">" + line + "\n")
		default:
			b.WriteString("> " + line + "\n")
		}
	}
	return b.String()
}

// referencedInline returns orig's inline parts that the HTML shows by cid.
func referencedInline(orig *Message, htm string) []Attachment {
	var out []Attachment
	for _, a := range orig.Attachments {
		if a.ContentID != "" && a.Data != nil && validContentID(a.ContentID) && strings.Contains(htm, "cid:"+a.ContentID) {
			a = renderable(a)
			a.Inline = true
			out = append(out, a)
		}
	}
	return out
}

// Forward builds a forward of orig with the "Fwd: " subject. Inline, the
// original text follows opts.Instructions under a header block (From, Date,
// Subject, To, Cc) and its attachments are carried over; with
// opts.AsAttachment, raw is attached as message/rfc822.
//
// Attachments that Parse streamed to a BlobStore carry only their BlobKey:
// load their Data before Render.
//
// Forward returns an error wrapping ErrInvalidInput when orig is nil or when
// AsAttachment is set and raw is empty.
func Forward(orig *Message, raw []byte, opts *ForwardOptions) (*Draft, error) {
	var o ForwardOptions
	if opts != nil {
		o = *opts
	}
	if orig == nil {
		return nil, invalid("nothing to forward")
	}
	d := &Draft{
		From:    o.From,
		To:      append([]mail.Address(nil), o.To...),
		Subject: NormalizeSubject("Fwd", orig.Subject),
	}
	if o.AsAttachment {
		if len(raw) == 0 {
			return nil, invalid("forward as attachment needs the raw message")
		}
		d.Text = o.Instructions
		d.Attachments = []Attachment{{
			Filename:    subjectFilename(orig.Subject, "message"),
			ContentType: "message/rfc822",
			Size:        int64(len(raw)),
			Data:        raw,
		}}
		return d, nil
	}
	l := lang(o.QuoteLanguage)
	type kv struct{ k, v string }
	fields := []kv{{l.from, displayList(orig.From)}, {l.date, formatDate(orig.Date, l)}, {l.subject, orig.Subject}, {l.to, displayList(orig.To)}}
	if len(orig.Cc) > 0 {
		fields = append(fields, kv{l.cc, displayList(orig.Cc)})
	}
	var tb strings.Builder
	if o.Instructions != "" {
		tb.WriteString(o.Instructions)
		tb.WriteString("\n\n")
	}
	tb.WriteString(l.forwarded + "\n")
	for _, f := range fields {
		if f.v != "" {
			tb.WriteString(f.k + ": " + f.v + "\n")
		}
	}
	tb.WriteString("\n")
	tb.WriteString(orig.PlainText())
	d.Text = tb.String()
	if orig.HTML != "" {
		var hb strings.Builder
		if o.Instructions != "" {
			hb.WriteString("<div>" + TextToHTML(o.Instructions) + "</div>\n<br>\n")
		}
		hb.WriteString("<div>" + html.EscapeString(l.forwarded) + "<br>\n")
		for _, f := range fields {
			if f.v != "" {
				hb.WriteString("<b>" + html.EscapeString(f.k) + ":</b> " + html.EscapeString(f.v) + "<br>\n")
			}
		}
		hb.WriteString("</div>\n<br>\n")
		hb.WriteString(orig.SafeHTML())
		d.HTML = hb.String()
	}
	for _, a := range orig.Attachments {
		d.Attachments = append(d.Attachments, renderable(a))
	}
	return d, nil
}

// renderable prepares a parsed attachment for Render: a Content-ID or a
// content type that Render would refuse is dropped rather than blocking the
// forward.
func renderable(a Attachment) Attachment {
	a.Message = nil
	if a.ContentID != "" && !validContentID(a.ContentID) {
		a.ContentID, a.Inline = "", false
	}
	if a.ContentType != "" {
		if t, _, err := mime.ParseMediaType(a.ContentType); err != nil || !strings.Contains(t, "/") {
			a.ContentType = "application/octet-stream"
		}
	}
	return a
}

// New builds a new outbound draft.
func New(from mail.Address, to []mail.Address, subject, text string) *Draft {
	return &Draft{From: from, To: to, Subject: oneLine(subject), Text: text}
}

// subjectPrefixes are the reply and forward markers NormalizeSubject strips,
// lower-cased: English, French, German, Nordic, Dutch, Italian, Spanish.
var subjectPrefixes = []string{
	"re", "fwd", "fw", "tr", "aw", "wg", "sv", "vs", "réf", "ref", "rif",
	"antw", "doorst", "enc", "rv", "fs", "vb", "odp", "pd", "ynt", "antwort",
}

// NormalizeSubject returns subject with every leading reply or forward
// marker removed (Re, RE, Fwd, FW, TR, AW, WG, SV, Réf and others, with
// counters such as "Re[2]:" and French spacing "RE :") and prefix added
// once: NormalizeSubject("Re", "RE: AW: Fwd: hello") is "Re: hello".
// With an empty prefix it returns the bare subject.
func NormalizeSubject(prefix, subject string) string {
	s := strings.TrimSpace(oneLine(subject))
	for {
		rest, ok := stripPrefix(s)
		if !ok {
			break
		}
		s = rest
	}
	if prefix == "" {
		return s
	}
	return prefix + ": " + s
}

// stripPrefix removes one leading marker such as "Re:", "RE :", "Re[2]:",
// "Fwd:" or "Réf. :".
func stripPrefix(s string) (string, bool) {
	i := 0
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if !unicode.IsLetter(r) {
			break
		}
		i += n
	}
	if i == 0 || i > 8 {
		return s, false
	}
	word := strings.ToLower(s[:i])
	known := false
	for _, p := range subjectPrefixes {
		if word == p {
			known = true
			break
		}
	}
	if !known {
		return s, false
	}
	j := i
	if j < len(s) && s[j] == '.' {
		j++
	}
	if j < len(s) && (s[j] == '[' || s[j] == '(') {
		close := byte(']')
		if s[j] == '(' {
			close = ')'
		}
		k := strings.IndexByte(s[j:], close)
		if k < 0 {
			return s, false
		}
		for _, c := range s[j+1 : j+k] {
			if c < '0' || c > '9' {
				return s, false
			}
		}
		j += k + 1
	}
	for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
		j++
	}
	switch {
	case strings.HasPrefix(s[j:], ":"):
		j++
	case strings.HasPrefix(s[j:], "："):
		j += len("：")
	default:
		return s, false
	}
	return strings.TrimSpace(s[j:]), true
}
