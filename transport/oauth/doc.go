// Package oauth authenticates mail connections with OAuth 2.0 bearer
// tokens, as Microsoft 365 and Gmail require of IMAP and SMTP clients: the
// SASL mechanisms OAUTHBEARER (RFC 7628) and XOAUTH2 (Google's and
// Microsoft's), with tokens from a host-provided
// golang.org/x/oauth2.TokenSource, which refreshes them.
//
// transport/imap and transport/smtp use it; a host only gives them the
// TokenSource. A Client never puts its token in an error.
package oauth
