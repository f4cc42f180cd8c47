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
	// X-Autoreply, X-Autorespond, vacation and out-of-office notices, read
	// receipts.
	AutoReply Auto = "auto-reply"
	// AutoBulk is other machine-generated mail: Auto-Submitted:
	// auto-generated, Precedence: bulk or junk, X-Auto-Response-Suppress, a
	// null return path.
	AutoBulk Auto = "bulk"
	// AutoList is mailing-list traffic: List-Id, Precedence: list.
	AutoList Auto = "list"
	// AutoBounce is a delivery status notification: multipart/report with
	// report-type=delivery-status, or a message from MAILER-DAEMON or
	// postmaster.
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
}

// classify returns the automated-mail class of a top-level header.
// report is the report-type of a top-level multipart/report, if any.
func classify(h headerGetter, from string, report string) Auto {
	switch strings.ToLower(report) {
	case "delivery-status":
		return AutoBounce
	case "disposition-notification":
		return AutoReply
	case "feedback-report":
		return AutoBulk
	}
	if isDaemon(from) {
		return AutoBounce
	}
	as := strings.ToLower(strings.TrimSpace(h.Get("Auto-Submitted")))
	if i := strings.IndexByte(as, ';'); i >= 0 {
		as = strings.TrimSpace(as[:i])
	}
	if as == "auto-replied" || as == "auto-notified" {
		return AutoReply
	}
	if h.Get("X-Autoreply") != "" || h.Get("X-Autorespond") != "" || h.Get("X-Autoresponse") != "" {
		return AutoReply
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
	if h.Get("X-Auto-Response-Suppress") != "" {
		return AutoBulk
	}
	if rp := strings.TrimSpace(h.Get("Return-Path")); rp == "<>" {
		return AutoBulk
	}
	return AutoNone
}

// isDaemon reports whether addr is a mailer-daemon or postmaster mailbox.
func isDaemon(addr string) bool {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return false
	}
	local := strings.ToLower(addr[:at])
	return local == "mailer-daemon" || local == "postmaster"
}
