// Package compose turns raw Internet mail into a [Message] and a [Draft] back
// into RFC 5322 bytes. It is the part of emailflow that meets real-world mail:
// [Parse] reads MIME messages (RFC 2045-2049, RFC 2047 headers, RFC 2231
// parameters) with github.com/emersion/go-message, keeps what it can read of
// malformed mail and reports the rest as [Message.Warnings]; [Render] writes
// drafts as multipart/alternative, multipart/related and multipart/mixed
// messages with quoted-printable bodies and encoded-word headers. [Reply],
// [ReplyAll] and [Forward] build drafts from a parsed message, and
// [NormalizeSubject] keeps subject prefixes from stacking.
//
// The package imports nothing else of emailflow: it is a pure library that the
// Workspace calls. Functions never perform network I/O; the only I/O is reading
// the message given to Parse and, when configured, streaming attachment bodies
// to a [BlobStore].
//
// # Charsets
//
// compose imports github.com/emersion/go-message/charset on purpose. Without it
// go-message decodes only UTF-8 and US-ASCII bodies, and a contact centre
// cannot afford to garble latin-1, windows-1252 or ISO-2022-JP mail: the
// import registers every charset of golang.org/x/text as go-message's
// CharsetReader (it adds about 1 MiB to binaries). Bodies in a charset that is
// still unknown are kept as received, re-read as windows-1252 when they are not
// valid UTF-8, and a warning says so.
//
// # Safety
//
// [Message.SafeHTML] passes the HTML body through a bluemonday policy that is
// built once per process: scripts, styles, event handlers, forms and frames are
// removed, and images keep only cid: and data: sources, so that displaying a
// message never loads remote content. [SanitizeHTML] applies the same policy
// family to what an agent writes (keeping the inline styles of an editor),
// [TextToHTML] turns plain text into HTML that passes it unchanged, and
// [ExtractDataImages] turns pasted data: images into inline attachments. [Render] refuses CR or LF in any header
// value and invalid addresses with [ErrInvalidInput], which closes header
// injection.
//
// # Limits
//
// [ParseOptions] bounds the size of a message, its header, its number of
// attachments and of recipients; beyond them Parse returns [ErrTooLarge].
package compose
