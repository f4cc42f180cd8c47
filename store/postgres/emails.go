package postgres

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/emailflow/emailflow/interaction"
	"github.com/emailflow/emailflow/port"
)

// Emails and outbox items are stored as JSON with their bytes apart: the
// raw message in a bytea column of its own, an email's attachment bodies
// in the table blobs, keyed by their SHA-256 (a body sent many times is
// stored once), the email listing the keys in the order of its
// attachments. Text fields are valid UTF-8 without NUL, as compose parses
// them, which is what jsonb and text hold.

// emailColumns are the columns decodeEmail reads, in its order: the
// bodies come back as an array in the order of the keys (NULL for a body
// kept in a BlobStore; NULL as a whole for an email without attachments).
const emailColumns = `e.data, e.raw, (SELECT array_agg(b.body ORDER BY k.i)
	FROM unnest(e.blob_keys) WITH ORDINALITY AS k(h, i) LEFT JOIN {s}.blobs b ON b.hash = k.h)`

func decodeEmail(data, raw []byte, bodies [][]byte) (*port.Email, error) {
	e := new(port.Email)
	if err := json.Unmarshal(data, e); err != nil {
		return nil, fmt.Errorf("postgres: decode email: %w", err)
	}
	e.Raw = raw
	if len(e.Attachments) > 0 {
		if len(bodies) != len(e.Attachments) {
			return nil, fmt.Errorf("postgres: decode email %s: %d attachment bodies for %d attachments", e.ID, len(bodies), len(e.Attachments))
		}
		for i := range e.Attachments {
			e.Attachments[i].Data = bodies[i]
		}
	}
	return e, nil
}

// encodeEmail returns the JSON of e without its bytes, its attachment
// bodies and their keys (nil for a body that is not here).
func encodeEmail(e *port.Email) (data []byte, bodies, keys [][]byte, err error) {
	c := e.Clone() // its own Attachments: clearing Data leaves e alone
	c.Raw = nil
	bodies = make([][]byte, len(c.Attachments))
	keys = make([][]byte, len(c.Attachments))
	for i := range c.Attachments {
		bodies[i], c.Attachments[i].Data = c.Attachments[i].Data, nil
		if bodies[i] != nil {
			h := sha256.Sum256(bodies[i])
			keys[i] = h[:]
		}
	}
	normTimes(c)
	data, err = json.Marshal(c)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("postgres: encode email %s: %w", e.ID, err)
	}
	return data, bodies, keys, nil
}

// Email implements port.Tx.
func (t *txn) Email(ctx context.Context, id string) (*port.Email, error) {
	if err := t.readable(); err != nil {
		return nil, err
	}
	var data, raw []byte
	var bodies [][]byte
	err := t.tx.QueryRow(ctx, t.s.sql(`SELECT `+emailColumns+` FROM {s}.emails e WHERE e.id = $1`), id).Scan(&data, &raw, &bodies)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("email", id)
	}
	if err != nil {
		return nil, mapErr("email", err)
	}
	return t.noteEmail(decodeEmail(data, raw, bodies))
}

// EmailsOf implements port.Tx: in the order they were first stored.
func (t *txn) EmailsOf(ctx context.Context, interactionID string) ([]*port.Email, error) {
	if err := t.readable(); err != nil {
		return nil, err
	}
	if r, err := t.takeAhead(ctx, "e "+interactionID); err != nil || r != nil {
		if err != nil {
			return nil, mapErr("emails of", err)
		}
		t.noteEmails(r.emails)
		return r.emails, nil
	}
	rows, err := t.tx.Query(ctx, t.s.sql(emailsOfSQL), interactionID)
	if err != nil {
		return nil, mapErr("emails of", err)
	}
	out, err := scanEmails(rows)
	if err != nil {
		return nil, mapErr("emails of", err)
	}
	t.noteEmails(out)
	return out, nil
}

// emailsOfSQL reads the emails of an interaction, oldest first.
const emailsOfSQL = `SELECT ` + emailColumns + ` FROM {s}.emails e WHERE e.interaction_id = $1 ORDER BY e.ord`

// scanEmails decodes the emails rows hold, and closes them.
func scanEmails(rows pgx.Rows) ([]*port.Email, error) {
	out := []*port.Email{}
	var data, raw []byte
	var bodies [][]byte
	_, err := pgx.ForEachRow(rows, []any{&data, &raw, &bodies}, func() error {
		e, err := decodeEmail(data, raw, bodies)
		if err != nil {
			return err
		}
		out = append(out, e)
		return nil
	})
	return out, err
}

