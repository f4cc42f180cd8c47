package compose

import (
	"fmt"
	"html"
	"slices"
	"strings"
	"sync"
)

// Template is a standard response: canned text that agents insert, with
// field codes such as {{contact.firstName}} filled from the interaction.
//
// Field codes: {{contact.firstName}}, {{contact.lastName}}, {{agent.name}},
// {{interaction.id}}, {{subject}} and {{case.KEY}} for any case data key.
// Spaces inside the braces are ignored.
type Template struct {
	ID       string
	Name     string
	Category string
	// Subject, when not empty, is the subject of new messages.
	Subject string
	Text    string
	// HTML is optional; without it the filled Text is escaped into HTML.
	HTML string
}

// Fields are the values of field codes.
type Fields struct {
	ContactFirstName string
	ContactLastName  string
	AgentName        string
	InteractionID    string
	Subject          string
	CaseData         map[string]string
}

// MissingFieldError reports a field code without a value. It matches
// ErrInvalidInput with errors.Is.
type MissingFieldError struct {
	// Field is the field code without braces, e.g. "contact.firstName".
	Field string
}

// Error names the field.
func (e *MissingFieldError) Error() string {
	return fmt.Sprintf("compose: field code {{%s}} has no value", e.Field)
}

// Unwrap returns ErrInvalidInput.
func (e *MissingFieldError) Unwrap() error { return ErrInvalidInput }

// lookup returns the value of a field code.
func (f *Fields) lookup(code string) (string, bool, error) {
	switch code {
	case "contact.firstName":
		return f.ContactFirstName, true, nil
	case "contact.lastName":
		return f.ContactLastName, true, nil
	case "agent.name":
		return f.AgentName, true, nil
	case "interaction.id":
		return f.InteractionID, true, nil
	case "subject":
		return f.Subject, true, nil
	}
	if key, ok := strings.CutPrefix(code, "case."); ok && key != "" {
		v, found := f.CaseData[key]
		return v, found, nil
	}
	return "", false, invalid("unknown field code {{%s}}", code)
}

// fillMode says how values are inserted.
type fillMode int

const (
	fillText fillMode = iota
	fillHTML
	fillLine
)

// fill replaces field codes in one pass: values are never scanned for codes
// again, escaped in HTML, and kept on one line in subjects.
func fill(tmpl string, f *Fields, mode fillMode) (string, error) {
	if !strings.Contains(tmpl, "{{") {
		return tmpl, nil
	}
	var b strings.Builder
	b.Grow(len(tmpl) + 64)
	rest := tmpl
	for {
		i := strings.Index(rest, "{{")
		if i < 0 {
			b.WriteString(rest)
			break
		}
		j := strings.Index(rest[i+2:], "}}")
		if j < 0 {
			return "", invalid("unclosed field code in %q", short(rest[i:]))
		}
		b.WriteString(rest[:i])
		code := strings.TrimSpace(rest[i+2 : i+2+j])
		v, ok, err := f.lookup(code)
		if err != nil {
			return "", err
		}
		if !ok || strings.TrimSpace(v) == "" {
			return "", &MissingFieldError{Field: code}
		}
		switch mode {
		case fillHTML:
			v = html.EscapeString(v)
		case fillLine:
			v = oneLine(v)
		}
		b.WriteString(v)
		rest = rest[i+2+j+2:]
	}
	return b.String(), nil
}

