package emailflow

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/emailflow/emailflow/compose"
	"github.com/emailflow/emailflow/interaction"
)

// IngestHeader takes in a message of which only the header is at hand,
// received at mailbox: one too large to fetch whole, for instance (the
// IMAP Ingester's size guard). header is the message's header section,
// up to the blank line that ends it (a header without that line is taken
// as whole). The email is stored with the header as its raw bytes and no
// body, identified, threaded, routed and deduplicated as Ingest does: the
// same Message-ID gives the same interaction, so a message taken in
// before, whole or not, is not taken in again. reason goes to the email's
// warnings and, as a note by "system", to its interaction, so the agent
// sees that a message came and why it is incomplete.
//
// Errors: ErrInvalidInput for an empty reason or a mailbox that is not an
// address; ErrTooLarge for a header over the parse limits' header size;
// the reader's or the store's errors.
func (w *Workspace) IngestHeader(ctx context.Context, mailbox string, header io.Reader, reason string) (*interaction.Interaction, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return nil, fmt.Errorf("%w: a header-only message needs a reason", ErrInvalidInput)
	}
	limit := int64(compose.DefaultMaxHeaderBytes)
	if w.opts.Parse != nil && w.opts.Parse.MaxHeaderBytes > 0 {
		limit = int64(w.opts.Parse.MaxHeaderBytes)
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(io.LimitReader(header, limit+1)); err != nil {
		return nil, fmt.Errorf("reading header: %w", err)
	}
	if int64(buf.Len()) > limit {
		return nil, fmt.Errorf("%w: header is over %d bytes", ErrTooLarge, limit)
	}
	raw := buf.Bytes()
	// The blank line that ends the header, so that nothing in it is read
	// as a body.
	switch {
	case bytes.HasSuffix(raw, []byte("\n\n")) || bytes.HasSuffix(raw, []byte("\r\n\r\n")):
	case bytes.HasSuffix(raw, []byte("\n")):
		raw = append(raw, "\r\n"...)
	case len(raw) > 0:
		raw = append(raw, "\r\n\r\n"...)
	}
	return w.ingest(ctx, mailbox, bytes.NewReader(raw), reason)
}

// Ingested reports whether a message with this Message-ID (without angle
// brackets) was taken in at mailbox already, so that Ingest would create
// nothing for it: a reader can skip fetching it. It answers false when it
// cannot tell (a message split between mailboxes with
// Options.SplitRecipients may be found only by Ingest itself).
//
// Errors: ErrInvalidInput for a mailbox that is not an address; the
// store's.
func (w *Workspace) Ingested(ctx context.Context, mailbox, messageID string) (bool, error) {
	if messageID == "" {
		return false, nil
	}
	if !w.own[mailbox] {
		box, err := mail.ParseAddress(mailbox)
		if err != nil {
			return false, fmt.Errorf("%w: mailbox %q is not an address: %v", ErrInvalidInput, mailbox, err)
		}
		mailbox = box.Address
	}
	known := false
	err := w.view(ctx, func(t *tx) error {
		e, err := t.EmailByMessageID(ctx, messageID)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		known = e.Direction == Outbound || !w.opts.SplitRecipients || strings.EqualFold(e.Mailbox, mailbox)
		return nil
	})
	return known, err
}

// withNote returns warnings with note added, when there is one, without
// writing into the array warnings shares with the parsed message.
func withNote(warnings []string, note string) []string {
	if note == "" {
		return warnings
	}
	return append(slices.Clip(warnings), note)
}

// addSystemNote adds note, when there is one, to it as the system's.
func addSystemNote(it *interaction.Interaction, note string, at time.Time) {
	if note != "" {
		_ = it.AddNote("system", note, at) // refuses only an empty note
	}
}
