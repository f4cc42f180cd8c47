package compose

import (
	"bytes"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
)

// Report is what a delivery status notification says about the message it
// reports on: the RFC 3464 report (a message/delivery-status part, as
// Postfix, Exim, Exchange and Gmail send them), or what could be read of
// a bounce without one (a text that copies the original's header, an
// X-Failed-Recipients field). Parse sets Message.Report on such mail.
type Report struct {
	// ReportingMTA is the server that wrote the report, without its type
	// ("mx.example.org").
	ReportingMTA string
	// Recipients are the recipients the report speaks of, in its order.
	Recipients []RecipientStatus
	// OriginalMessageID is the Message-ID (without angle brackets) of the
	// message reported on: from the returned message or header, the
	// report's X-Original-Message-ID, a copy of the header in the text,
	// or, last, the report's own In-Reply-To. Empty when none says it.
	OriginalMessageID string
	// OriginalSubject is the subject of the message reported on, when it
	// came back.
	OriginalSubject string
	// Returned says what came back of the message reported on.
	Returned Returned
}

// RecipientStatus is what a report says about one recipient.
type RecipientStatus struct {
	// Recipient is the address the report names (Final-Recipient, without
	// its type).
	Recipient string
	// OriginalRecipient is the address as the sender gave it
	// (Original-Recipient), when the report has it.
	OriginalRecipient string
	// Action is what became of the message for this recipient.
	Action Action
	// Status is the enhanced status code (RFC 3463), such as "5.1.1".
	Status string
	// Diagnostic is the remote server's answer (Diagnostic-Code, without
	// its type), such as "550 5.1.1 <a@example.com>: User unknown".
	Diagnostic string
	// RemoteMTA is the server that gave the answer, when the report says.
	RemoteMTA string
}

// Action is the fate of a message for one recipient (RFC 3464, section
// 2.3.3).
type Action string

// Actions of a delivery report.
const (
	ActionFailed    Action = "failed"    // not delivered, and will not be
	ActionDelayed   Action = "delayed"   // not delivered yet, still tried
	ActionDelivered Action = "delivered" // delivered
	ActionRelayed   Action = "relayed"   // handed to a system that does not report
	ActionExpanded  Action = "expanded"  // delivered and forwarded to others
)

// String returns the action's name.
func (a Action) String() string { return string(a) }

// Returned says what of the reported message came back with a report.
type Returned string

// What came back with a report.
const (
	ReturnedNothing Returned = ""        // nothing, or only a mention in the text
	ReturnedMessage Returned = "message" // the whole message (message/rfc822)
	ReturnedHeaders Returned = "headers" // its header (text/rfc822-headers)
	ReturnedText    Returned = "text"    // its header copied into the text
)

// String returns the name ("" for ReturnedNothing).
func (r Returned) String() string { return string(r) }

// Failed reports whether the message failed for at least one recipient.
func (r *Report) Failed() bool {
	for _, s := range r.Recipients {
		if s.Action == ActionFailed {
			return true
		}
	}
	return false
}

// Delayed reports whether the report only says the message is late: no
// recipient failed and one is delayed.
func (r *Report) Delayed() bool {
	if r.Failed() {
		return false
	}
	for _, s := range r.Recipients {
		if s.Action == ActionDelayed {
			return true
		}
	}
	return false
}

// ErrNoReport is returned by ParseDeliveryStatus for text that holds no
// delivery report field.
var ErrNoReport = errors.New("compose: no delivery report")

// Bounds of a report: a report is small, and what is beyond these is
// noise or an attack.
const (
	maxReportRecipients = 1000
	maxReportValue      = 2000
)