// short shortens s for error messages.
func short(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// Fill returns the template's subject, text and HTML with field codes
// filled from f. Values are HTML-escaped in the HTML and kept on one line in
// the subject. Fill returns a *MissingFieldError naming a field code without
// a value, or an error wrapping ErrInvalidInput for an unknown or unclosed
// code.
func (t Template) Fill(f Fields) (subject, text, htm string, err error) {
	if subject, err = fill(t.Subject, &f, fillLine); err != nil {
		return "", "", "", err
	}
	if text, err = fill(t.Text, &f, fillText); err != nil {
		return "", "", "", err
	}
	if t.HTML == "" {
		return subject, text, TextToHTML(text), nil
	}
	if htm, err = fill(t.HTML, &f, fillHTML); err != nil {
		return "", "", "", err
	}
	return subject, text, htm, nil
}

// Apply fills the template and puts it above what d already holds (a quoted
// message, a signature); the template's subject replaces an empty one.
// Errors are those of Fill; d is unchanged on error.
func (t Template) Apply(d *Draft, f Fields) error {
	subject, text, htm, err := t.Fill(f)
	if err != nil {
		return err
	}
	if d.Subject == "" {
		d.Subject = subject
	}
	d.Prepend(text, htm)
	return nil
}

// Prepend puts the agent's text and HTML above the draft's bodies (the quoted
// message of a reply or forward). When the draft has an HTML body and html
// is empty, text is escaped into HTML; when html is given and the draft had
// only text, that text is escaped into the HTML below html.
func (d *Draft) Prepend(text, htm string) {
	if htm == "" && d.HTML != "" {
		htm = TextToHTML(text)
	}
	if htm != "" && d.HTML == "" && d.Text != "" {
		// The draft was text only: keep its text (the quote) in the HTML.
		d.HTML = "<div>" + TextToHTML(d.Text) + "</div>"
	}
	d.Text = text + d.Text
	if htm != "" {
		d.HTML = htm + d.HTML
	}
}

// Library holds standard responses in categories. It is safe for concurrent
// use; the zero value is empty and ready.
type Library struct {
	mu   sync.RWMutex
	byID map[string]Template
}

// Add stores t, replacing a template with the same ID. It returns an error
// wrapping ErrInvalidInput when t has no ID or Name, or an unknown or
// unclosed field code.
func (l *Library) Add(t Template) error {
	if t.ID == "" || t.Name == "" {
		return invalid("template needs an ID and a Name")
	}
	probe := Fields{ContactFirstName: "x", ContactLastName: "x", AgentName: "x", InteractionID: "x", Subject: "x"}
	for _, s := range []string{t.Subject, t.Text, t.HTML} {
		if _, err := fill(s, &probe, fillText); err != nil {
			if _, missing := err.(*MissingFieldError); !missing {
				return fmt.Errorf("template %q: %w", t.ID, err)
			}
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.byID == nil {
		l.byID = map[string]Template{}
	}
	l.byID[t.ID] = t
	return nil
}

// Get returns the template with that ID.
func (l *Library) Get(id string) (Template, bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	t, ok := l.byID[id]
	return t, ok
}

// Remove deletes the template with that ID.
func (l *Library) Remove(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.byID, id)
}

// Categories returns the categories in use, sorted.
func (l *Library) Categories() []string {
	l.mu.RLock()
	defer l.mu.RUnlock()
	var out []string
	for _, t := range l.byID {
		if !slices.Contains(out, t.Category) {
			out = append(out, t.Category)
		}
	}
	slices.Sort(out)
	return out
}

// InCategory returns the templates of a category sorted by name.
func (l *Library) InCategory(category string) []Template {
	l.mu.RLock()
	defer l.mu.RUnlock()
	var out []Template
	for _, t := range l.byID {
		if t.Category == category {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b Template) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Templates returns every template, sorted by category, then name (then
// ID, so that the order is stable): the library as a picker lists it.
func (l *Library) Templates() []Template {
	l.mu.RLock()
	defer l.mu.RUnlock()
	out := make([]Template, 0, len(l.byID))
	for _, t := range l.byID {
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b Template) int {
		if c := strings.Compare(a.Category, b.Category); c != 0 {
			return c
		}
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// Signature is the closing block added to outbound mail.
type Signature struct {
	Text string
	// HTML is optional; without it Text is escaped into HTML.
	HTML string
}

// Signatures holds signatures per agent and per mailbox. It is safe for
// concurrent use; the zero value is empty and ready.
type Signatures struct {
	mu      sync.RWMutex
	agent   map[string]Signature
	mailbox map[string]Signature
}

// SetAgent sets the signature of an agent.
func (s *Signatures) SetAgent(agentID string, sig Signature) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.agent == nil {
		s.agent = map[string]Signature{}
	}
	s.agent[agentID] = sig
}

// SetMailbox sets the signature of a mailbox address (case-insensitive).
func (s *Signatures) SetMailbox(address string, sig Signature) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mailbox == nil {
		s.mailbox = map[string]Signature{}
	}
	s.mailbox[strings.ToLower(address)] = sig
}

// For returns the agent's signature, else the mailbox's.
func (s *Signatures) For(agentID, mailbox string) (Signature, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if sig, ok := s.agent[agentID]; ok && agentID != "" {
		return sig, true
	}
	sig, ok := s.mailbox[strings.ToLower(mailbox)]
	return sig, ok
}

// Fill fills field codes in the signature like Template.Fill.
func (sig Signature) Fill(f Fields) (Signature, error) {
	text, err := fill(sig.Text, &f, fillText)
	if err != nil {
		return Signature{}, err
	}
	htm := TextToHTML(text)
	if sig.HTML != "" {
		if htm, err = fill(sig.HTML, &f, fillHTML); err != nil {
			return Signature{}, err
		}
	}
	return Signature{Text: text, HTML: htm}, nil
}

// Apply puts the signature under the agent's text and above the quoted
// message: call it before Template.Apply or Prepend of the agent's text.
func (sig Signature) Apply(d *Draft) {
	htm := sig.HTML
	if htm == "" {
		htm = TextToHTML(sig.Text)
	}
	text := "\n-- \n" + sig.Text + "\n"
	if d.HTML != "" {
		d.Prepend(text, `<div class="signature">-- <br>`+htm+"</div>\n")
	} else {
		d.Prepend(text, "")
	}
}
