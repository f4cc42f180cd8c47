package port

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

// Clone returns a copy of env whose To can be changed freely; nil for nil.
func (env *Envelope) Clone() *Envelope {
	if env == nil {
		return nil
	}
	c := *env
	c.To = append([]string(nil), env.To...)
	return &c
}
