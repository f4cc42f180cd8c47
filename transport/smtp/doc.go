// Package smtp connects a Workspace to real mail over SMTP, with
// github.com/emersion/go-smtp.
//
// Sender is the outbound port (emailflow.Sender): it hands each message to
// a relay (the organisation's smarthost or submission server), one
// connection per message, with STARTTLS or implicit TLS and SASL PLAIN
// authentication or OAuth 2.0 tokens (OAUTHBEARER, XOAUTH2; see
// transport/oauth), greeting with its configured name (by default the
// host's fully qualified name) before and after STARTTLS. It sends the
// rendered bytes unchanged: what the Workspace stored is what the
// recipient gets. IsPermanent tells a failure no retry can mend (a 5xx
// refusal, an untrusted certificate, a failed TLS handshake, credentials
// without TLS) from a temporary one, so a host can stop retrying a
// message no retry will deliver.
//
// Server is the inbound adapter: an SMTP server (an MX, or the target of a
// relay's forwarding) that accepts mail for the centre's mailboxes and
// their postmaster and hands each message to an IngestFunc, in practice
// Workspace.Ingest (see IngestInto), with Return-Path and Received trace
// fields prepended and its envelope (emailflow.EnvelopeReader). It
// replies 250 only once every recipient mailbox took the message in, so
// nothing it acknowledged can be lost, and it never passes on a partial
// message. It offers SMTPUTF8, CHUNKING and STARTTLS, bounds connections
// (in all and per address), command time, message time and idle time,
// and spools large messages to a temporary file. docs/smtp.md has the
// details and the reasons.
package smtp
