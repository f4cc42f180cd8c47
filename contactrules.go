package emailflow

import (
	"path"
	"slices"

	"github.com/emailflow/emailflow/compose"
	"github.com/emailflow/emailflow/contact"
)

// ContactRule decides whether Ingest creates a contact for a sender the
// Directory does not know. The first rule of Options.ContactRules that
// matches the mail decides; when none matches, a contact is created. A
// sender the Directory knows is found whatever the rules say.
type ContactRule struct {
	// Sender matches the sender's address, case-insensitively, in
	// path.Match syntax: "mailer-daemon@*", "*@notifications.example",
	// "noreply*@*". Empty matches any sender.
	Sender string
	// Auto lists the classes of mail the rule applies to
	// (compose.AutoNone for a person's); empty applies to any.
	Auto []compose.Auto
	// Quarantined makes the rule apply to quarantined mail only.
	Quarantined bool
	// Create says whether a contact is made for the mail the rule
	// matches.
	Create bool
}

// DefaultContactRules are the rules Options.ContactRules stands for when
// nil: no contact for quarantined mail, for bounces, nor for the
// addresses of mail systems and of senders that take no answer
// (mailer-daemon, postmaster, noreply and its spellings, bounce
// addresses). Hosts that want more add their rules in front of these.
var DefaultContactRules = []ContactRule{
	{Quarantined: true},
	{Auto: []compose.Auto{compose.AutoBounce}},
	{Sender: "mailer-daemon@*"},
	{Sender: "postmaster@*"},
	{Sender: "noreply*@*"},
	{Sender: "no-reply*@*"},
	{Sender: "no_reply*@*"},
	{Sender: "donotreply*@*"},
	{Sender: "do-not-reply*@*"},
	{Sender: "bounce*@*"},
}

// matches reports whether the rule applies to mail of class auto from
// addr (in contact.NormalizeAddress form), quarantined or not.
func (r ContactRule) matches(addr string, auto compose.Auto, quarantined bool) bool {
	if r.Quarantined && !quarantined {
		return false
	}
	if len(r.Auto) > 0 && !slices.Contains(r.Auto, auto) {
		return false
	}
	if r.Sender == "" {
		return true
	}
	ok, err := path.Match(contact.NormalizeAddress(r.Sender), addr)
	return ok && err == nil
}

// mayCreateContact reports whether a contact may be created for an
// unknown sender addr of mail of class auto: Options.NoContactCreation
// says never, otherwise the first matching rule decides, and yes when
// none matches.
func (w *Workspace) mayCreateContact(addr string, auto compose.Auto, quarantined bool) bool {
	if w.opts.NoContactCreation {
		return false
	}
	addr = contact.NormalizeAddress(addr)
	for _, r := range w.opts.ContactRules {
		if r.matches(addr, auto, quarantined) {
			return r.Create
		}
	}
	return true
}
