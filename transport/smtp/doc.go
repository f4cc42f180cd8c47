// Package smtp connects a Workspace to real mail over SMTP, with
// github.com/emersion/go-smtp.
//
// Sender is the outbound port (emailflow.Sender): it hands each message to
// a relay (the organisation's smarthost or submission server), one
// connection per message, with STARTTLS or implicit TLS and SASL PLAIN
// authentication. IsPermanent tells a server's permanent refusal (5xx)
// from a temporary one, so a host can stop retrying a message no retry
// will deliver.
//
// Server is the inbound adapter: an SMTP server (an MX, or the target of a
// relay's forwarding) that accepts mail for the centre's mailboxes and
// hands each message to an IngestFunc, in practice Workspace.Ingest (see
// IngestInto). It replies 250 only once every recipient mailbox took the
// message in, so nothing it acknowledged can be lost.
package smtp
