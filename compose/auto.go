package compose

import (
	"strings"
)

// Auto classifies automated mail, so that the Workspace never answers it with
// an auto-acknowledgement (RFC 3834) and can mark bounces.
type Auto string

// Automated-mail classes, from the most specific to the least.
const (
	// AutoNone is mail written by a person.
	AutoNone Auto = ""
	// AutoReply is an automatic response: Auto-Submitted: auto-replied,
	// X-Autoreply, X-Autorespond, vacation and out-of-office notices
	// (Microsoft's carry X-MS-Exchange-Inbox-Rules-Loop), read receipts.
	AutoReply Auto = "auto-reply"
	// AutoBulk is other machine-generated mail: Auto-Submitted:
	// auto-generated, Precedence: bulk or junk, X-Auto-Response-Suppress, a
	// null return path.
	AutoBulk Auto = "bulk"
	// AutoList is mailing-list traffic: List-Id, Precedence: list.
	AutoList Auto = "list"
	// AutoBounce is a delivery status notification: multipart/report with
	// report-type=delivery-status or a message/delivery-status part; a
	// message from MAILER-DAEMON, postmaster or Exchange's system mailbox;
	// X-Failed-Recipients, X-MS-Exchange-Message-Is-Ndr; or a message with
	// a null return path that returns another (its header or the whole).
	AutoBounce Auto = "bounce"
)

// String returns the class name ("" for AutoNone).
func (a Auto) String() string { return string(a) }

// Automated reports whether the mail was not written by a person, that is
// whether a is anything but AutoNone.
func (a Auto) Automated() bool { return a != AutoNone }

// headerGetter is the part of a header that classify needs.
type headerGetter interface {
	Get(key string) string
	// Has reports whether the field is present, even empty (Exchange
	// writes some flags without a value).
	Has(key string) bool
}

// signals are what the body and the envelope say about a message, beside
// its header.
type signals struct {
	report     string // report-type of a top-level multipart/report
	status     bool   // it has a message/delivery-status part
	returned   bool   // it returns another message: its header or the whole
	nullSender bool   // its reverse path is null (MAIL FROM:<>)
}

// autoReplyFields are the fields, in canonical form, that mark an
// automatic answer whatever their value.
var autoReplyFields = []string{"X-Autoreply", "X-Autorespond", "X-Autoresponse", "X-Auto-Reply", "X-Ms-Exchange-Inbox-Rules-Loop"}

// classify returns the automated-mail class of a top-level header.
func classify(h headerGetter, from string, s signals) Auto {
	switch strings.ToLower(s.report) {
	case "delivery-status":
		return AutoBounce
	case "disposition-notification":
		return AutoReply
	case "feedback-report":
		return AutoBulk
	}
	null := s.nullSender || strings.TrimSpace(h.Get("Return-Path")) == "<>"
	switch {
	case s.status, isDaemon(from), null && s.returned:
		return AutoBounce
	case h.Get("X-Failed-Recipients") != "", h.Has("X-Ms-Exchange-Message-Is-Ndr"):
		return AutoBounce
	}
	// The first word of Auto-Submitted: "auto-replied (vacation)" and
	// "auto-replied; owner-email=..." are auto-replies.
	as := strings.ToLower(strings.TrimSpace(h.Get("Auto-Submitted")))
	if i := strings.IndexAny(as, " \t(;"); i >= 0 {
		as = as[:i]
	}
	if as == "auto-replied" || as == "auto-notified" {
		return AutoReply
	}
	for _, k := range autoReplyFields {
		if h.Get(k) != "" {
			return AutoReply
		}
	}
	prec := strings.ToLower(strings.TrimSpace(h.Get("Precedence")))
	if prec == "auto_reply" {
		return AutoReply
	}
	if prec == "list" || h.Get("List-Id") != "" {
		return AutoList
	}
	if as != "" && as != "no" {
		return AutoBulk
	}
	if prec == "bulk" || prec == "junk" {
		return AutoBulk
	}
	if h.Get("X-Auto-Response-Suppress") != "" || null {
		return AutoBulk
	}
	return AutoNone
}

// isDaemon reports whether addr is a mailer-daemon or postmaster mailbox,
// or the system mailbox Exchange sends its reports from
// (MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@ the organization's
// domain).
func isDaemon(addr string) bool {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return false
	}
	local := strings.ToLower(addr[:at])
	return local == "mailer-daemon" || local == "postmaster" || local == "microsoftexchange329e71ec88ae4615bbc36ab6ce41109e"
}
