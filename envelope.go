package emailflow

import "io"

// EnvelopeReader is a message that knows the envelope it arrived with:
// Ingest keeps that envelope on the stored email (Email.Envelope). The
// SMTP server adapter (transport/smtp) hands Ingest such readers.
type EnvelopeReader interface {
	io.Reader
	Envelope() Envelope
}
