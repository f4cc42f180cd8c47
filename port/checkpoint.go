package port

import (
	"context"
	"time"
)

// Checkpoint records how far a reader of a mailbox (the IMAP Ingester of
// transport/imap) got, so that after a restart it takes up where it
// stopped instead of taking in everything again.
type Checkpoint struct {
	// Source names the mailbox read, as the reader chooses (the IMAP
	// Ingester: "imap://user@host:port/INBOX").
	Source string
	// Validity is the numbering Last belongs to (IMAP's UIDVALIDITY):
	// when the mailbox's changes, Last means nothing any more.
	Validity uint32
	// Last is the highest message number (IMAP UID) the reader is done
	// with: every message up to it was ingested or deliberately skipped.
	Last uint32
	// UpdatedAt is when the checkpoint was last moved.
	UpdatedAt time.Time
}

// CheckpointTx is the optional ability of a Tx to keep checkpoints, found
// by type assertion. store/memory and store/postgres have it; a host's
// Store without it cannot run the IMAP Ingester.
type CheckpointTx interface {
	// Checkpoint returns the checkpoint of source, or ErrNotFound.
	Checkpoint(ctx context.Context, source string) (Checkpoint, error)
	// PutCheckpoint inserts or replaces the checkpoint of c.Source.
	PutCheckpoint(ctx context.Context, c Checkpoint) error
}