// EmailByMessageID implements port.Tx. The first email stored with a
// Message-ID keeps it: a re-delivered copy does not take it over.
func (t *txn) EmailByMessageID(ctx context.Context, messageID string) (*port.Email, error) {
	if err := t.readable(); err != nil {
		return nil, err
	}
	var data, raw []byte
	var bodies [][]byte
	err := t.tx.QueryRow(ctx, t.s.sql(`SELECT `+emailColumns+` FROM {s}.message_ids m
		JOIN {s}.emails e ON e.id = m.email_id WHERE m.message_id = $1`), messageID).Scan(&data, &raw, &bodies)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("email with Message-ID", messageID)
	}
	if err != nil {
		return nil, mapErr("email by Message-ID", err)
	}
	return t.noteEmail(decodeEmail(data, raw, bodies))
}

// EmailsByMessageIDs implements port.Tx, in one query (or from the read
// PrefetchEmailsByMessageIDs sent for the same ids).
func (t *txn) EmailsByMessageIDs(ctx context.Context, messageIDs []string) ([]*port.Email, error) {
	if err := t.readable(); err != nil {
		return nil, err
	}
	if len(messageIDs) == 0 {
		return nil, nil
	}
	found, ok, err := t.aheadByMessageIDs(ctx, messageIDs)
	if !ok {
		var rows pgx.Rows
		if rows, err = t.tx.Query(ctx, t.s.sql(emailsByMessageIDsSQL), messageIDs); err == nil {
			var bad error
			if found, bad, err = scanByMessageID(rows, len(messageIDs)); err == nil {
				err = bad
			}
		}
	}
	if err != nil {
		return nil, mapErr("emails by Message-ID", err)
	}
	out := make([]*port.Email, 0, len(found))
	for _, mid := range messageIDs {
		if e, ok := found[mid]; ok {
			out = append(out, e)
			delete(found, mid) // once, however often ids names it
		}
	}
	t.noteEmails(out)
	return out, nil
}

// emailsByMessageIDsSQL reads the emails some Message-IDs name ($1).
const emailsByMessageIDsSQL = `SELECT m.message_id, ` + emailColumns + ` FROM {s}.message_ids m
	JOIN {s}.emails e ON e.id = m.email_id WHERE m.message_id = ANY($1)`

// scanByMessageID decodes the rows of emailsByMessageIDsSQL, by
// Message-ID, and closes them; bad is the first email that could not
// be decoded, err a failed read.
func scanByMessageID(rows pgx.Rows, n int) (found map[string]*port.Email, bad, err error) {
	found = make(map[string]*port.Email, n)
	var mid string
	var data, raw []byte
	var bodies [][]byte
	_, err = pgx.ForEachRow(rows, []any{&mid, &data, &raw, &bodies}, func() error {
		e, derr := decodeEmail(data, raw, bodies)
		if derr != nil {
			if bad == nil {
				bad = derr
			}
			return nil
		}
		found[mid] = e
		return nil
	})
	return found, bad, err
}

// PutEmail implements port.Tx.
func (t *txn) PutEmail(ctx context.Context, e *port.Email) error {
	if err := t.writable(); err != nil {
		return err
	}
	t.forgetAhead("e " + e.InteractionID)
	if e.ID == "" || e.InteractionID == "" {
		return fmt.Errorf("%w: email without id or interaction", port.ErrInvalidInput)
	}
	data, bodies, keys, err := encodeEmail(e)
	if err != nil {
		return err
	}
	// Large values go first, uploaded now (see uploads.go); the
	// statements storing them take them from there.
	st, err := t.stage(ctx, e.Raw, bodies, keys)
	if err != nil {
		return err
	}
	// Nothing is read back but the email's row count: the statements
	// wait for the transaction's next round trip (see pipe), and an email
	// id taken by another interaction breaks the transaction then (see
	// pipe.broken), refused by the statement it rode with and at commit.
	st.queueBodies(t.s, t.tx)
	id, owner := e.ID, e.InteractionID
	t.tx.laterCheck("put email", t.s.sql(`INSERT INTO {s}.emails (id, interaction_id, data, raw, blob_keys) VALUES ($1, $2, $3, `+st.rawSQL(4)+`, $5)
		ON CONFLICT (id) DO UPDATE SET data = excluded.data, raw = excluded.raw, blob_keys = excluded.blob_keys
		WHERE emails.interaction_id = excluded.interaction_id`), []any{id, owner, data, st.raw, keys},
		func(br pgx.BatchResults) error {
			tag, err := br.Exec()
			if err == nil && tag.RowsAffected() == 0 {
				t.tx.broken = fmt.Errorf("%w: email %s belongs to another interaction than %s", port.ErrConflict, id, owner)
				err = t.tx.broken
			}
			return err
		})
	st.queueCleanup(t.s, t.tx)
	if r, ok := t.emailsRead[id]; e.MessageID != "" && (!ok || r != (storedEmail{owner, e.MessageID})) {
		// A Message-ID new to this email (inbound answers thread by it):
		// recorded in this transaction. One this transaction read on the
		// email, stored with it, is recorded already (see noteEmails).
		t.tx.later("put email", t.s.sql(`INSERT INTO {s}.message_ids (message_id, email_id)
			SELECT $1, id FROM {s}.emails WHERE id = $2 AND interaction_id = $3
			ON CONFLICT (message_id) DO NOTHING`), e.MessageID, id, owner)
	}
	t.noteEmails([]*port.Email{{ID: id, InteractionID: owner, MessageID: e.MessageID}})
	return nil
}

