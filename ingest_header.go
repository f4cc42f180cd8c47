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
// body, identified, threaded, routed and deduplicated as Ingest does (the
// same header again gives the same interaction), and a message taken in
// whole before (same Message-ID, its bytes beginning with this header) is
// not taken in again: its interaction is returned. reason goes to the
// email's warnings and, as a note by "system", to its interaction, so the
// agent sees that a message came and why it is incomplete.
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
	if it, err := w.takenInWhole(ctx, mailbox, raw); it != nil || err != nil {
		return it, err
	}
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

// takenInWhole returns the interaction of the message whose header is
// header when it was taken in whole at mailbox (same Message-ID, its raw
// bytes beginning with header), or nil.
func (w *Workspace) takenInWhole(ctx context.Context, mailbox string, header []byte) (*interaction.Interaction, error) {
	m, err := mail.ReadMessage(bytes.NewReader(append(slices.Clip(header), "\r\n\r\n"...)))
	if err != nil {
		return nil, nil // not readable here: Ingest takes it in with what it can read
	}
	id := strings.TrimSpace(m.Header.Get("Message-Id"))
	id = strings.TrimSuffix(strings.TrimPrefix(id, "<"), ">")
	if id == "" {
		return nil, nil
	}
	var it *interaction.Interaction
	err = w.view(ctx, func(t *tx) error {
		e, err := t.EmailByMessageID(ctx, id)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if e.Direction != Inbound || len(e.Raw) <= len(header) || !bytes.HasPrefix(e.Raw, header) || !w.sameScope(e, mailbox) {
			return nil
		}
		it, err = t.Interaction(ctx, e.InteractionID)
		return err
	})
	if err != nil || it == nil {
		return nil, err
	}
	return it.Clone(), nil
}

// sameScope reports whether e, taken in at its mailbox, is where a message
// for mailbox would be found: anywhere, unless recipients are split.
func (w *Workspace) sameScope(e *Email, mailbox string) bool {
	if !w.opts.SplitRecipients {
		return true
	}
	if !w.own[mailbox] {
		if box, err := mail.ParseAddress(mailbox); err == nil {
			mailbox = box.Address
		}
	}
	return strings.EqualFold(e.Mailbox, mailbox)
}

// Ingested reports whether the message with this Message-ID (without angle
// brackets) and this size (its bytes as received) was taken in at mailbox
// already, so that Ingest would create nothing for it: a reader can skip
// fetching it. It answers false when it cannot tell: another message under
// the same Message-ID, a message split between mailboxes with
// Options.SplitRecipients; Ingest then decides.
//
// Errors: ErrInvalidInput for a mailbox that is not an address; the
// store's.
func (w *Workspace) Ingested(ctx context.Context, mailbox, messageID string, size int64) (bool, error) {
	if !w.own[mailbox] {
		if _, err := mail.ParseAddress(mailbox); err != nil {
			return false, fmt.Errorf("%w: mailbox %q is not an address: %v", ErrInvalidInput, mailbox, err)
		}
	}
	if messageID == "" {
		return false, nil
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
		known = int64(len(e.Raw)) == size && (e.Direction == Outbound || w.sameScope(e, mailbox))
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
