package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/emailflow/emailflow/interaction"
	"github.com/emailflow/emailflow/port"
)

// Reads sent ahead. An action that knows what it will read (the
// interaction it acts on, the emails of a draft) says so first; the read
// waits in the pipe and rides with the transaction's next round trip (an
// agent's lock, the first read of a View), and the later Interaction or
// EmailsOf takes its answer instead of asking again. Under READ COMMITTED
// the answer is what a read at that point of the transaction would have
// seen, as any read: the version check of a write still tells a change
// since. A write of what was read ahead drops the answer, so the
// transaction reads its own writes.

// aheadRead is the answer of a read sent ahead, once its batch went.
type aheadRead struct {
	sent    bool
	missing bool // no such row
	// An interaction's row.
	data    []byte
	version int64
	// The emails of an interaction.
	emails []*port.Email
}

// ahead returns the answer kept for key, and forgets it; nil when none
// was asked for. An answer still pending is fetched first.
func (t *txn) takeAhead(ctx context.Context, key string) (*aheadRead, error) {
	r := t.ahead[key]
	if r == nil {
		return nil, nil
	}
	delete(t.ahead, key)
	if !r.sent {
		if err := t.tx.flush(ctx); err != nil {
			return nil, err
		}
		if !r.sent { // cannot happen: the flush read it
			return nil, nil
		}
	}
	return r, nil
}

// keepAhead remembers r as the answer coming for key.
func (t *txn) keepAhead(key string, r *aheadRead) bool {
	if t.done || t.ahead[key] != nil {
		return false
	}
	if t.ahead == nil {
		t.ahead = map[string]*aheadRead{}
	}
	t.ahead[key] = r
	return true
}

// forgetAhead drops what was read ahead of key.
func (t *txn) forgetAhead(key string) {
	if t.ahead != nil {
		delete(t.ahead, key)
	}
}

// PrefetchInteraction sends the read of interaction id with the
// transaction's next round trip; Interaction(id) then answers from it.
func (t *txn) PrefetchInteraction(_ context.Context, id string) {
	r := &aheadRead{}
	if !t.keepAhead("i "+id, r) {
		return
	}
	t.tx.laterRead("read interaction "+id, t.s.sql(`SELECT data, version FROM {s}.interactions WHERE id = $1`), []any{id},
		func(br pgx.BatchResults) error {
			err := br.QueryRow().Scan(&r.data, &r.version)
			if errors.Is(err, pgx.ErrNoRows) {
				r.missing, err = true, nil
			}
			r.sent = err == nil
			return err
		})
}

// PrefetchEmails sends the read of the emails of interaction id with the
// transaction's next round trip; EmailsOf(id) then answers from it.
func (t *txn) PrefetchEmails(_ context.Context, id string) {
	r := &aheadRead{}
	if !t.keepAhead("e "+id, r) {
		return
	}
	t.tx.laterRead("read emails of "+id, t.s.sql(emailsOfSQL), []any{id},
		func(br pgx.BatchResults) error {
			rows, err := br.Query()
			if err != nil {
				return err
			}
			r.emails, err = scanEmails(rows)
			r.sent = err == nil
			return err
		})
}

// aheadInteraction is Interaction's answer from a read sent ahead, if one
// was (ok).
func (t *txn) aheadInteraction(ctx context.Context, id string) (it *interaction.Interaction, ok bool, err error) {
	r, err := t.takeAhead(ctx, "i "+id)
	if r == nil || err != nil {
		return nil, err != nil, mapErr("interaction", err)
	}
	if r.missing {
		return nil, true, notFound("interaction", id)
	}
	if it, err = decodeInteraction(r.data, r.version); err != nil {
		return nil, true, err
	}
	t.noteRead(it)
	return it, true, nil
}