// storedEmail is what a write transaction knows of an email it read or
// wrote: its interaction and Message-ID.
type storedEmail struct{ owner, messageID string }

// noteEmails records the emails es, read or written by a write
// transaction, so that a write of one of them with the same Message-ID
// does not record it again. Every write of an email with a Message-ID
// records it in message_ids in the same transaction (first one kept),
// and nothing deletes from message_ids: an email read with its
// Message-ID has it recorded.
func (t *txn) noteEmails(es []*port.Email) {
	if t.readOnly {
		return
	}
	if t.emailsRead == nil {
		t.emailsRead = make(map[string]storedEmail, len(es))
	}
	for _, e := range es {
		t.emailsRead[e.ID] = storedEmail{e.InteractionID, e.MessageID}
	}
}

// noteEmail is noteEmails of a single email read.
func (t *txn) noteEmail(e *port.Email, err error) (*port.Email, error) {
	if err == nil {
		t.noteEmails([]*port.Email{e})
	}
	return e, err
}

// ClaimIngest implements port.Tx. A claim racing with another
// process's claim of the same key waits for it to commit or roll back.
func (t *txn) ClaimIngest(ctx context.Context, key, interactionID string) (string, bool, error) {
	if err := t.writable(); err != nil {
		return "", false, err
	}
	tag, err := t.tx.Exec(ctx, t.s.sql(`INSERT INTO {s}.ingest_keys (key, interaction_id) VALUES ($1, $2)
		ON CONFLICT (key) DO NOTHING`), key, interactionID)
	if err != nil {
		return "", false, mapErr("claim ingest", err)
	}
	if tag.RowsAffected() == 1 {
		return interactionID, true, nil
	}
	// A new statement, so a new snapshot: it sees the claim that won.
	var owner string
	err = t.tx.QueryRow(ctx, t.s.sql(`SELECT interaction_id FROM {s}.ingest_keys WHERE key = $1`), key).Scan(&owner)
	if err != nil {
		return "", false, mapErr("claim ingest", err)
	}
	return owner, false, nil
}

// Enqueue implements port.Tx.
func (t *txn) Enqueue(ctx context.Context, o *port.OutboxItem) error {
	if err := t.writable(); err != nil {
		return err
	}
	if o.ID == "" {
		return fmt.Errorf("%w: outbox item without id", port.ErrInvalidInput)
	}
	data, next, err := encodeOutbox(o)
	if err != nil {
		return err
	}
	// Its row count is read from the batch it rides in, with the
	// transaction's next statement (see PutEmail): an id taken breaks the
	// transaction, which then cannot commit.
	id := o.ID
	t.tx.laterCheck("enqueue", t.s.sql(`INSERT INTO {s}.outbox (id, state, next_attempt, data, raw)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING`), []any{id, string(o.State), next, data, o.Raw},
		func(br pgx.BatchResults) error {
			tag, err := br.Exec()
			if err == nil && tag.RowsAffected() == 0 {
				t.tx.broken = fmt.Errorf("%w: outbox item %q exists", port.ErrConflict, id)
				err = t.tx.broken
			}
			return err
		})
	t.holdOutbox(o.ID, o.Raw)
	return nil
}

// heldOutbox is an outbox item's row this transaction holds, with the
// raw message the row has.
type heldOutbox struct{ raw []byte }

