package emailflow

import "io"

// Envelope is the SMTP envelope a message arrived with (RFC 5321): who
// handed it over and for whom. The headers may say otherwise (a Bcc
// recipient is only in the envelope; a bounce goes to the envelope's
// sender, not to From).
type Envelope struct {
	// From is the reverse path (MAIL FROM); empty for the null sender of
	// a bounce.
	From string
	// To are the recipients (RCPT TO) this copy was accepted for, as the
	// sending server wrote them.
	To []string
}

// EnvelopeReader is a message that knows the envelope it arrived with:
// Ingest keeps that envelope on the stored email (Email.Envelope). The
// SMTP server adapter (transport/smtp) hands Ingest such readers.
type EnvelopeReader interface {
	io.Reader
	Envelope() Envelope
}

// clone returns a copy of env whose To can be changed freely.
func (env *Envelope) clone() *Envelope {
	if env == nil {
		return nil
	}
	c := *env
	c.To = append([]string(nil), env.To...)
	return &c
}