// ParseDeliveryStatus reads the body of a message/delivery-status part
// (RFC 3464; message/global-delivery-status, RFC 6533, alike): the
// per-message fields, then one block of fields per recipient. It is
// lenient, as reports in the wild are: field names in any case, blocks
// separated by blank lines (extra blank lines are ignored), a missing
// Action taken from the Status class (5: failed, 4: delayed, 2:
// delivered), comments after a status code dropped. A recipient block
// without a recipient is skipped. At most 1000 recipients are read. Every
// string is valid UTF-8 without NUL or line breaks.
//
// It returns ErrNoReport when b holds no reporting server and no
// recipient.
func ParseDeliveryStatus(b []byte) (*Report, error) {
	r := &Report{}
	st := &msgState{m: &Message{}} // collects warnings nobody reads
	first := true
	for len(b) > 0 && len(r.Recipients) < maxReportRecipients {
		// Blank lines between blocks, however many.
		for len(b) > 0 {
			line, next := nextLine(b, 0)
			if len(bytes.TrimSpace(line)) != 0 {
				break
			}
			b = b[next:]
		}
		if len(b) == 0 {
			break
		}
		h, rest, _ := readHeaderBytes(st, b)
		if len(h) == 0 {
			// A line that is no field: skip it.
			_, next := nextLine(b, 0)
			b = b[next:]
			continue
		}
		b = rest
		if first && h.Get("Final-Recipient") == "" && h.Get("Original-Recipient") == "" {
			r.ReportingMTA = reportValue(h.Get("Reporting-Mta"), true)
			if id := msgIDs(h.Get("X-Original-Message-Id")); len(id) > 0 {
				r.OriginalMessageID = cleanValue(id[0])
			}
			first = false
			continue
		}
		first = false
		s := RecipientStatus{
			Recipient:         reportValue(h.Get("Final-Recipient"), true),
			OriginalRecipient: reportValue(h.Get("Original-Recipient"), true),
			Status:            statusCode(h.Get("Status")),
			Diagnostic:        reportValue(h.Get("Diagnostic-Code"), true),
			RemoteMTA:         reportValue(h.Get("Remote-Mta"), true),
		}
		if s.Recipient == "" {
			s.Recipient = s.OriginalRecipient
		}
		if s.Recipient == "" {
			continue
		}
		s.Action = action(h.Get("Action"), s.Status)
		r.Recipients = append(r.Recipients, s)
	}
	if r.ReportingMTA == "" && len(r.Recipients) == 0 {
		return nil, ErrNoReport
	}
	return r, nil
}

// reportValue returns a report field's value as one clean line, without
// its type ("rfc822; a@example.com" → "a@example.com") when typed.
func reportValue(v string, typed bool) string {
	v = strings.TrimSpace(v)
	if typed {
		if i := strings.IndexByte(v, ';'); i > 0 && isToken(strings.TrimSpace(v[:i]), false) {
			v = strings.TrimSpace(v[i+1:])
		}
	}
	return cleanValue(v)
}

// cleanValue makes v one line of valid UTF-8 without NUL, at most
// maxReportValue bytes.
func cleanValue(v string) string {
	v = strings.Join(strings.Fields(oneLine(cleanString(v))), " ")
	if len(v) > maxReportValue {
		v = strings.ToValidUTF8(v[:maxReportValue], "")
	}
	return v
}

// enhancedCode matches an RFC 3463 status code.
var enhancedCode = regexp.MustCompile(`\b[245]\.\d{1,3}\.\d{1,3}\b`)

// statusCode returns the status code of a Status field, without the
// comment some servers add ("5.0.0 (permanent failure)").
func statusCode(v string) string {
	return enhancedCode.FindString(v)
}

// action returns the Action a field names, or the one its status implies
// when it names none the RFC knows.
func action(v, status string) Action {
	v = strings.ToLower(strings.TrimSpace(v))
	if i := strings.IndexAny(v, " (;"); i >= 0 {
		v = v[:i]
	}
	switch a := Action(v); a {
	case ActionFailed, ActionDelayed, ActionDelivered, ActionRelayed, ActionExpanded:
		return a
	}
	switch {
	case strings.HasPrefix(status, "5"):
		return ActionFailed
	case strings.HasPrefix(status, "4"):
		return ActionDelayed
	case strings.HasPrefix(status, "2"):
		return ActionDelivered
	}
	return ActionFailed // a report about a recipient, saying nothing else
}