// holdOutbox records that this transaction holds outbox item id's row
// (it wrote it, or read it FOR UPDATE), whose raw message is raw: an
// update of it cannot miss it, so it need not wait for its answer, and
// leaves out the raw message when it is unchanged (see UpdateOutbox).
func (t *txn) holdOutbox(id string, raw []byte) {
	if t.outboxHeld == nil {
		t.outboxHeld = map[string]*heldOutbox{}
	}
	// A copy: the caller may change the bytes it was handed in place.
	t.outboxHeld[id] = &heldOutbox{raw: bytes.Clone(raw)}
}

func encodeOutbox(o *port.OutboxItem) ([]byte, time.Time, error) {
	c := o.Clone()
	c.Raw = nil
	normTimes(c)
	data, err := json.Marshal(c)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("postgres: encode outbox item %s: %w", o.ID, err)
	}
	return data, c.NextAttempt, nil
}

func decodeOutbox(data, raw []byte) (*port.OutboxItem, error) {
	o := new(port.OutboxItem)
	if err := json.Unmarshal(data, o); err != nil {
		return nil, fmt.Errorf("postgres: decode outbox item: %w", err)
	}
	o.Raw = raw
	return o, nil
}

// OutboxItem implements port.Tx.
func (t *txn) OutboxItem(ctx context.Context, id string) (*port.OutboxItem, error) {
	if err := t.readable(); err != nil {
		return nil, err
	}
	// In a read-write transaction the item is locked: two dispatchers
	// leasing it take turns, and the second sees the first's lease.
	q := `SELECT data, raw FROM {s}.outbox WHERE id = $1`
	if !t.readOnly {
		q += ` FOR UPDATE`
	}
	var data, raw []byte
	err := t.tx.QueryRow(ctx, t.s.sql(q), id).Scan(&data, &raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("outbox item", id)
	}
	if err != nil {
		return nil, mapErr("outbox item", err)
	}
	if !t.readOnly {
		t.holdOutbox(id, raw)
	}
	return decodeOutbox(data, raw)
}

// UpdateOutbox implements port.Tx.
func (t *txn) UpdateOutbox(ctx context.Context, o *port.OutboxItem) error {
	if err := t.writable(); err != nil {
		return err
	}
	data, next, err := encodeOutbox(o)
	if err != nil {
		return err
	}
	const update = `UPDATE {s}.outbox SET state = $2, next_attempt = $3, data = $4, raw = $5 WHERE id = $1`
	if h := t.outboxHeld[o.ID]; h != nil {
		if (h.raw == nil) == (o.Raw == nil) && bytes.Equal(h.raw, o.Raw) {
			// The message as the row has it (a lease, an outcome: the
			// bytes never change once queued): not sent, compressed and
			// stored again, its stored value kept as it is.
			t.tx.later("update outbox", t.s.sql(`UPDATE {s}.outbox SET state = $2, next_attempt = $3, data = $4 WHERE id = $1`),
				o.ID, string(o.State), next, data)
			return nil
		}
		t.tx.later("update outbox", t.s.sql(update), o.ID, string(o.State), next, data, o.Raw)
		h.raw = bytes.Clone(o.Raw)
		return nil
	}
	tag, err := t.tx.Exec(ctx, t.s.sql(update), o.ID, string(o.State), next, data, o.Raw)
	if err != nil {
		return mapErr("update outbox", err)
	}
	if tag.RowsAffected() == 0 {
		return notFound("outbox item", o.ID)
	}
	return nil
}

// DueOutbox implements port.Tx.
func (t *txn) DueOutbox(ctx context.Context, now time.Time, limit int) ([]*port.OutboxItem, error) {
	if err := t.readable(); err != nil {
		return nil, err
	}
	q := `SELECT data, raw FROM {s}.outbox WHERE state = 'pending' AND next_attempt <= $1
		ORDER BY next_attempt, id`
	args := []any{now}
	if limit > 0 {
		q += ` LIMIT $2`
		args = append(args, limit)
	}
	rows, err := t.tx.Query(ctx, t.s.sql(q), args...)
	if err != nil {
		return nil, mapErr("due outbox", err)
	}
	var out []*port.OutboxItem
	var data, raw []byte
	_, err = pgx.ForEachRow(rows, []any{&data, &raw}, func() error {
		o, err := decodeOutbox(data, raw)
		if err != nil {
			return err
		}
		out = append(out, o)
		return nil
	})
	if err != nil {
		return nil, mapErr("due outbox", err)
	}
	return out, nil
}

// eventPayload holds the typed parts of an event that few events have.
type eventPayload struct {
	Answer   *interaction.Answer `json:",omitempty"`
	Review   *interaction.Round  `json:",omitempty"`
	Deadline *interaction.Firing `json:",omitempty"`
}

