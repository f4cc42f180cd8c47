package emailflow

import (
	"net/mail"
	"strconv"
	"time"

	"github.com/emailflow/emailflow/compose"
	"github.com/emailflow/emailflow/contact"
)

// inboundEmail turns a parsed message into the stored record.
func inboundEmail(m *compose.Message, raw []byte, id, interactionID, mailbox string, now time.Time) *Email {
	e := &Email{
		ID: id, InteractionID: interactionID, Direction: Inbound, Mailbox: mailbox,
		MessageID: m.MessageID, InReplyTo: m.InReplyTo, References: m.References,
		To: m.To, Cc: m.Cc, ReplyTo: m.ReplyTo,
		Subject: m.Subject, Date: m.Date, Text: m.Text, HTML: m.HTML,
		Auto: string(m.Auto), Report: m.Report, Warnings: m.Warnings, Raw: raw,
		CreatedAt: now, UpdatedAt: now,
	}
	if len(m.From) > 0 {
		e.From = m.From[0]
	}
	e.Attachments = make([]Attachment, 0, len(m.Attachments))
	for i, a := range m.Attachments {
		e.Attachments = append(e.Attachments, fromComposeAttachment(id, i, a))
	}
	return e
}

func fromComposeAttachment(emailID string, i int, a compose.Attachment) Attachment {
	return Attachment{
		ID:       attachmentID(emailID, i),
		Filename: a.Filename, OriginalFilename: a.OriginalFilename, ContentType: a.ContentType,
		ContentID: a.ContentID, Inline: a.Inline, Size: a.Size, Data: a.Data,
	}
}

func attachmentID(emailID string, i int) string {
	return emailID + "." + strconv.Itoa(i+1)
}

// emailMessage turns a stored email back into what compose's builders read.
func emailMessage(e *Email) *compose.Message {
	m := &compose.Message{
		To: e.To, Cc: e.Cc, ReplyTo: e.ReplyTo,
		Subject: e.Subject, Date: e.Date, MessageID: e.MessageID,
		InReplyTo: e.InReplyTo, References: e.References,
		Text: e.Text, HTML: e.HTML,
	}
	if e.From.Address != "" {
		m.From = []mail.Address{e.From}
	}
	m.Attachments = make([]compose.Attachment, 0, len(e.Attachments))
	for _, a := range e.Attachments {
		m.Attachments = append(m.Attachments, compose.Attachment{
			Filename: a.Filename, OriginalFilename: a.OriginalFilename, ContentType: a.ContentType,
			ContentID: a.ContentID, Inline: a.Inline, Size: a.Size, Data: a.Data,
		})
	}
	return m
}

// emailDraft turns a stored outbound email into what compose.Render reads.
func emailDraft(e *Email) *compose.Draft {
	d := &compose.Draft{
		From: e.From, To: e.To, Cc: e.Cc, Bcc: e.Bcc, ReplyTo: e.ReplyTo,
		Subject: e.Subject, Text: e.Text, HTML: e.HTML,
		MessageID: e.MessageID, References: e.References,
		AutoSubmitted: e.Auto != "",
	}
	if e.Auto != "" && e.From.Address != "" {
		// Our own automated mail names us, so that it is known if it comes
		// back (through a forward, a responder that keeps the field).
		d.Headers = map[string]string{"X-Loop": e.From.Address}
	}
	if len(e.InReplyTo) > 0 {
		d.InReplyTo = e.InReplyTo[0]
	}
	for _, a := range e.Attachments {
		d.Attachments = append(d.Attachments, compose.Attachment{
			Filename: a.Filename, ContentType: a.ContentType, ContentID: a.ContentID,
			Inline: a.Inline, Size: a.Size, Data: a.Data,
		})
	}
	return d
}

// hasRecipient reports whether the email is addressed to anyone.
func hasRecipient(e *Email) bool { return len(e.To)+len(e.Cc)+len(e.Bcc) > 0 }

// emailRecipients lists the envelope recipients of an outbound email.
func emailRecipients(e *Email) []string {
	out := make([]string, 0, len(e.To)+len(e.Cc)+len(e.Bcc))
	for _, l := range [][]mail.Address{e.To, e.Cc, e.Bcc} {
		for _, a := range l {
			out = append(out, a.Address)
		}
	}
	return out
}

// addressedTo reports whether addr, in contact.NormalizeAddress form, is
// one of e's To, Cc or Bcc recipients.
func addressedTo(e *Email, addr string) bool {
	for _, l := range [][]mail.Address{e.To, e.Cc, e.Bcc} {
		for _, a := range l {
			if contact.NormalizeAddress(a.Address) == addr {
				return true
			}
		}
	}
	return false
}

// composeAttachments is atts as stored attachments, for the limits.
func composeAttachments(atts []compose.Attachment) []Attachment {
	out := make([]Attachment, len(atts))
	for i, a := range atts {
		out[i] = fromComposeAttachment("", i, a)
	}
	return out
}