// reportParts is what a walk keeps of the parts of a delivery report.
type reportParts struct {
	status   []byte   // the first message/delivery-status body
	headers  []byte   // the first text/rfc822-headers body
	returned *Message // the first message/rfc822 attachment
}

// isReportPart reports whether a part of media type mt belongs to a
// delivery report: its fields, or the header of the message it returns.
func isReportPart(mt string) bool {
	switch mt {
	case "message/delivery-status", "message/global-delivery-status",
		"text/rfc822-headers", "message/global-headers":
		return true
	}
	return false
}

// keepReportPart keeps the body of a report part for the report.
func (st *msgState) keepReportPart(mt string, data []byte) {
	if st.parts == nil {
		st.parts = &reportParts{}
	}
	switch mt {
	case "message/delivery-status", "message/global-delivery-status":
		if st.parts.status == nil {
			st.parts.status = data
		}
	default:
		if st.parts.headers == nil {
			st.parts.headers = data
		}
	}
}

// keepReturned keeps the first message attached, which a report returns.
func (st *msgState) keepReturned(m *Message) {
	if st.parts == nil {
		st.parts = &reportParts{}
	}
	if st.parts.returned == nil {
		st.parts.returned = m
	}
}

// hasReturned reports whether the message carries a returned original: a
// report's header part, or a message attached.
func (st *msgState) hasReturned() bool {
	return st.parts != nil && (st.parts.headers != nil || st.parts.returned != nil)
}

// report builds the Report of a message classified as a bounce, or that
// carries a delivery-status part; nil otherwise.
func (st *msgState) report(h header) *Report {
	m := st.m
	if m.Auto != AutoBounce && (st.parts == nil || st.parts.status == nil) {
		return nil
	}
	r := &Report{}
	if st.parts != nil && st.parts.status != nil {
		if parsed, err := ParseDeliveryStatus(st.parts.status); err == nil {
			r = parsed
		} else {
			st.warn("message/delivery-status: %v", err)
		}
	}
	st.original(r)
	if len(r.Recipients) == 0 {
		// A bounce without a report: the servers that write such bounces
		// name the recipients in X-Failed-Recipients (Exim, Gmail) or in
		// the text.
		r.Recipients = textRecipients(h.Get("X-Failed-Recipients"), m.Text, st.delayed())
	}
	if r.OriginalMessageID == "" && len(m.InReplyTo) > 0 {
		r.OriginalMessageID = m.InReplyTo[0] // Gmail's bounces answer the message
	}
	return r
}

// original fills in what r says of the message reported on, from what
// came back of it.
func (st *msgState) original(r *Report) {
	p := st.parts
	switch {
	case p != nil && p.returned != nil:
		r.Returned = ReturnedMessage
		if p.returned.MessageID != "" {
			r.OriginalMessageID = p.returned.MessageID
		}
		r.OriginalSubject = p.returned.Subject
	case p != nil && p.headers != nil:
		r.Returned = ReturnedHeaders
		h, _, _ := readHeaderBytes(&msgState{m: &Message{}}, p.headers)
		if ids := msgIDs(h.Get("Message-Id")); len(ids) > 0 {
			r.OriginalMessageID = cleanValue(ids[0])
		}
		r.OriginalSubject = cleanValue(decodeText(&msgState{m: &Message{}}, "Subject", h.Get("Subject")))
	default:
		if id := copiedMessageID(st.m.Text); id != "" {
			r.Returned, r.OriginalMessageID = ReturnedText, id
		}
	}
}

// delayed reports whether a bounce without a report says it is only a
// warning: "Delayed Mail", "Delivery Status Notification (Delay)",
// "Warning: message delayed".
func (st *msgState) delayed() bool {
	s := strings.ToLower(st.m.Subject)
	return strings.Contains(s, "delay") || strings.Contains(s, "still being retried")
}