// AppendEvent implements port.Tx: Seq comes from an identity column,
// so it increases across processes (with gaps where transactions rolled
// back).
func (t *txn) AppendEvent(ctx context.Context, e *port.Event) error {
	if err := t.writable(); err != nil {
		return err
	}
	// No NOTIFY here: a transaction that notifies holds a lock of the
	// whole database from its NOTIFY through its commit, so that writers
	// would commit one at a time. The store's sequencer, nudged after the
	// commit (see Update), numbers the events and notifies once.
	t.appended = true
	var payload []byte
	if e.Answer != nil || e.Review != nil || e.Deadline != nil {
		var err error
		if payload, err = json.Marshal(eventPayload{Answer: e.Answer, Review: e.Review, Deadline: e.Deadline}); err != nil {
			return fmt.Errorf("postgres: append event: %w", err)
		}
	}
	// Numbers taken ahead serve only the events of the interaction whose
	// read or write took them, of one this transaction creates (nothing
	// of it is committed before), or of none (an agent's): taken under
	// that interaction's version, they come after every event of it
	// committed before, while another interaction's may since have had
	// events with higher numbers committed, which an older number would
	// then follow.
	mine := e.InteractionID == "" || e.InteractionID == t.seqsFor || t.created[e.InteractionID]
	if len(t.seqs) == 0 && t.seqsDue && mine {
		// The last write's numbers ride with its insert, not sent yet:
		// it goes now, as it would have gone by itself.
		if err := t.tx.flush(ctx); err != nil {
			return mapErr("append event", err)
		}
	}
	if len(t.seqs) > 0 && mine {
		// A number taken ahead: the insert's result is not needed, and it
		// waits for COMMIT with the transaction's other events, all in
		// one statement (see pipe.laterEvent).
		seq := t.seqs[0]
		t.seqs = t.seqs[1:]
		var p *string
		if payload != nil {
			v := string(payload)
			p = &v
		}
		t.tx.laterEvent(t.s.sql(eventsSQL), seq, string(e.Type), e.InteractionID, e.Agent, e.Actor, string(e.State), utc(e.At), e.Detail, p)
		e.Seq, t.lastSeq = seq, seq
		return nil
	}
	var seq int64
	err := t.tx.QueryRow(ctx, t.s.sql(`INSERT INTO {s}.events (type, interaction_id, agent, actor, state, at, detail, payload)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING seq`),
		string(e.Type), e.InteractionID, e.Agent, e.Actor, string(e.State), utc(e.At), e.Detail, payload).Scan(&seq)
	if err != nil {
		return mapErr("append event", err)
	}
	// Numbers taken ahead with this statement are lower than seq: unused,
	// so that Seq keeps increasing within the transaction.
	t.seqs, t.seqsDue = nil, false
	e.Seq, t.lastSeq = seq, seq
	return nil
}

// seqsAhead is how many event numbers a write of an interaction takes
// ahead (see takeSeqs): an action writes up to three events about it.
const seqsAhead = 4

// Events implements port.Tx.
func (t *txn) Events(ctx context.Context, after int64, limit int) ([]port.Event, error) {
	if err := t.readable(); err != nil {
		return nil, err
	}
	t.tx.queueEvents() // its own events, which otherwise wait for COMMIT
	q := `SELECT seq, type, interaction_id, agent, actor, state, at, detail, payload FROM {s}.events
		WHERE seq > $1 ORDER BY seq`
	args := []any{after}
	if limit > 0 {
		q += ` LIMIT $2`
		args = append(args, limit)
	}
	rows, err := t.tx.Query(ctx, t.s.sql(q), args...)
	if err != nil {
		return nil, mapErr("events", err)
	}
	var out []port.Event
	var e port.Event
	var typ, state string
	var payload []byte
	_, err = pgx.ForEachRow(rows, []any{&e.Seq, &typ, &e.InteractionID, &e.Agent, &e.Actor, &state, &e.At, &e.Detail, &payload}, func() error {
		e.Type, e.State = port.EventType(typ), interaction.State(state)
		e.At = e.At.UTC()
		e.Answer, e.Review, e.Deadline = nil, nil, nil
		if len(payload) > 0 {
			var v eventPayload
			if err := json.Unmarshal(payload, &v); err != nil {
				return fmt.Errorf("event %d: %w", e.Seq, err)
			}
			e.Answer, e.Review, e.Deadline = v.Answer, v.Review, v.Deadline
		}
		out = append(out, e)
		return nil
	})
	if err != nil {
		return nil, mapErr("events", err)
	}
	return out, nil
}