// copiedHeader finds the copy of a header line "Message-ID: <...>" in the
// text of a bounce that returns the original in its text.
var copiedHeader = regexp.MustCompile(`(?im)^[ \t>]*message-id:[ \t]*(<[^>\r\n]{1,500}>)`)

// copiedMessageID returns the last Message-ID a bounce's text copies: the
// returned message comes last, after the explanation.
func copiedMessageID(text string) string {
	found := copiedHeader.FindAllStringSubmatch(text, -1)
	if len(found) == 0 {
		return ""
	}
	if ids := msgIDs(found[len(found)-1][1]); len(ids) > 0 {
		return cleanValue(ids[0])
	}
	return ""
}

// textLine matches a line of a bounce's text naming a failed recipient:
// "<a@example.com>: host ... said: 550 ..." (Postfix, qmail) or an
// address alone on its line, indented (Exim).
var textLine = regexp.MustCompile(`(?m)^[ \t]*<?([^<>@\s:;,]{1,64}@[A-Za-z0-9.\-]{1,253})>?:?[ \t]*(.*)$`)

// textRecipients returns the recipients a bounce without a report names:
// those of X-Failed-Recipients, else those its text names at the start of
// a line, with the answer that follows as the diagnostic. delayed gives
// them ActionDelayed rather than ActionFailed.
func textRecipients(failed, text string, delayed bool) []RecipientStatus {
	act := ActionFailed
	if delayed {
		act = ActionDelayed
	}
	var out []RecipientStatus
	seen := map[string]bool{}
	add := func(addr, diag string) {
		addr = cleanValue(addr)
		key := strings.ToLower(addr)
		if addr == "" || seen[key] || len(out) >= maxReportRecipients {
			return
		}
		seen[key] = true
		diag = cleanValue(diag)
		status := statusCode(diag)
		a := act
		if !delayed && strings.HasPrefix(status, "4") {
			a = ActionDelayed
		}
		out = append(out, RecipientStatus{Recipient: addr, Action: a, Status: status, Diagnostic: diag})
	}
	if failed != "" {
		for _, part := range strings.Split(failed, ",") {
			if a, err := mail.ParseAddress(strings.TrimSpace(part)); err == nil {
				add(a.Address, "")
			} else if s := strings.Trim(strings.TrimSpace(part), "<>"); strings.Contains(s, "@") {
				add(s, "")
			}
		}
		if len(out) > 0 {
			return out
		}
	}
	// The explanation comes before any copy of the original: stop there.
	if i := copiedHeader.FindStringIndex(text); i != nil {
		text = text[:i[0]]
	}
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		m := textLine.FindStringSubmatch(lines[i])
		if m == nil || (m[2] != "" && !strings.HasPrefix(strings.TrimSpace(lines[i]), "<")) {
			continue
		}
		// The answer: the rest of the line and the indented lines under it.
		diag := []string{m[2]}
		for i+1 < len(lines) && strings.TrimSpace(lines[i+1]) != "" && (lines[i+1][0] == ' ' || lines[i+1][0] == '\t') {
			if textLine.MatchString(lines[i+1]) && strings.HasPrefix(strings.TrimSpace(lines[i+1]), "<") {
				break
			}
			i++
			diag = append(diag, strings.TrimSpace(lines[i]))
		}
		add(m[1], strings.Join(diag, " "))
	}
	return out
}

// String describes the status of a recipient for people: "a@example.com:
// failed 5.1.1 (550 5.1.1 User unknown)".
func (s RecipientStatus) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s", s.Recipient, s.Action)
	if s.Status != "" {
		b.WriteString(" " + s.Status)
	}
	if s.Diagnostic != "" {
		b.WriteString(" (" + s.Diagnostic + ")")
	}
	return b.String()
}
